"""What a run's history holds, by kind: the markers recorded and the activities scheduled."""

from __future__ import annotations

from temporalio.client import WorkflowHistory


def marker_names(history: WorkflowHistory) -> list[str]:
    """Each marker's name in order: ``core_patch`` (a patch asked), ``core_local_activity``, …"""
    return [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]


def scheduled_activities(history: WorkflowHistory) -> list[str]:
    """The activity type of each activity scheduled, in order (local activities are markers)."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
