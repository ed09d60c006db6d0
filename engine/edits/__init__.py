"""Canvas edits of a journey's YAML: insert a step on an edge, delete a step, retarget an edge, set
a step's fields. Each takes the source text and gives the new text, rewritten only where it changes
(comments, key order, quoting, flow or block style and indentation kept: ruamel.yaml's round trip),
validated as ``journeys validate`` does; ``EditRefused`` says what is wrong and where when an edit
cannot be made.

    document.py     the source as a round-trip document: bounded load, comments kept with their steps
    routing.py      the ways out of each step and the writes that keep them going where they went
    values.py       JSON values as YAML in the examples' styles; merging fields into a step
    model.py        edges and operations as data (the API's request)
    operations.py   the four edits, and ``apply`` for an operation

Edges are named as the journey diagram (``api.ui.graph``) names them, ``<step>><target>#<n>`` for
the n-th way out of a step (``wait_profile>profile_bonus#0``) and ``__entry><first step>#0``, or by
``Edge(step=..., way=..., index=...)``.
"""

from engine.edits.document import EditRefused
from engine.edits.model import DeleteStep, Edge, EdgeRef, InsertStep, Operation, RetargetEdge, SetFields
from engine.edits.operations import (
    EditResult,
    apply,
    delete_step,
    fresh_id,
    insert_step,
    retarget_edge,
    set_fields,
    validated,
)
from engine.edits.routing import END, ENTRY

__all__ = [
    "END",
    "ENTRY",
    "DeleteStep",
    "Edge",
    "EdgeRef",
    "EditRefused",
    "EditResult",
    "InsertStep",
    "Operation",
    "RetargetEdge",
    "SetFields",
    "apply",
    "delete_step",
    "fresh_id",
    "insert_step",
    "retarget_edge",
    "set_fields",
    "validated",
]
