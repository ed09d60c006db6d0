"""Fixtures the activity tests share: the journey activities over the test store, closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from activities.journey_activities import JourneyActivities
from config.settings import Settings
from store import Store
from tests.support import RecordingEventSink


@pytest.fixture
async def activities(
    store: Store, settings: Settings, event_sink: RecordingEventSink
) -> AsyncIterator[JourneyActivities]:
    activities = JourneyActivities(store, settings, event_sink)
    yield activities
    await activities.close()
