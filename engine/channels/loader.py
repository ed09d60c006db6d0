"""Load and validate the channel policy file, ``journeys/channels.yaml``: every problem positioned
at its line with did-you-mean, like journeys and the loyalty program."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from engine.channels.policy import ChannelPolicy
from engine.channels.schema import ChannelPolicyFile
from engine.errors import JourneyError, JourneyValidationError
from engine.validation import FileKind, Problem, read_source, validate_source

POLICY_FILE = "channels.yaml"


def policy_path(journeys_dir: Path) -> Path:
    return journeys_dir / POLICY_FILE


_POLICY_FILE_KIND = FileKind(
    model=ChannelPolicyFile,
    shape="a channel policy file must be a mapping with policy, channels and control_group",
    problems=lambda model: policy_problems(model),
)


def validate_policy_text(text: str, file: str) -> tuple[ChannelPolicy | None, list[JourneyError]]:
    """Every problem of a policy text, each positioned; the policy when there are none."""
    model, errors = validate_source(text, file, _POLICY_FILE_KIND)
    return (None if model is None else ChannelPolicy.of(model)), errors


def load_policy(path: Path) -> ChannelPolicy:
    """The policy in ``path``; raises ``JourneyValidationError`` listing every problem (also for a
    file too large or not text)."""
    policy, errors = validate_policy_text(read_source(path, str(path)), str(path))
    if policy is None:
        raise JourneyValidationError(errors)
    return policy


def load_policy_in(journeys_dir: Path) -> ChannelPolicy | None:
    """The policy of a journeys folder, or None when it has no ``channels.yaml``."""
    path = policy_path(journeys_dir)
    return load_policy(path) if path.is_file() else None


def policy_problems(policy: ChannelPolicyFile) -> Iterator[Problem]:
    """What the model alone cannot see: a day cap above the week's can never be reached."""
    for channel in ("email", "webhook"):
        caps = getattr(policy.channels, channel).caps
        if caps and caps.per_day is not None and caps.per_week is not None and caps.per_day > caps.per_week:
            yield (
                ("channels", channel, "caps", "per_day"),
                f"per_day {caps.per_day} is more than per_week {caps.per_week}: a day can never send it",
            )
