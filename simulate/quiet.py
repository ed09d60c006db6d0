"""Keep Temporal's own log lines (server capability warnings) out of command output."""

from __future__ import annotations

from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

_done = False


def quiet_temporal() -> None:
    global _done
    if _done:
        return
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )
    try:
        Runtime.set_default(runtime, error_if_already_set=True)
    except RuntimeError:
        pass  # a runtime is already in use; leave it as it is
    _done = True
