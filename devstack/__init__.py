"""``journeys up``: the embedded stack (Temporal dev server, Outbox SMTP server, worker, API) on one
machine, supervised as child processes and stopped together.

Modules, in the order ``up`` uses them: ``ports`` (refuse taken ports), ``parts`` (the command of each
child), ``children`` (start, log, stop a child), ``ready`` (wait until a part answers), ``banner`` (what
to do next), ``supervisor`` (all of it, deploying ``journeys/`` first through ``provision``); ``smtp``
is ``journeys smtp``, the Outbox as a process of its own.
"""
