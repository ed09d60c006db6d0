"""A ``fail_after`` hook that crashes an activity once, right after its side effect committed."""

from __future__ import annotations


class SimulatedCrash(Exception):
    pass


class FailOnce:
    def __init__(self, activity_name: str) -> None:
        self.activity_name = activity_name
        self.fired = False

    def __call__(self, name: str) -> None:
        if name == self.activity_name and not self.fired:
            self.fired = True
            raise SimulatedCrash(f"worker crashed after {name} committed")
