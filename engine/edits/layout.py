"""Keep the author's layout where ruamel.yaml would not: a three-way merge of lines.

ruamel writes some texts back differently even unedited (``{ id: a }`` as ``{id: a}``, a comment
inside a flow mapping dropped, ``---`` dropped, odd spacing). ``keep_layout`` takes the lines an
edit changed from ruamel's text and every other line from the author's, and is used only when
the merged text reads as the same data as ruamel's; else ruamel's text is the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import SequenceMatcher
from typing import Any


def keep_layout(original: str, unedited: str, edited: str, read: Callable[[str], Any]) -> str:
    """``edited`` (ruamel's text after the edit) with the lines it shares with ``unedited`` (ruamel's
    text before it) written as in ``original``. ``read`` gives a text's data, to compare the two
    (for a text it cannot read, something equal to nothing else)."""
    if unedited == original:
        return edited
    merged = _merge(original.splitlines(True), unedited.splitlines(True), edited.splitlines(True))
    return merged if read(merged) == read(edited) else edited


def _merge(original: list[str], base: list[str], edited: list[str]) -> str:
    # What the edit did to ruamel's lines: each base line kept or not, and lines written before it.
    keep = [True] * len(base)
    before: list[list[str]] = [[] for _ in range(len(base) + 1)]
    for tag, b1, b2, e1, e2 in SequenceMatcher(None, base, edited, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for index in range(b1, b2):
            keep[index] = False
        before[b1] += edited[e1:e2]
    out: list[str] = []
    written = [False] * (len(base) + 1)

    def lines_before(index: int) -> None:
        if not written[index]:
            written[index] = True
            out.extend(before[index])

    # How the author's lines stand to ruamel's unedited ones.
    for tag, b1, b2, o1, o2 in SequenceMatcher(None, base, original, autojunk=False).get_opcodes():
        if tag == "equal":
            for offset in range(b2 - b1):
                lines_before(b1 + offset)
                if keep[b1 + offset]:
                    out.append(original[o1 + offset])
            continue
        untouched = all(keep[b1:b2]) and not any(before[i] for i in range(b1 + 1, b2))
        lines_before(b1)
        if untouched:
            out.extend(original[o1:o2])  # the author's way of writing what the edit did not touch
        else:
            for index in range(b1, b2):
                lines_before(index)
                if keep[index]:
                    out.append(base[index])
    lines_before(len(base))
    return "".join(out)
