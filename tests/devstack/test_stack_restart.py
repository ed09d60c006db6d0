"""Durability of the embedded stack: a journey waiting on a timer when everything is killed (SIGKILL,
no goodbye) carries on after ``journeys up`` starts again on the same data folder.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.devstack.stack_process import API_KEY, stack_env, start_stack

JOURNEY = """\
journey: timer_test
stage: acquisition
trigger: {event: signed_up}
steps:
  - {id: hello, send: {email: hello}}
  - {id: pause, wait: 15s}
  - {id: again, send: {email: again}}
"""


def write_journeys(folder: Path) -> Path:
    folder.mkdir()
    (folder / "timer_test.yaml").write_text(JOURNEY)
    for name in ("hello", "again"):
        templates = folder / "templates" / name
        templates.mkdir(parents=True)
        (templates / "subject.txt").write_text(f"{name} {{{{ customer.first_name }}}}\n")
        (templates / "body.html").write_text(f"<p>{name} {{{{ customer.first_name }}}}</p>\n")
        (templates / "body.txt").write_text(f"{name}\n")
    return folder


def test_a_timer_started_before_a_kill_fires_after_the_restart(tmp_path: Path) -> None:
    env = stack_env(tmp_path / "data", write_journeys(tmp_path / "journeys"))
    first = start_stack(env, tmp_path / "run1")
    try:
        first.send("signed_up", "grace", {"email": "grace@example.com", "first_name": "Grace"})
        [hello] = first.wait_for_mail(1)
        assert hello.subject == "hello Grace"
        customer = httpx.get(
            f"{first.api}/v1/customers/grace", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ).json()
        [run] = customer["journeys"]
        assert run["current_step"] == "pause"
    finally:
        first.stop(signal.SIGKILL)
    assert len(first.messages()) == 1, "the timer had not fired before the kill"

    restarted_at = datetime.now(UTC)
    second = start_stack(env, tmp_path / "run2")
    try:
        messages = second.wait_for_mail(2, timeout=60)
        assert [m.subject for m in messages] == ["hello Grace", "again Grace"]
        assert messages[1].received_at > restarted_at
        assert (messages[1].received_at - messages[0].received_at).total_seconds() >= 15
    finally:
        assert second.stop() == 0
