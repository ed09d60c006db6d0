"""``journeys up`` end to end: real dev server, worker, API and SMTP server as processes on free
ports; a ``signed_up`` event over HTTP brings the welcome email to the Outbox; nothing is left behind.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx

from tests.devstack.stack_process import API_KEY, stack_env, start_stack

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


def curl_request(banner: str) -> tuple[str, dict[str, str], str]:
    """The URL, headers and body of the ``curl`` line the banner tells a newcomer to run."""
    line = next(line.strip() for line in banner.splitlines() if line.strip().startswith("curl "))
    args = shlex.split(line)
    headers = dict(args[i + 1].split(": ", 1) for i, arg in enumerate(args) if arg == "-H")
    url = next(arg for arg in args if arg.startswith("http"))
    return url, headers, args[args.index("-d") + 1]


def test_up_starts_everything_and_the_banner_curl_line_brings_the_welcome_email(tmp_path: Path) -> None:
    env = stack_env(tmp_path / "data", JOURNEYS_DIR)
    stack = start_stack(env, tmp_path / "run")
    try:
        banner = stack.banner()
        assert f"{stack.api}/docs" in banner
        assert f"http://127.0.0.1:{env['JOURNEYS_TEMPORAL_UI_PORT']}" in banner
        assert f"{stack.api}/outbox" in banner
        assert API_KEY in banner
        assert len(stack.pids) >= 5, "journeys up and its four parts"

        url, headers, body = curl_request(banner)
        response = httpx.post(url, headers=headers, content=body, timeout=30)
        assert response.status_code == 202, response.text
        assert response.json()["started"] == ["onboarding"]

        [welcome] = stack.wait_for_mail(1, timeout=30)
        assert welcome.subject == "Welcome aboard, Ada!"
        assert welcome.recipients == ["ada@example.com"]

        page = httpx.get(f"{stack.api}/outbox", timeout=10)
        assert page.status_code == 200
        assert "Welcome aboard, Ada!" in page.text and "ada@example.com" in page.text
        link = re.search(r'href="(/outbox/[^"]+)"', page.text)
        assert link is not None
        rendered = httpx.get(f"{stack.api}{link.group(1)}", timeout=10)
        assert "<h1>Welcome, Ada!</h1>" in rendered.text
        # Links in the email point at this API, not at the default port.
        assert f"{stack.api}/unsubscribe/" in rendered.text
    finally:
        code = stack.stop()
    assert code == 0
    log = stack.log()
    for part in ("temporal", "smtp", "worker", "api"):
        assert f'"part": "{part}"' in log, part
    assert "Traceback" not in log
    data = tmp_path / "data"
    assert (data / "temporal.db").exists() and (data / "journeys.db").exists()
