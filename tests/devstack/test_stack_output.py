"""The one log stream of ``journeys up``: prefixed readable lines on a terminal, JSON lines otherwise."""

from __future__ import annotations

import io
import json

from devstack.output import Output

WORKER_LINE = json.dumps(
    {
        "time": "2026-01-02T03:04:05+0000",
        "level": "info",
        "logger": "journeys.worker",
        "message": "sent",
        "customer_id": "ada",
    }
)


def test_a_terminal_gets_one_prefixed_readable_line_per_record() -> None:
    stream = io.StringIO()
    output = Output(stream, tty=True)
    output.emit("worker", WORKER_LINE)
    output.emit("temporal", "Temporal Server:      localhost:7233")
    assert stream.getvalue().splitlines() == [
        "[worker] 03:04:05 INFO journeys.worker: sent customer_id=ada",
        "[temporal] Temporal Server:      localhost:7233",
    ]


def test_a_pipe_gets_json_lines_naming_the_part() -> None:
    stream = io.StringIO()
    output = Output(stream, tty=False)
    output.emit("worker", WORKER_LINE)
    output.emit("temporal", "plain text")
    worker, temporal = (json.loads(line) for line in stream.getvalue().splitlines())
    assert worker["part"] == "worker" and worker["customer_id"] == "ada" and worker["message"] == "sent"
    assert temporal["part"] == "temporal" and temporal["message"] == "plain text"
