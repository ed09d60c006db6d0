"""The restart policy of ``journeys up``: pauses that double, and giving up on a part that keeps crashing."""

from __future__ import annotations

from devstack.restarts import RestartPolicy


def test_each_restart_waits_twice_as_long_up_to_the_longest_pause() -> None:
    policy = RestartPolicy(limit=10, window=1000, first=1, longest=5)
    assert [policy.after_crash(float(t)) for t in range(5)] == [1, 2, 4, 5, 5]


def test_a_part_that_crashes_limit_times_within_the_window_is_given_up_on() -> None:
    policy = RestartPolicy(limit=3, window=60)
    assert policy.after_crash(0) is not None
    assert policy.after_crash(10) is not None
    assert policy.after_crash(20) is None
    assert policy.describe() == "crash 3 of 3 allowed within 60s"


def test_crashes_older_than_the_window_are_forgotten() -> None:
    policy = RestartPolicy(limit=3, window=60, first=1)
    policy.after_crash(0)
    policy.after_crash(10)
    assert policy.after_crash(100) == 1  # the two early crashes are out of the window
