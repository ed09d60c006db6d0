"""Load and validate the channel policy file, ``journeys/channels.yaml``: every problem positioned
at its line with did-you-mean, like journeys and the loyalty program (``engine.program_file``)."""

from __future__ import annotations

from collections.abc import Iterator

from engine.channels.policy import ChannelPolicy
from engine.channels.schema import ChannelPolicyFile
from engine.program_file import ProgramFile
from engine.validation import FileKind, Problem

POLICY_FILE = "channels.yaml"

CHANNEL_POLICY_FILE = ProgramFile(
    POLICY_FILE,
    FileKind(
        model=ChannelPolicyFile,
        shape="a channel policy file must be a mapping with policy, channels and control_group",
        problems=lambda model: policy_problems(model),
    ),
    ChannelPolicy.of,
)
policy_path = CHANNEL_POLICY_FILE.path_in
validate_policy_text = CHANNEL_POLICY_FILE.validate_text
load_policy = CHANNEL_POLICY_FILE.load
load_policy_in = CHANNEL_POLICY_FILE.load_in


def policy_problems(policy: ChannelPolicyFile) -> Iterator[Problem]:
    """What the model alone cannot see: a day cap above the week's can never be reached."""
    for channel in ("email", "webhook"):
        caps = getattr(policy.channels, channel).caps
        if caps and caps.per_day is not None and caps.per_week is not None and caps.per_day > caps.per_week:
            yield (
                ("channels", channel, "caps", "per_day"),
                f"per_day {caps.per_day} is more than per_week {caps.per_week}: a day can never send it",
            )
