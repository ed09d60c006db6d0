"""Link tracking at render: every ``http(s)`` link of an email goes through ``{base}/t/c/{token}``
and the HTML gets a 1x1 open pixel ``{base}/t/o/{token}``.

Links are numbered in the order they first appear (the HTML's ``<a href>`` and ``<area href>``, then
the text part's bare URLs); one URL keeps one number in both parts. The original URLs are returned
by number, for the store: the redirect reads its target there, never from the request. Links that
are kept as they are: the unsubscribe link (and any other in ``keep``), links over ``MAX_URL_LENGTH``,
links past the ``MAX_LINKS``-th, and anything that is not ``http``/``https`` (``mailto:``, ``#top``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

from activities.tracking_tokens import MAX_LINKS, click_token, message_ref, open_token
from config.settings import Settings
from contracts.activities import SendEmailRequest
from engine.templates import RenderedEmail
from store.engagement import TrackedMessage

MAX_URL_LENGTH = 2048
LINK_TAGS = ("a", "area")
# A start tag read attribute by attribute (so an "href" inside another attribute's value is not one):
# the tag's name, then each attribute's name and, after "=", its value quoted either way or bare.
_TAG_NAME = re.compile(r"<[^\s/>]+")
_ATTRIBUTE = re.compile(r"""[\s/]*([^\s/>"'=]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]*))?""")
# A bare URL in plain text; trailing punctuation is taken off afterwards.
_TEXT_URL = re.compile(r"""https?://[^\s<>"'\x00-\x1f\x7f]+""", re.IGNORECASE)
_TRAILING = ".,;:!?"
_CLOSING = {")": "(", "]": "[", "}": "{"}
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class TrackedEmail:
    rendered: RenderedEmail  # as it goes out: links rewritten, the pixel in the HTML
    links: list[str]  # the original URL of each link, by its number


class _Links:
    """The numbering of one message's links and the URL each one's number redirects to."""

    def __init__(self, message: str, base_url: str, secret: str, keep: Collection[str]) -> None:
        self._message, self._secret, self._keep = message, secret, keep
        self._prefix = f"{base_url.rstrip('/')}/t/"
        self.urls: list[str] = []
        self._numbers: dict[str, int] = {}

    def tracked(self, url: str) -> str | None:
        """The tracking URL for ``url``, or None when the link stays as it is."""
        if (
            not url.lower().startswith(("http://", "https://"))
            or len(url) > MAX_URL_LENGTH
            or url in self._keep
            or url.startswith(self._prefix)
        ):
            return None
        number = self._numbers.get(url)
        if number is None:
            if len(self.urls) >= MAX_LINKS:
                return None
            number = self._numbers[url] = len(self.urls)
            self.urls.append(url)
        return f"{self._prefix}c/{click_token(self._message, number, self._secret)}"

    def pixel(self) -> str:
        return f"{self._prefix}o/{open_token(self._message, self._secret)}"


class _StartTags(HTMLParser):
    """Where each link tag starts in the document, and its text as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str]] = []  # line (1-based), column, the tag's text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text = self.get_starttag_text()
        if tag in LINK_TAGS and text is not None:
            line, column = self.getpos()
            self.found.append((line, column, text))

    handle_startendtag = handle_starttag


def _rewrite_html(html: str, links: _Links) -> str:
    parser = _StartTags()
    parser.feed(html)
    parser.close()
    line_starts = [0] + [match.end() for match in re.finditer("\n", html)]
    pieces: list[str] = []
    done = 0
    for line, column, text in parser.found:
        start = line_starts[line - 1] + column
        if html.startswith(text, start):
            pieces += [html[done:start], _rewrite_tag(text, links)]
            done = start + len(text)
    pieces.append(html[done:])
    return "".join(pieces)


def _rewrite_tag(tag: str, links: _Links) -> str:
    """The tag with its first ``href`` (the one browsers follow) through the redirect."""
    name = _TAG_NAME.match(tag)
    position = name.end() if name else len(tag)
    while (attribute := _ATTRIBUTE.match(tag, position)) is not None and attribute.end() > position:
        position = attribute.end()
        if attribute.group(1).lower() != "href":
            continue
        value = attribute.group(3)
        if value is None:
            return tag
        url = unescape(value[1:-1] if value[:1] in "\"'" else value).strip()
        tracked = links.tracked(url)
        if tracked is None:
            return tag
        return f'{tag[: attribute.start(3)]}"{tracked}"{tag[attribute.end(3) :]}'
    return tag


def _rewrite_text(text: str, links: _Links) -> str:
    def replace(match: re.Match[str]) -> str:
        url, rest = _trimmed(match.group(0))
        tracked = links.tracked(url)
        return match.group(0) if tracked is None else tracked + rest

    return _TEXT_URL.sub(replace, text)


def _trimmed(found: str) -> tuple[str, str]:
    """A URL without the punctuation that ends the sentence around it: (url, what was cut)."""
    url = found
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSING and url.count(_CLOSING[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url, found[len(url) :]


def _with_pixel(html: str, src: str) -> str:
    style = "display:block;border:0;width:1px;height:1px"
    pixel = f'<img src="{src}" width="1" height="1" alt="" style="{style}">'
    ends = list(_BODY_END.finditer(html))
    if not ends:
        return html + pixel
    at = ends[-1].start()
    return html[:at] + pixel + html[at:]


def track(
    rendered: RenderedEmail, *, message: str, base_url: str, secret: str, keep: Collection[str] = ()
) -> TrackedEmail:
    """``rendered`` with its links through the click redirect and an open pixel, for message
    ``message`` (``activities.tracking_tokens.message_ref``); ``keep``: URLs left as they are."""
    links = _Links(message, base_url, secret, keep)
    html = _with_pixel(_rewrite_html(rendered.html, links), links.pixel())
    text = _rewrite_text(rendered.text, links)
    return TrackedEmail(RenderedEmail(subject=rendered.subject, html=html, text=text), links.urls)


def tracked_send(
    req: SendEmailRequest, rendered: RenderedEmail, settings: Settings, *, keep: Collection[str]
) -> tuple[RenderedEmail, TrackedMessage]:
    """The email of ``req`` as it goes out with tracking, and what the store keeps of it: its links,
    and the split variants the run was given (``data.variants``, as the workflow notes them)."""
    ref = message_ref(req.key)
    base, secret = settings.public_base_url, settings.unsubscribe_secret
    tracked = track(rendered, message=ref, base_url=base, secret=secret, keep=keep)
    given = req.data.get("variants")
    variants = (
        {str(split): str(name) for split, name in given.items() if isinstance(name, str)}
        if isinstance(given, dict)
        else {}
    )
    message = TrackedMessage(
        message=ref,
        key=req.key,
        customer_id=req.customer_id,
        journey=req.journey,
        version=req.version,
        step=req.step,
        at=req.at,
        links=tracked.links,
        variants=variants,
    )
    return tracked.rendered, message
