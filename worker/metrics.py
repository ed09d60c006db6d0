"""What the worker tells Prometheus: activities by kind and outcome, retries, sends by channel and
outcome, SMTP failures — beside the SDK's own metrics (workflow task latency among them), all on the
worker's own port (``JOURNEYS_WORKER_METRICS_PORT``).

Counters are made through the SDK's metric meter, so they share the SDK's Prometheus endpoint; with
no metrics configured (tests, simulations) the meter does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from contracts.activities import DeliveryResult

SEND_ACTIVITIES = {"send_email": "email", "send_webhook": "webhook"}


def process_runtime(metrics_address: str | None) -> Runtime:
    """The SDK runtime of a long-running process (worker, API): Prometheus on ``metrics_address``
    (``host:port``, None for none), and the SDK core's own log lines forwarded into Python logging,
    so they come out as our JSON lines with their level instead of the core's own format."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=PrometheusConfig(bind_address=metrics_address) if metrics_address else None,
        )
    )


class MetricsInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountingActivities(next)


def _outcome(exc: BaseException) -> str:
    permanent = isinstance(exc, ApplicationError) and exc.non_retryable
    return "failed" if permanent else "retrying"


class _CountingActivities(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        meter = activity.metric_meter()
        attributes = {"activity": info.activity_type}
        if info.attempt > 1:
            meter.create_counter(
                "journeys_activity_retries", "activity attempts after the first, by activity"
            ).add(1, attributes)
        try:
            result = await self.next.execute_activity(input)
        except BaseException as exc:
            outcome = _outcome(exc)
            meter.create_counter("journeys_activities", "activities run, by activity and outcome").add(
                1, {**attributes, "outcome": outcome}
            )
            if info.activity_type == "send_email" and outcome == "retrying":
                meter.create_counter(
                    "journeys_smtp_failures", "email sends that failed and will be retried (SMTP trouble)"
                ).add(1)
            channel = SEND_ACTIVITIES.get(info.activity_type)
            if channel is not None:
                _count_send(channel, outcome)
            raise
        meter.create_counter("journeys_activities", "activities run, by activity and outcome").add(
            1, {**attributes, "outcome": "completed"}
        )
        if isinstance(result, DeliveryResult):
            _count_send(result.channel, result.status)
        return result


def _count_send(channel: str, outcome: str) -> None:
    activity.metric_meter().create_counter("journeys_sends", "sends, by channel and outcome").add(
        1, {"channel": channel, "outcome": outcome}
    )
