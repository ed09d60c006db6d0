"""``engine.validation``: a new kind of file (here a small channels file) gets every step journeys and
the loyalty program get, from its model alone: positions, repeated keys, did-you-mean, its own checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from engine.validation import FileKind, Problem, validate_source


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["email", "webhook"]
    limit_per_day: int = 0


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: dict[str, Channel]
    default: str


def default_is_a_channel(model: ChannelsFile) -> list[Problem]:
    if model.default in model.channels:
        return []
    return [(("default",), f'there is no channel "{model.default}"')]


CHANNELS = FileKind(
    model=ChannelsFile,
    shape="a channels file must be a mapping with channels and default",
    problems=default_is_a_channel,
)


def messages(text: str) -> list[str]:
    model, errors = validate_source(text, "channels.yaml", CHANNELS)
    assert model is None
    return [str(error) for error in errors]


def test_a_valid_file_gives_its_model() -> None:
    model, errors = validate_source("channels:\n  mail: {kind: email}\ndefault: mail\n", "c.yaml", CHANNELS)
    assert errors == [] and model is not None and model.channels["mail"].kind == "email"


def test_an_unknown_nested_key_is_placed_with_a_suggestion_from_the_model() -> None:
    text = "channels:\n  mail:\n    kind: email\n    limit_per_dya: 3\ndefault: mail\n"
    assert messages(text) == [
        'channels.yaml:4:5 channels.mail.limit_per_dya: unknown key "limit_per_dya"; '
        'did you mean "limit_per_day"?'
    ]


def test_a_repeated_key_a_missing_key_and_the_kinds_own_check_are_each_positioned() -> None:
    assert sorted(messages("channels:\n  mail: {kind: email}\n  mail: {kind: fax}\n")) == [
        'channels.yaml:1:1 default: "default" is required',
        "channels.yaml:3:16 channels.mail.kind: Input should be 'email' or 'webhook' (got 'fax')",
        'channels.yaml:3:3 channels.mail: key "mail" is written twice; the second would win',
    ]
    assert messages("channels:\n  mail: {kind: email}\ndefault: sms\n") == [
        'channels.yaml:3:10 default: there is no channel "sms"'
    ]


def test_a_file_that_is_not_a_mapping_says_what_it_must_be() -> None:
    assert messages("- channels\n") == [
        "channels.yaml:1:1 a channels file must be a mapping with channels and default"
    ]
