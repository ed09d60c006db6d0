"""The Outbox page (local only): every message the embedded SMTP server kept, and each one rendered.

Mounted when ``outbox_page`` is on (``journeys up`` turns it on). It has no API key: it shows mail that
never left the machine, to whoever runs it.
"""

from __future__ import annotations

import html
import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from outbox.server import OutboxMessage, outbox_server

router = APIRouter(prefix="/outbox", include_in_schema=False)
MESSAGE_ID = re.compile(r"^[0-9T]+-[0-9]+$")
# A kept email is shown as it is, but may not run scripts or load anything but images.
EMAIL_POLICY = "default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'; sandbox"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outbox · Journeys</title>
<meta http-equiv="refresh" content="5">
<style>
 body {{ font-family: Helvetica, Arial, sans-serif; margin: 2rem; color: #1f2933; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; padding: .4rem .8rem; border-bottom: 1px solid #e4e7eb; }}
 th {{ color: #52606d; font-weight: 600; }}
 .muted {{ color: #7b8794; }}
</style></head>
<body>
<h1>Outbox</h1>
<p class="muted">Every email Journeys sent on this machine ({count}), newest first. Nothing here left
the machine. This page refreshes every 5 seconds.</p>
<table>
<thead><tr><th>Received</th><th>To</th><th>Subject</th><th>From</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body></html>
"""


def message_id(message: OutboxMessage) -> str:
    return message.path.stem


def _row(message: OutboxMessage) -> str:
    link = f"/outbox/{message_id(message)}"
    return (
        f"<tr><td>{message.received_at:%Y-%m-%d %H:%M:%S} UTC</td>"
        f"<td>{html.escape(', '.join(message.recipients))}</td>"
        f'<td><a href="{link}">{html.escape(message.subject or "(no subject)")}</a></td>'
        f"<td>{html.escape(message.sender)}</td></tr>"
    )


@router.get("", response_class=HTMLResponse)
def outbox_page(settings: SettingsDep) -> HTMLResponse:
    messages = list(reversed(outbox_server(settings).messages()))
    rows = "\n".join(_row(m) for m in messages) or '<tr><td colspan="4" class="muted">No email yet.</td></tr>'
    return HTMLResponse(_PAGE.format(count=len(messages), rows=rows))


@router.get("/{message}", response_class=HTMLResponse)
def outbox_message(message: str, settings: SettingsDep) -> HTMLResponse:
    """The message's HTML part as the customer's mail program would render it (else its text)."""
    if MESSAGE_ID.match(message):
        for kept in outbox_server(settings).messages():
            if message_id(kept) == message:
                body = kept.html
                if body is None:
                    body = f"<pre>{html.escape(kept.text or '')}</pre>"
                return HTMLResponse(body, headers={"Content-Security-Policy": EMAIL_POLICY})
    raise HTTPException(404, "no such message in the Outbox")
