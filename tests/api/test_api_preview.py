"""Preview on the real workflow, over HTTP: a story answers what `journeys simulate` prints (the
real CLI, in a subprocess), a forecast's per-step numbers add up, one run per user at a time,
hostile input refused with a clear 4xx, a story saved as a journey test that `journeys test` passes.

Runs play in their own processes (``simulate.preview_process``) on Temporal's time-skipping test
server; the app serves a Sandbox's store and a copy of the journeys folder (JOURNEYS_SAVE_DIR)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.preview import PreviewJobs, PreviewLimits
from engine.channels.loader import validate_policy_text
from simulate.sandbox import Sandbox
from tests.api.conftest import EDITOR_KEY, JOURNEYS_DIR, VIEWER_KEY, deploy_example_program, http_client
from tests.support.ui_session import sign_in

ROOT = Path(__file__).resolve().parents[2]
STORY = {
    "name": "completes profile day 2, buys day 5",
    "events": ["2d profile_completed", "5d purchase_completed"],
}
WAIT_SECONDS = 900  # a bound on waiting for a run that has its own wall-clock limit; never asserted


@pytest_asyncio.fixture(loop_scope="session")
async def app(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The app with JOURNEYS_SAVE_DIR on a copy of the journeys folder (saved tests land there)."""
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder)
    await deploy_example_program(sandbox)  # previews play the deployed program (tiers)
    settings = sandbox.settings.model_copy(update={"journeys_save_dir": folder})
    application = create_app(settings, client=sandbox.client, store=sandbox.store, router=sandbox.router)
    async with application.router.lifespan_context(application):
        yield application


class Session:
    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    async def post(self, url: str, body: Any) -> httpx.Response:
        return await self.client.post(url, json=body, headers={"X-CSRF-Token": self.csrf})

    async def start(self, url: str, body: Any) -> dict[str, Any]:
        answer = await self.post(url, body)
        assert answer.status_code == 202, answer.text
        started: dict[str, Any] = answer.json()
        return started

    async def finished(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job once it is no longer running (runs end by themselves within their time limit)."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            answer = await self.client.get(f"/ui/preview/{job['id']}")
            assert answer.status_code == 200, answer.text
            state: dict[str, Any] = answer.json()
            if state["state"] != "running":
                return state
            assert asyncio.get_running_loop().time() < deadline, "the preview never ended"
            await asyncio.sleep(0.2)

    async def run(self, url: str, body: Any) -> dict[str, Any]:
        return await self.finished(await self.start(url, body))


async def session(app: FastAPI, key: str) -> AsyncIterator[Session]:
    async with http_client(app) as client:
        yield Session(client, await sign_in(client, key))


@pytest_asyncio.fixture(loop_scope="session")
async def editor(app: FastAPI) -> AsyncIterator[Session]:
    async for opened in session(app, EDITOR_KEY):
        yield opened


@pytest_asyncio.fixture(loop_scope="session")
async def viewer(app: FastAPI) -> AsyncIterator[Session]:
    async for opened in session(app, VIEWER_KEY):
        yield opened


async def cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def words_of(answer: httpx.Response) -> str:
    """What a refusal says, as one text: its detail and each problem's path and message."""
    body = answer.json()
    problems = [f"{e.get('path', '')}: {e['message']}" for e in body.get("errors", [])]
    return " | ".join([str(body["detail"]), *problems])


def sent(emails: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("step", "name", "day", "time", "status", "subject", "recipient")
    return [tuple(email[k] for k in keys) for email in emails]


async def test_a_story_answers_the_path_and_emails_journeys_simulate_prints(viewer: Session) -> None:
    events = [word for event in STORY["events"] for word in ("-e", event)]
    code, out, err = await cli("simulate", str(JOURNEYS_DIR / "onboarding.yaml"), *events, "--json")
    assert code == 0, err
    printed = json.loads(out)

    job = await viewer.run("/ui/journeys/onboarding/preview", {"story": STORY})  # a viewer may preview

    assert job["state"] == "done", job["error"]
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    story = job["story"]
    assert story["path"]["steps"] == printed["summary"]["runs"][0]["steps"]
    assert sent(story["emails"]) == sent(printed["summary"]["emails"])
    timeline = [(e["day"], e["time"], e["step"], e["kind"], e["text"]) for e in story["timeline"]]
    assert timeline == [(e["day"], e["time"], e["step"], e["kind"], e["text"]) for e in printed["entries"]]
    assert (story["points"], story["stage"]) == (printed["summary"]["points"], printed["summary"]["stage"])
    # The path on the diagram: the entry, each step, and every edge between two of them.
    path = story["path"]
    assert path["nodes"] == ["__entry", *path["steps"]]  # it exits at `activated`: no way to the end
    counts = (await viewer.client.get("/ui/journeys/onboarding/counts")).json()
    assert set(path["edges"]) <= set(counts["edges"])
    assert [edge.split(">")[0] for edge in path["edges"]] == ["__entry", *path["steps"][:-1]]
    # Each email as rendered, and as a frame shows it (sandboxed, the step panel's policy).
    welcome = story["emails"][0]
    assert welcome["subject"] == "Welcome aboard, Ada!" and "<h1>Welcome, Ada!</h1>" in welcome["html"]
    assert welcome["text"].startswith("Welcome, Ada!")
    framed = await viewer.client.get(f"/ui/preview/{job['id']}/emails/0")
    assert framed.status_code == 200 and framed.text == welcome["html"]
    assert "sandbox" in framed.headers["content-security-policy"]


async def test_a_story_with_a_time_zone_and_a_forced_variant(editor: Session) -> None:
    story = {
        "name": "hesitates in Jakarta",
        "events": ["12d 10:00 purchase_completed total=35"],
        "traits": ["timezone=Asia/Jakarta", "first_name=Budi"],
        "variants": {"pick_offer": "free_shipping"},
    }
    job = await editor.run("/ui/journeys/onboarding/preview", {"story": story})

    assert job["state"] == "done", job["error"]
    result = job["story"]
    assert result["timezone"] == "Asia/Jakarta"
    assert (
        "offer_free_shipping" in result["path"]["steps"] and "offer_discount" not in result["path"]["steps"]
    )
    assert "pick_offer>offer_free_shipping#1" in result["path"]["edges"]
    purchase = next(
        e for e in result["timeline"] if e["text"].startswith("customer event purchase_completed")
    )
    assert (purchase["day"], purchase["time"]) == (12, "10:00")  # on the customer's clock
    assert [e["subject"] for e in result["emails"]][-1] == "Thank you for your first order, Budi"


async def test_unsaved_text_is_previewed_as_typed(editor: Session) -> None:
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    shorter = source.replace(
        "timeout: 3d}\n    on_timeout: nudge_profile", "timeout: 1d}\n    on_timeout: nudge_profile"
    )
    job = await editor.run("/ui/journeys/onboarding/preview", {"story": {"events": []}, "source": shorter})

    assert job["state"] == "done" and job["unsaved"] is True
    nudge = next(e for e in job["story"]["emails"] if e["step"] == "nudge_profile")
    assert nudge["day"] == 1  # the unsaved 1-day timeout, not the deployed 3 days


async def test_a_forecast_of_50_customers_ends_with_numbers_that_add_up(editor: Session) -> None:
    job = await editor.run(
        "/ui/journeys/onboarding/forecast", {"customers": 50, "p": ["profile_completed=0.4"], "seed": 7}
    )

    assert job["state"] == "done", job["error"]
    assert job["progress"]["done"] == job["progress"]["total"] > 50
    forecast = job["forecast"]
    assert forecast["customers"] == 50 and forecast["entered"] == 50
    assert "profile_completed 40% within 14d" in forecast["assumed"]
    page_counts = (await editor.client.get("/ui/journeys/onboarding/counts")).json()
    counts = forecast["counts"]
    assert set(counts["nodes"]) == set(page_counts["nodes"])  # keyed as the journey page's counts
    assert set(counts["edges"]) == set(page_counts["edges"])
    for node, numbers in counts["nodes"].items():
        assert numbers["entered"] == numbers["completed"] + numbers["waiting"], node
    assert counts["nodes"]["__entry"]["entered"] == 50 == counts["nodes"]["joined"]["entered"]
    for step in forecast["steps"]:
        numbers = counts["nodes"][step["step"]]
        assert (numbers["entered"], numbers["waiting"]) == (step["entered"], step["waiting"])
        onwards = [e for e in counts["edges"] if e.startswith(f"{step['step']}>") and ">__end#" not in e]
        went_on = sum(counts["edges"][e]["count"] for e in onwards)
        assert went_on + step["exited"] == step["completed"], step  # to another step, or ended here
    assert sum(s["emails"] for s in forecast["steps"]) == forecast["emails"] >= 50  # everyone is welcomed


async def test_one_run_per_user_at_a_time(editor: Session, viewer: Session) -> None:
    first = await editor.start("/ui/journeys/onboarding/forecast", {"customers": 1000})

    second = await editor.post("/ui/journeys/onboarding/preview", {"story": STORY})

    assert second.status_code == 409
    assert "Eddie Editor already has a preview running (a forecast of onboarding" in second.json()["detail"]
    other = await viewer.start("/ui/journeys/onboarding/preview", {"story": STORY})  # another user may
    stopped = await editor.post(f"/ui/preview/{first['id']}/stop", {})
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert (await viewer.finished(other))["state"] == "done"
    again = await editor.run("/ui/journeys/onboarding/preview", {"story": STORY})  # free again
    assert again["state"] == "done"
    assert (await viewer.client.get(f"/ui/preview/{first['id']}")).status_code == 404  # not theirs


async def test_a_run_over_its_time_limit_is_stopped(app: FastAPI, editor: Session) -> None:
    app.state.previews = PreviewJobs(PreviewLimits(forecast_seconds=1))

    job = await editor.run("/ui/journeys/onboarding/forecast", {"customers": 1000})

    assert job["state"] == "failed"
    assert job["error"].startswith("the forecast did not finish within 1 s and was stopped")
    assert (await editor.run("/ui/journeys/onboarding/preview", {"story": STORY}))["state"] == "done"


HOSTILE = [
    (
        "/ui/journeys/onboarding/forecast",
        {"customers": 100_000},
        "body.customers",
        "less than or equal to 1000",
    ),
    ("/ui/journeys/onboarding/forecast", {"customers": 0}, "body.customers", "greater than or equal to 1"),
    (
        "/ui/journeys/onboarding/forecast",
        {"customers": 5, "p": ["purchase_completed=2"]},
        "chances",
        "0 to 1",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"events": ["1d a"] * 10_000}},
        "body.story.events",
        "at most 50 items",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"horizon": "3650d"}},
        "body.story.horizon",
        "longer than a preview may run (365d)",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"horizon": "ten years"}},
        "body.story.horizon",
        "not a duration",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"events": ["3 days profile_completed"]}},
        "events line 1",
        '"3 days" is not a duration; write 3d',
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"events": ["2d profile_completed", "2x purchase_completed"]}},
        'events line 2 "2x purchase_completed"',
        "name an event",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"events": ["100d purchase_completed"]}},
        "purchase_completed at 100d",
        "after the horizon (90d)",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"events": ["08:00 purchase_completed"]}},
        "purchase_completed at 08:00",
        "before the story starts",
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"traits": ["timezone=Mars/Olympus"]}},
        "traits",
        "time zone",
    ),
    ("/ui/journeys/onboarding/preview", {"story": {"traits": ["nope"]}}, 'traits line 1 "nope"', "key=value"),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"variants": {"pick_offer": "half_price"}}},
        "variants",
        'has no variant "half_price"',
    ),
    (
        "/ui/journeys/onboarding/preview",
        {"story": {"variants": {"nowhere": "a"}}},
        "variants",
        'no split step "nowhere"',
    ),
    ("/ui/journeys/onboarding/preview", {"story": {"name": "x\x00"}}, "body.story.name", "pattern"),
    ("/ui/journeys/onboarding/preview", {"story": {"mood": "happy"}}, "body.story.mood", "not permitted"),
]


@pytest.mark.parametrize(("url", "body", "where", "words"), HOSTILE)
async def test_hostile_input_gets_a_clear_4xx_and_leaves_no_run(
    app: FastAPI, editor: Session, url: str, body: dict[str, Any], where: str, words: str
) -> None:
    answer = await editor.post(url, body)

    assert answer.status_code == 422, answer.text
    said = words_of(answer)
    assert where in said and words in said, said
    jobs: PreviewJobs | None = getattr(app.state, "previews", None)
    assert jobs is None or not jobs.jobs  # nothing started, nothing left behind


async def test_invalid_yaml_an_unknown_journey_and_a_missing_token(editor: Session) -> None:
    broken = (
        (JOURNEYS_DIR / "onboarding.yaml")
        .read_text("utf-8")
        .replace("on_timeout: nudge_profile", "on_timeout: nudge")
    )
    answer = await editor.post("/ui/journeys/onboarding/preview", {"story": STORY, "source": broken})
    assert answer.status_code == 422
    [problem] = answer.json()["errors"]
    assert "nudge" in problem["message"] and problem["line"] > 1  # positioned, as validate answers it
    not_yaml = await editor.post("/ui/journeys/onboarding/preview", {"source": "journey: [unclosed"})
    assert not_yaml.status_code == 422 and not_yaml.json()["errors"]
    renamed = (
        (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8").replace("journey: onboarding", "journey: other")
    )
    other = await editor.post("/ui/journeys/onboarding/preview", {"source": renamed})
    assert other.status_code == 422 and 'the text is journey "other"' in words_of(other)
    assert (await editor.post("/ui/journeys/nowhere/preview", {"story": STORY})).status_code == 404
    assert (await editor.client.get("/ui/preview/" + "0" * 32)).status_code == 404
    no_token = await editor.client.post("/ui/journeys/onboarding/preview", json={"story": STORY})
    assert no_token.status_code == 403


async def test_the_form_offers_splits_events_and_the_stories_of_the_tests(viewer: Session) -> None:
    answer = await viewer.post("/ui/journeys/onboarding/preview/options", {})

    assert answer.status_code == 200, answer.text
    options = answer.json()
    assert options["splits"] == [
        {"step": "pick_offer", "variants": ["discount", "free_shipping"], "control": True}
    ]
    assert options["events"] == ["profile_completed", "purchase_completed", "unsubscribed"]
    first = options["stories"][0]
    assert first["name"] == "completes profile day 2, buys day 5"
    assert first["events"] == ["2d profile_completed", "5d 10:00 purchase_completed order_id=o-1 total=42"]
    assert (options["can_save"], options["why_not_save"]) == (
        False,
        "Vera Viewer is a viewer: viewers may preview, not save tests.",
    )


async def test_a_story_saved_as_a_test_passes_journeys_test(
    app: FastAPI, editor: Session, viewer: Session
) -> None:
    folder: Path = app.state.settings.journeys_save_dir
    tests = folder / "tests" / "onboarding.yaml"
    before = tests.read_text("utf-8")
    name = "saved from the preview: profile day 2, buys day 5 at 10:00"
    story = {
        "name": name,
        "events": ["2d profile_completed", "5d 10:00 purchase_completed total=42"],
        "traits": ["locale=id"],
    }
    job = await editor.run("/ui/journeys/onboarding/preview", {"story": story})
    assert job["state"] == "done", job["error"]
    refused = await viewer.post(f"/ui/preview/{job['id']}/test", {})
    assert refused.status_code == 404  # not the viewer's run, and viewers save nothing anyway

    saved = await editor.post(f"/ui/preview/{job['id']}/test", {})

    assert saved.status_code == 201, saved.text
    assert saved.json()["file"] == "tests/onboarding.yaml" and saved.json()["name"] == name
    after = tests.read_text("utf-8")
    assert after.startswith(before.rstrip("\n") + "\n\n  - name: ")  # appended; comments and layout kept
    assert "customer: {locale: id}" in after and "{email: welcome, day: 0}" in after
    again = await editor.post(f"/ui/preview/{job['id']}/test", {})
    assert again.status_code == 409 and "already has a story named" in again.json()["detail"]
    code, out, err = await cli("test", str(tests))
    assert code == 0, out + err
    assert f"PASS  {name}" in out


async def test_a_story_of_another_version_or_from_a_viewer_is_not_saved(
    editor: Session, viewer: Session
) -> None:
    source = (JOURNEYS_DIR / "onboarding.yaml").read_text("utf-8")
    changed = source.replace("timeout: 3d}", "timeout: 2d}")
    job = await editor.run("/ui/journeys/onboarding/preview", {"story": STORY, "source": changed})
    unsaved = await editor.post(f"/ui/preview/{job['id']}/test", {"name": "from unsaved text"})
    assert unsaved.status_code == 409
    assert "journeys test would run it on the file" in unsaved.json()["detail"]
    mine = await viewer.run("/ui/journeys/onboarding/preview", {"story": STORY})
    refused = await viewer.post(f"/ui/preview/{mine['id']}/test", {})
    assert refused.status_code == 403 and "viewers may preview, not save tests" in refused.json()["detail"]


async def test_a_story_plays_the_deployed_channel_policy(sandbox: Sandbox, viewer: Session) -> None:
    text = "policy: main\nchannels:\n  email:\n    caps: {per_day: 0}\n"
    policy, errors = validate_policy_text(text, "channels.yaml")
    assert policy is not None, errors
    await sandbox.store.channel_policies.deploy(policy, text)

    job = await viewer.run("/ui/journeys/onboarding/preview", {"story": STORY})

    assert job["state"] == "done", job["error"]
    emails = [(e["step"], e["status"], e["reason"]) for e in job["story"]["emails"]]
    assert emails == [
        ("welcome", "skipped", "frequency cap: 0 marketing emails a day"),
        ("thank_you", "skipped", "frequency cap: 0 marketing emails a day"),
    ]
