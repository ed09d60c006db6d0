"""Email templates as edited in the browser, before they are saved: checked and compiled exactly as
files would be, from a copy of the templates folder with the edited files written over it.

An edited file is named as the plan names it: ``welcome/body.html``, ``welcome/subject.id.txt``, or a
shared ``_layout.html``. Names are checked before anything is written: nothing can land outside the
copy, and the limits of ``engine.limits`` hold (file size, files per template). Texts are checked
too: a lone surrogate (which no file can hold) or a control character (NUL, ESC, …; tab and line
breaks aside) is refused with the file, line and column where it is, as ``engine.templates`` refuses
a saved template that holds one.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from engine.limits import MAX_FILE_BYTES, MAX_TEMPLATE_FILES
from engine.templates import UNUSABLE_RULE, unusable_character

T = TypeVar("T")
# A template's own file (folder/name.ext, a locale in the name allowed) or a shared _file at the top.
EDITED_FILE = re.compile(
    r"^(?:[a-z][a-z0-9_-]{0,63}/[a-z][a-z0-9_-]{0,63}(?:\.[a-z]{2,3})?\.(?:txt|html)|_[a-z0-9_-]{1,64}\.html)$"
)
MOST_EDITED = 4 * MAX_TEMPLATE_FILES


class TemplateEditError(ValueError):
    """Edited templates that cannot be used: the message names the file and what is wrong;
    ``file`` is that file (``welcome/body.html``) when the problem is in one edited file's text."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


def check_edits(edits: Mapping[str, str]) -> None:
    if len(edits) > MOST_EDITED:
        raise TemplateEditError(f"at most {MOST_EDITED} edited template files at once, not {len(edits)}")
    for name, text in edits.items():
        if not EDITED_FILE.match(name):
            raise TemplateEditError(
                f"{_shown(name[:100])} is not a template file (folder/subject.txt, folder/body.html, "
                "folder/body.txt, a locale variant such as folder/body.id.html, or a shared _file.html)"
            )
        # Counted as the file would hold it; a lone surrogate (refused below) counts as 3 bytes.
        if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise TemplateEditError(f"{name} is larger than {MAX_FILE_BYTES // 1024} KB", name)
        problem = unusable_character(text)
        if problem is not None:
            raise TemplateEditError(f"{name} holds {problem} ({UNUSABLE_RULE})", name)


def readable(message: str) -> str:
    """``message`` with any lone surrogate in it written as an escape (``\\ud800``), so that it can
    be answered, logged and shown (an error may quote a name or the sample that holds one)."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _shown(name: str) -> str:
    """``name`` in quotes with a control character or a lone surrogate in it written as an escape
    (``"\\u0000"``, ``"\\ud800"``)."""
    return readable(json.dumps(name, ensure_ascii=False))


@contextmanager
def edited_templates(templates_dir: Path, edits: Mapping[str, str]) -> Iterator[Path]:
    """A templates folder as ``templates_dir`` holds it with ``edits`` written over it (a temporary
    copy, removed after); ``templates_dir`` itself when there are no edits."""
    check_edits(edits)
    if not edits:
        yield templates_dir
        return
    with tempfile.TemporaryDirectory(prefix="journeys-templates-") as folder:
        copy = Path(folder) / "templates"
        if templates_dir.is_dir():
            shutil.copytree(templates_dir, copy, symlinks=False)
        else:
            copy.mkdir()
        for name, text in edits.items():
            target = copy / name
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, "utf-8")
        for template in copy.iterdir():
            if template.is_dir() and sum(1 for f in template.iterdir() if f.is_file()) > MAX_TEMPLATE_FILES:
                raise TemplateEditError(
                    f'template "{template.name}" has more than {MAX_TEMPLATE_FILES} files'
                )
        yield copy


def with_edits(templates_dir: Path, edits: Mapping[str, str], work: Callable[[Path], T]) -> T:
    """``work`` on the templates folder with ``edits`` written over it (for a worker thread)."""
    with edited_templates(templates_dir, edits) as folder:
        return work(folder)
