"""Lone surrogates and control characters in the editor's template tabs, over HTTP: check, save and
preview answer with the file, line and column of the character (never a 500), and a template that
makes one while rendering (``{{ '\\ud800' }}``, ``{{ '\\x00' }}``) is a template that does not render.

Against a copy of the journeys folder: a save that went wrong must not write into the repository's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from simulate.sandbox import Sandbox
from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, http_client
from tests.support.ui_session import sign_in

ONBOARDING = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
RULE = "a template may hold no lone surrogate, and no control character but tab and line breaks"
# Raw characters in the text, sent as JSON escapes ("\ud800", "\u0000"): what a hostile client posts.
RAW = [
    ("Welcome\n\ud800", "lone surrogate U+D800 at line 2, column 1"),
    ("Welcome \x00", "control character U+0000 (NUL) at line 1, column 9"),
    ("We\x1b[31mlcome", "control character U+001B at line 1, column 3"),
]
# Jinja string escapes: the source is plain ASCII; the character appears only when it renders.
RENDERED = [
    (
        "Hi {{ '\\ud800' }}",
        "welcome/subject.txt",
        "lone surrogate U+D800 at line 1, column 4",
        "an email subject",
    ),
    (
        "Hi {{ '\\x00' }}",
        "welcome/subject.txt",
        "control character U+0000 (NUL) at line 1, column 4",
        "an email subject",
    ),
    (
        "Hi {{ '\\x07' }}",
        "welcome/subject.txt",
        "control character U+0007 at line 1, column 4",
        "an email subject",
    ),
]


@pytest_asyncio.fixture(loop_scope="session")
async def editor(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    """A signed-in editor (the CSRF header set) on an API whose journeys folder is a copy."""
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder)
    settings = sandbox.settings.model_copy(update={"journeys_dir": folder, "ui_edit": True})
    app: FastAPI = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    async with app.router.lifespan_context(app), http_client(app) as browser:
        token = await sign_in(browser, EDITOR_KEY)
        browser.headers["X-CSRF-Token"] = token
        yield browser, folder


def posted(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as a hostile client sends it: JSON with ``\\uXXXX`` escapes, lone surrogates too."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


async def problems(
    browser: httpx.AsyncClient, templates: dict[str, str], source: str = ONBOARDING
) -> list[tuple[str, str | None]]:
    """The message of each problem of the check, with the editor tab it is shown in."""
    answer = await browser.post(
        "/ui/journeys/onboarding/check", **posted({"source": source, "templates": templates})
    )
    assert answer.status_code == 200, answer.text
    checked = answer.json()
    assert checked["valid"] is False
    return [(problem["message"], problem["template"]) for problem in checked["problems"]]


@pytest.mark.parametrize(("text", "where"), RAW)
async def test_check_refuses_an_edited_template_holding_an_unusable_character_where_it_is(
    editor: tuple[httpx.AsyncClient, Path], text: str, where: str
) -> None:
    browser, _ = editor
    assert await problems(browser, {"welcome/subject.txt": text}) == [
        (f"welcome/subject.txt holds {where} ({RULE})", "welcome")
    ]
    assert await problems(browser, {"_layout.html": text}) == [
        (f"_layout.html holds {where} ({RULE})", "_shared")
    ]


async def test_check_quotes_a_file_name_holding_a_lone_surrogate_as_an_escape(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    [(message, _)] = await problems(browser, {"welcome/\ud800.txt": "Hi"})
    assert message.startswith('"welcome/\\ud800.txt" is not a template file (')


@pytest.mark.parametrize(("text", "file", "where", "carrier"), RENDERED)
async def test_check_refuses_a_template_that_renders_an_unusable_character(
    editor: tuple[httpx.AsyncClient, Path], text: str, file: str, where: str, carrier: str
) -> None:
    browser, _ = editor
    assert await problems(browser, {file: text}) == [
        (
            f'template "welcome" does not render: {file} renders {where} of its output, which {carrier} '
            "(a header) cannot carry",
            "welcome",
        )
    ]


async def test_check_refuses_a_body_that_renders_a_lone_surrogate_or_nul_but_not_other_controls(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    for text, where in [
        ("<p>\n{{ '\\ud800' }}</p>", "lone surrogate U+D800 at line 2, column 1"),
        ("<p>{{ '\\x00' }}</p>", "control character U+0000 (NUL) at line 1, column 4"),
    ]:
        assert await problems(browser, {"welcome/body.html": text}) == [
            (
                f'template "welcome" does not render: welcome/body.html renders {where} of its output, '
                "which an email cannot carry",
                "welcome",
            )
        ]
    fine = await browser.post(
        "/ui/journeys/onboarding/check",
        **posted({"source": ONBOARDING, "templates": {"welcome/body.txt": "Hi\t{{ '\\x1b' }}"}}),
    )
    assert fine.json()["valid"] is True, fine.text


async def test_save_refuses_an_unusable_character_and_writes_nothing(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, folder = editor
    subject = folder / "templates" / "welcome" / "subject.txt"
    before = subject.read_bytes()
    for text in ("Welcome \ud800", "Welcome \x00", "Hi {{ '\\ud800' }}", "Hi {{ '\\x00' }}"):
        answer = await browser.post(
            "/ui/journeys/onboarding/save",
            **posted({"source": ONBOARDING, "templates": {"welcome/subject.txt": text}}),
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"].startswith("not saved: 1 problem (")
        assert "welcome/subject.txt" in answer.json()["detail"]
    assert subject.read_bytes() == before


async def test_a_saved_template_holding_a_control_character_is_refused_at_its_step(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, folder = editor
    (folder / "templates" / "welcome" / "body.txt").write_text("Hello\n\x00 there", "utf-8")
    assert await problems(browser, {}) == [
        (
            'email template "welcome" cannot be used: templates/welcome/body.txt holds control character '
            f"U+0000 (NUL) at line 2, column 1 ({RULE})",
            "welcome",
        )
    ]


async def preview(browser: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = await browser.post("/ui/journeys/onboarding/templates/preview", **posted(body))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_preview_names_an_unusable_character_in_an_edited_file(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    for text, where in RAW:
        answer = await preview(browser, {"template": "welcome", "templates": {"welcome/subject.txt": text}})
        assert answer == {
            "subject": None,
            "text": None,
            "error": f"welcome/subject.txt holds {where} ({RULE})",
            "file": None,
        }


async def test_preview_refuses_a_subject_or_text_that_renders_a_lone_surrogate(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    rendered = await preview(
        browser, {"template": "welcome", "templates": {"welcome/subject.txt": RENDERED[0][0]}}
    )
    from_sample = await preview(
        browser, {"template": "welcome", "sample": {"customer": {"first_name": "Ada\ud800"}}}
    )
    assert rendered["error"] == (
        "does not render for this customer: welcome/subject.txt renders lone surrogate U+D800 at line 1, "
        "column 4 of its output, which an email subject (a header) cannot carry"
    )
    assert from_sample["error"] == (
        "does not render for this customer: welcome/subject.txt renders lone surrogate U+D800 at line 1, "
        "column 20 of its output, which an email subject (a header) cannot carry"
    )
    assert rendered["subject"] is None and from_sample["subject"] is None


async def test_preview_html_of_a_body_that_renders_a_lone_surrogate_is_a_page_that_says_so(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    for text, page in (
        ("<p>{{ '\\ud800' }}</p>", "This email does not render"),
        ("<p>{{ '\\x00' }}</p>", "This email does not render"),
        ("<p>\ud800</p>", "The preview asked for is not valid"),  # the JSON itself is refused
    ):
        payload = json.dumps({"template": "welcome", "templates": {"welcome/body.html": text}})
        answer = await browser.post(
            "/ui/journeys/onboarding/templates/preview.html", data={"payload": payload}
        )
        assert answer.status_code == 200, answer.text
        assert page in answer.text


async def test_a_preview_error_quoting_a_lone_surrogate_of_the_sample_writes_it_as_an_escape(
    editor: tuple[httpx.AsyncClient, Path],
) -> None:
    browser, _ = editor
    answer = await preview(
        browser,
        {
            "template": "welcome",
            "templates": {"welcome/subject.txt": "{% include customer.first_name %}"},
            "sample": {"customer": {"first_name": "_\ud800.html"}},
        },
    )
    assert answer["error"] == "does not render for this customer: _\\ud800.html"  # TemplateNotFound
