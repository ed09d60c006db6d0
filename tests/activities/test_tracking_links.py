"""Link tracking at render: which links go through the redirect, their numbers, the pixel, and
tokens that name one link of one message and nothing else."""

from __future__ import annotations

import re

import pytest

from activities.tracking_links import MAX_URL_LENGTH, track
from activities.tracking_tokens import (
    MAX_LINKS,
    MAX_TOKEN_LENGTH,
    Click,
    click_token,
    message_ref,
    open_token,
    verify_click,
    verify_open,
)
from engine.templates import RenderedEmail

SECRET = "a-secret-of-at-least-16-chars"
BASE = "https://journeys.test"
UNSUBSCRIBE = "https://journeys.test/unsubscribe/abc.def"
MESSAGE = message_ref("journey/cust/entry/welcome/1")


def tracked(html: str, text: str = "") -> tuple[str, str, list[str]]:
    email = track(
        RenderedEmail("Hi", html, text),
        message=MESSAGE,
        base_url=BASE + "/",
        secret=SECRET,
        keep={UNSUBSCRIBE},
    )
    return email.rendered.html, email.rendered.text, email.links


def click_links(text: str) -> list[Click]:
    found = []
    for token in re.findall(rf"{re.escape(BASE)}/t/c/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", text):
        click = verify_click(token, SECRET)
        assert click is not None, token
        found.append(click)
    return found


def test_links_of_both_parts_are_numbered_once_each_and_kept_by_number() -> None:
    html = (
        '<html><body><p><a class="big" href="https://shop.example/sale?c=7&amp;u=1">Sale</a></p>\n'
        "<p><A HREF='https://shop.example/help'>Help</A> and <a href=https://shop.example/sale?c=7&amp;u=1>"
        "again</a></p></body></html>"
    )
    text = "Sale: https://shop.example/sale?c=7&u=1. Other (https://other.example/x), Help https://shop.example/help"
    out_html, out_text, links = tracked(html, text)

    assert links == [
        "https://shop.example/sale?c=7&u=1",
        "https://shop.example/help",
        "https://other.example/x",
    ]
    assert [c.link for c in click_links(out_html)] == [0, 1, 0]
    assert [c.link for c in click_links(out_text)] == [0, 2, 1]
    assert {c.message for c in click_links(out_html + out_text)} == {MESSAGE}
    assert "shop.example" not in out_html and "shop.example" not in out_text
    assert (
        out_text.startswith("Sale: https://journeys.test/t/c/") and ". Other (" in out_text
    )  # punctuation kept
    assert 'class="big" href="https://journeys.test/t/c/' in out_html  # other attributes as written


def test_the_open_pixel_goes_before_the_end_of_the_body() -> None:
    out_html, _, _ = tracked("<html><body><p>Hi</p></BODY></html>")
    before, pixel = out_html.split("<img ", 1)
    assert before == "<html><body><p>Hi</p>"
    src = pixel.split('src="', 1)[1].split('"', 1)[0]
    assert src.startswith(f"{BASE}/t/o/")
    assert verify_open(src.rsplit("/", 1)[1], SECRET) == MESSAGE
    assert pixel.endswith("</BODY></html>") and 'width="1" height="1"' in pixel
    assert tracked("<p>no body tag</p>")[0].startswith("<p>no body tag</p><img ")


def test_links_that_stay_as_written() -> None:
    long_url = "https://shop.example/" + "x" * MAX_URL_LENGTH
    html = (
        f'<a href="{UNSUBSCRIBE}">Unsubscribe</a> <a href="mailto:help@shop.example">Mail</a> '
        f'<a href="#top">Top</a> <a href="/relative">Rel</a> <a href="{long_url}">Long</a> '
        '<a data-href="https://data.example" title=" href=https://title.example">No href</a> '
        '<!-- <a href="https://comment.example"> --> '
        "<script>var a = '<a href=\"https://script.example\">';</script> "
        '<img src="https://cdn.example/logo.png"> <a href>empty</a>'
        f'<a href="{BASE}/t/c/already.tracked">Tracked</a>'
    )
    out_html, out_text, links = tracked(html, f"Unsubscribe: {UNSUBSCRIBE}\nftp://files.example")
    assert links == []
    assert out_html.split('<img src="https://journeys.test/t/o/', 1)[0] == html
    assert out_text == f"Unsubscribe: {UNSUBSCRIBE}\nftp://files.example"


def test_the_first_href_of_a_tag_is_the_one_tracked() -> None:
    out_html, _, links = tracked(
        '<a title=" href=https://fake.example" href="https://real.example" href="https://second.example">x</a>'
    )
    assert links == ["https://real.example"]
    assert 'title=" href=https://fake.example"' in out_html and "second.example" in out_html


def test_at_most_max_links_are_tracked() -> None:
    html = "".join(f'<a href="https://shop.example/{n}">{n}</a>' for n in range(MAX_LINKS + 5))
    out_html, _, links = tracked(html)
    assert len(links) == MAX_LINKS
    assert f'href="https://shop.example/{MAX_LINKS}"' in out_html  # the rest as written
    assert 'href="https://shop.example/0"' not in out_html


def test_a_click_token_binds_its_message_and_link() -> None:
    other = message_ref("journey/other/entry/welcome/1")
    token = click_token(MESSAGE, 3, SECRET)
    assert verify_click(token, SECRET) == Click(MESSAGE, 3)
    assert len(token) <= MAX_TOKEN_LENGTH and all(c.isalnum() or c in "-_." for c in token)
    payload, signature = token.split(".")
    assert verify_click(f"{click_token(MESSAGE, 4, SECRET).split('.')[0]}.{signature}", SECRET) is None
    assert verify_click(f"{click_token(other, 3, SECRET).split('.')[0]}.{signature}", SECRET) is None
    assert verify_click(token, "another-secret-0123456789") is None
    assert verify_open(token, SECRET) is None  # a click token is no open token
    assert verify_click(open_token(MESSAGE, SECRET), SECRET) is None  # nor the other way round
    for garbage in [
        "",
        ".",
        "abc",
        f"{payload}.",
        f".{signature}",
        f"{payload}=.{signature}",
        token + "A",
        "é" * 10,
    ]:
        assert verify_click(garbage, SECRET) is None, garbage
    assert verify_click(token + "A" * MAX_TOKEN_LENGTH, SECRET) is None


@pytest.mark.parametrize("link", [-1, MAX_LINKS])
def test_link_numbers_outside_the_range_are_refused(link: int) -> None:
    with pytest.raises(ValueError):
        click_token(MESSAGE, link, SECRET)
