"""A customer id for every story: its own, or one made from its name that lands in the split
variants the story asks for. Resolved once for all stories, before they are split over processes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.plan import Plan, SplitNode
from simulate.story import Story
from workflows.timing import pick_variant

Wanted = tuple[str, str, list[int], int, int]  # journey, step, weights, control percent, variant index


def story_customer_ids(plans: Sequence[Plan], stories: Sequence[Story]) -> list[str]:
    """One unique id per story; two stories with the same id are an error."""
    taken: set[str] = set()
    ids = []
    for story in stories:
        if story.customer_id:
            cid = story.customer_id
        else:
            base = re.sub(r"[^a-z0-9]+", "-", story.name.lower()).strip("-")[:40] or "customer"
            cid = _find_id(plans, base, story.variants, taken)
        if cid in taken:
            raise ValueError(f'two stories use customer id "{cid}"')
        taken.add(cid)
        ids.append(cid)
    return ids


def _find_id(plans: Sequence[Plan], base: str, variants: dict[str, str], taken: set[str]) -> str:
    wanted = [_variant_index(plans, step, name) for step, name in variants.items()]
    for n in range(1, 100_000):
        candidate = f"{base}-{n}"
        if candidate in taken:
            continue
        if all(pick_variant(j, s, candidate, w, c) == i for j, s, w, c, i in wanted):
            return candidate
    raise ValueError(f"no customer id lands in the variants {variants}")


def _variant_index(plans: Sequence[Plan], step: str, name: str) -> Wanted:
    for plan in plans:
        for node in plan.nodes:
            if isinstance(node, SplitNode) and node.id == step:
                names = [v.name for v in node.variants]
                if name != "control" and name not in names:
                    raise ValueError(f'split "{step}" has no variant "{name}" (it has {", ".join(names)})')
                index = -1 if name == "control" else names.index(name)
                return plan.journey, step, [v.weight for v in node.variants], node.control_percent, index
    raise ValueError(f'no split step "{step}" in the deployed journeys')
