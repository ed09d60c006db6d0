"""One syntax for the ids a backend gives Journeys (customer ids, event ids, redemption keys), and
ids derived from them that fit their column by construction. The reasons are in docs/ids.md.

An id is 1 to 200 characters (Unicode code points) with
- no control character (U+0000-U+001F, U+007F-U+009F) and no line or paragraph separator (U+2028,
  U+2029): ids end up in logs, headers, URLs and SQL text (and no lone surrogate, U+D800-U+DFFF,
  which is not text at all: pydantic refuses it in any str, ``id_problem`` too);
- no ``/``: customer ids are one segment of a URL (``/v1/customers/{customer_id}``), and ids the
  engine derives use ``/`` (``journey/onboarding/ada``, ``<award key>/badge_awarded``), so a sender's
  id never collides with a derived one;
- no space at either end (U+0020, U+00A0 and the other Unicode space separators, U+FEFF);
- not ``.`` or ``..``: HTTP clients resolve them as path segments, so such a customer is unaddressable.
Spaces inside an id, and any other character (letters of every script, emoji, ``@``, ``:``), are fine.

``ID_PATTERN`` says the same as a regular expression valid in Python and in ECMA-262 (JSON Schema,
OpenAPI); ``id_problem`` and ``check_id`` test it with reasons, for any entrance (the API, stories).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

ID_MAX_LENGTH = 200

_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_SPACE = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"
_EDGE = f"[^{_CONTROL}/{_SPACE}]"
_INNER = f"[^{_CONTROL}/]"
#: The whole syntax, length included (``maxLength`` says it too, for tools that read only that).
ID_PATTERN = rf"^(?!\.\.?$){_EDGE}(?:{_INNER}{{0,{ID_MAX_LENGTH - 2}}}{_EDGE})?$"
ID_DESCRIPTION = (
    "1-200 characters; no control characters, no '/', no space at either end, not '.' or '..' (docs/ids.md)"
)

_ID = re.compile(ID_PATTERN)
_CONTROL_CHAR = re.compile(f"[{_CONTROL}\\ud800-\\udfff]")
_SPACE_CHAR = re.compile(f"[{_SPACE}]")
# Not in ID_PATTERN: a pattern naming surrogates makes generators (schemathesis) ignore it, and no
# valid JSON text or UTF-8 URL carries one.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def id_problem(value: str) -> str | None:
    """Why ``value`` is not an id, as the end of a sentence ("must not ..."); None if it is one."""
    if _ID.fullmatch(value) and not _SURROGATE.search(value):
        return None
    if not value:
        return "must not be empty"
    if len(value) > ID_MAX_LENGTH:
        return f"must be at most {ID_MAX_LENGTH} characters (it has {len(value)})"
    if control := _CONTROL_CHAR.search(value):
        found = f"U+{ord(control.group()):04X} at position {control.start()}"
        return f"must not contain control characters, line separators or lone surrogates ({found})"
    if "/" in value:
        return 'must not contain "/"'
    if value in (".", ".."):
        return 'must not be "." or ".."'
    if _SPACE_CHAR.fullmatch(value[0]) or _SPACE_CHAR.fullmatch(value[-1]):
        return "must not start or end with a space"
    return "must follow the id syntax (docs/ids.md)"  # pragma: no cover - every reason is listed above


def is_id(value: str) -> bool:
    return id_problem(value) is None


def check_id(value: str, what: str = "id") -> str:
    """``value`` if it is an id, else ValueError naming ``what`` and the reason (for stories, CLIs)."""
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(f"{what} {value!r} {problem}")
    return value


def _validated(value: str) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise PydanticCustomError("id_syntax", "an id {problem}", {"problem": problem})
    return value


#: Pydantic validator of the id syntax (error type ``id_syntax``), to put in ``Annotated`` metadata.
ID_VALIDATOR = AfterValidator(_validated)
#: What OpenAPI shows of an id: a pattern and lengths (for ``Field`` / ``Path`` ``json_schema_extra``).
ID_JSON_SCHEMA: dict[str, str | int] = {"pattern": ID_PATTERN}

#: A str field that holds an id: ``customer_id: Id``.
Id = Annotated[
    str,
    Field(
        min_length=1, max_length=ID_MAX_LENGTH, description=ID_DESCRIPTION, json_schema_extra=ID_JSON_SCHEMA
    ),
    ID_VALIDATOR,
]


def derived_id(base: str, suffix: str, limit: int = ID_MAX_LENGTH) -> str:
    """``base/suffix`` when that fits in ``limit`` characters; else ``base`` cut short, a ``~``, 16 hex
    digits of its SHA-256 and ``/suffix``: readable from the start, unique, always ``limit`` at most.

    The same arguments always give the same id, so ids derived for idempotency stay stable.
    """
    whole = f"{base}/{suffix}"
    if len(whole) <= limit:
        return whole
    digest = hashlib.sha256(base.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    keep = limit - len(suffix) - len(digest) - 2
    if keep < 1:
        raise ValueError(f"suffix {suffix!r} leaves no room for a base within {limit} characters")
    return f"{base[:keep]}~{digest}/{suffix}"
