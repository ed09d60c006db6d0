"""Unsubscribe tokens: only the secret's holder can make one; a token names one customer."""

from __future__ import annotations

import pytest

from activities.unsubscribe_tokens import make_token, unsubscribe_url, verify_token
from config.settings import Settings

SECRET = "a-secret-of-at-least-16-chars"


@pytest.mark.parametrize("customer_id", ["cust-42", "ümlaut/with spaces?&", "x" * 200])
def test_a_token_round_trips_and_is_url_safe(customer_id: str) -> None:
    token = make_token(customer_id, SECRET)
    assert verify_token(token, SECRET) == customer_id
    assert all(c.isalnum() or c in "-_." for c in token)
    assert make_token(customer_id, SECRET) == token  # stable: old emails keep working


def test_forged_or_damaged_tokens_are_refused() -> None:
    token = make_token("cust-42", SECRET)
    encoded_id, signature = token.split(".")
    other_id = make_token("cust-43", SECRET).split(".")[0]
    assert verify_token(token, "another-secret-0123456789") is None
    assert verify_token(f"{other_id}.{signature}", SECRET) is None  # swap the customer
    assert verify_token(f"{encoded_id}.{signature[:-2]}", SECRET) is None
    for garbage in ["", ".", "abc", "abc.", ".abc", "!!!.???", token + "x"]:
        assert verify_token(garbage, SECRET) is None


def test_only_the_canonical_spelling_of_a_token_is_accepted() -> None:
    token = make_token("cust-42", SECRET)
    encoded_id, signature = token.split(".")
    for other_spelling in [
        f"{encoded_id}=.{signature}",  # padding base64 decoding would ignore
        f"{encoded_id}.{signature}==",
        f"{encoded_id[:2]}!{encoded_id[2:]}.{signature}",  # a character outside the alphabet
        f"{encoded_id}.{signature[:5]}*{signature[5:]}",
        f" {token}",
    ]:
        assert verify_token(other_spelling, SECRET) is None, other_spelling
    assert verify_token(token, SECRET) == "cust-42"


def test_unsubscribe_url_uses_the_public_base_url() -> None:
    settings = Settings(
        _env_file=None, public_base_url="https://mail.example.com/", unsubscribe_secret=SECRET
    )
    url = unsubscribe_url("cust-42", settings)
    assert url.startswith("https://mail.example.com/unsubscribe/")
    assert verify_token(url.rsplit("/", 1)[1], SECRET) == "cust-42"
