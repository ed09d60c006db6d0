"""Helpers the test suites share: free ports, a recording event sink, a webhook receiver."""

from tests.support.events import RecordingEventSink
from tests.support.failures import FailOnce
from tests.support.ports import free_port
from tests.support.webhook_receiver import ReceivedRequest, WebhookReceiver

__all__ = ["FailOnce", "ReceivedRequest", "RecordingEventSink", "WebhookReceiver", "free_port"]
