"""Frequency caps in the store, on SQLite and PostgreSQL: a slot per period or none, concurrent
sends for the last slot (exactly one gets it), a retry of the same key counting once, slots given
back by a send that failed for good; and the policy file deployed by version, one active."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from engine.channels.loader import validate_policy_text
from engine.channels.policy import ChannelPolicy
from store import Store
from store.frequency_caps import Slot, counts, give_back, take_slots

AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
DAY, WEEK = Slot("day:2026-12-02", 1), Slot("week:2026-W49", 2)


def policy(text: str) -> ChannelPolicy:
    found, errors = validate_policy_text(text, "channels.yaml")
    assert found is not None, errors
    return found


async def test_each_send_takes_a_slot_until_a_period_is_full(store: Store) -> None:
    week = [WEEK]
    assert await take_slots(store.engine, "k1", "ada", "email", week, AT) is None
    assert await take_slots(store.engine, "k2", "ada", "email", week, AT) is None
    assert await take_slots(store.engine, "k3", "ada", "email", week, AT) == 0
    assert await counts(store.engine, "ada", "email") == {"week:2026-W49": 2}
    # Another customer, another channel: counters of their own.
    assert await take_slots(store.engine, "k4", "bo", "email", week, AT) is None
    assert await take_slots(store.engine, "k5", "ada", "webhook", week, AT) is None


async def test_a_full_period_takes_no_slot_in_the_others(store: Store) -> None:
    assert await take_slots(store.engine, "k1", "ada", "email", [DAY, WEEK], AT) is None
    # The day is full: the second send is refused by the day (index 0) and the week keeps 1.
    assert await take_slots(store.engine, "k2", "ada", "email", [DAY, WEEK], AT) == 0
    assert await counts(store.engine, "ada", "email") == {"day:2026-12-02": 1, "week:2026-W49": 1}
    # The next day has room, the week one slot: that send fills the week.
    next_day = Slot("day:2026-12-03", 1)
    assert await take_slots(store.engine, "k3", "ada", "email", [next_day, WEEK], AT) is None
    assert await take_slots(store.engine, "k4", "ada", "email", [Slot("day:2026-12-04", 1), WEEK], AT) == 1
    assert await counts(store.engine, "ada", "email") == {
        "day:2026-12-02": 1,
        "day:2026-12-03": 1,
        "week:2026-W49": 2,
    }


async def test_a_retry_of_the_same_key_counts_once(store: Store) -> None:
    for _ in range(3):
        assert await take_slots(store.engine, "same", "ada", "email", [WEEK], AT) is None
    assert await counts(store.engine, "ada", "email") == {"week:2026-W49": 1}


async def test_sends_racing_for_the_last_slot_one_goes(store: Store) -> None:
    assert await take_slots(store.engine, "first", "ada", "email", [WEEK], AT) is None
    racing = await asyncio.gather(
        *(take_slots(store.engine, f"race-{n}", "ada", "email", [WEEK], AT) for n in range(8))
    )
    assert sorted(racing, key=str) == [0] * 7 + [None]
    assert await counts(store.engine, "ada", "email") == {"week:2026-W49": 2}


async def test_the_same_key_racing_itself_counts_once(store: Store) -> None:
    same = [take_slots(store.engine, "one", "ada", "email", [WEEK], AT) for _ in range(6)]
    racing = await asyncio.gather(*same)
    assert racing == [None] * 6
    assert await counts(store.engine, "ada", "email") == {"week:2026-W49": 1}


async def test_a_send_that_failed_for_good_gives_its_slots_back(store: Store) -> None:
    assert await take_slots(store.engine, "k1", "ada", "email", [DAY, WEEK], AT) is None
    await give_back(store.engine, "k1")
    await give_back(store.engine, "k1")  # twice: nothing more to give
    assert await counts(store.engine, "ada", "email") == {"day:2026-12-02": 0, "week:2026-W49": 0}
    assert await take_slots(store.engine, "k2", "ada", "email", [DAY, WEEK], AT) is None


async def test_the_policy_is_deployed_by_version_one_active(store: Store) -> None:
    assert await store.channel_policies.active() is None
    texts = [f"policy: main\ncontrol_group: {{percent: {n}, salt: a}}\n" for n in (5, 10)]
    first, second = policy(texts[0]), policy(texts[1])
    assert await store.channel_policies.deploy(first, texts[0])
    assert not await store.channel_policies.deploy(first, texts[0])
    assert await store.channel_policies.deploy(second, texts[1])
    active = await store.channel_policies.active()
    assert active is not None and active.version == second.version
    versions = await store.channel_policies.versions()
    assert [(v.version, v.active) for v in versions] == [(second.version, True), (first.version, False)]
    again = await store.channel_policies.get(first.version)
    assert again is not None and again.source.control_group is not None
    assert again.source.control_group.percent == 5
    assert await store.channel_policies.get("no-such-version") is None


async def test_erasing_a_customer_erases_their_counters(store: Store) -> None:
    await store.customers.upsert("ada", {"email": "ada@example.com"})
    assert await take_slots(store.engine, "journey/a/ada/e/mail/1", "ada", "email", [DAY, WEEK], AT) is None
    assert await take_slots(store.engine, "journey/a/bo/e/mail/1", "bo", "email", [WEEK], AT) is None
    assert await store.customers.forget("ada")
    assert await counts(store.engine, "ada", "email") == {}
    assert await counts(store.engine, "bo", "email") == {"week:2026-W49": 1}
    # Nothing of theirs is held any more: the same key would count anew.
    assert await take_slots(store.engine, "journey/a/ada/e/mail/1", "ada", "email", [WEEK], AT) is None
    assert await counts(store.engine, "ada", "email") == {"week:2026-W49": 1}
