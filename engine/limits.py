"""Every limit of the journey language in one place: files, names, conditions and templates.

The CLI, the API and the simulator's story files read files through the same bounded loader
(``engine.source``), so a file that one of them accepts, the others accept too. docs/language.md
lists these limits for the people who write journeys.
"""

from __future__ import annotations

import re

# Files: journey files, story files and each template file.
MAX_FILE_BYTES = 256 * 1024
"""Largest journey (or story, or template) file, in bytes."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a journey or story file (the top mapping is level 1)."""
MAX_NODES = 20_000
"""Most values (scalars, mappings and lists, keys included) in one file: a 200-step journey holds a
few thousand; this keeps the worst 256 KB file to a fraction of a second."""
MAX_TEMPLATE_FILES = 64
"""Most files in one email template's folder (locale variants included)."""
MAX_STEPS = 200
"""Most steps in one journey."""
MAX_ERRORS = 100
"""Most problems listed for one file; past that, one more line says that there are more."""

# Names.
MAX_ID_LENGTH = 64
"""Longest journey id, step id, split variant name, badge or email template name."""
MAX_EVENT_NAME_LENGTH = 100
"""Longest event name: the same as the API accepts for an event."""
ID = re.compile(r"^[a-z][a-z0-9_]*$")
"""Journey ids, step ids, variant names and badges: lower case, digits and _, starting with a letter."""
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
"""An email template: a folder directly in templates/ (lower case, digits, _ and -; no / or ..)."""

# Conditions (``where:`` and ``when:``).
MAX_EXPRESSION_LENGTH = 1000
"""Longest condition, in characters."""
MAX_EXPRESSION_DEPTH = 32
"""Deepest nesting of a condition's syntax tree (each operator, access or filter is a level)."""
MAX_EXPRESSION_BRACKETS = 16
"""Deepest nesting of brackets ``( [ {`` in a condition."""
MAX_LITERAL_INT = 2**63
"""A number written in a condition lies strictly between -MAX_LITERAL_INT and MAX_LITERAL_INT."""

# Points.
MAX_POINTS = 10_000_000
"""Most points one award gives (a journey's ``award``, a loyalty rule for one event, a reward's
cost): written as a number, larger is refused; computed by an expression, larger gives this many."""

# What a condition or a template may compute while it runs.
MAX_INT_BITS = 4096
"""Largest integer a ``*`` or ``**`` may produce (about 1233 decimal digits)."""
MAX_SEQUENCE = 100_000
"""Longest string or list one operation may produce (``*``, ``+``, ``~``, join, replace, ...)."""
MAX_WIDTH = 1000
"""Largest width or precision in a format (``'%5d'``, ``'{:>10}'``) or a padding filter."""

# Templates, per rendering of one email part (or one webhook payload).
MAX_TEMPLATE_OUTPUT = 500_000
"""Most characters one rendering may output (one email part, one string of a payload)."""
MAX_TEMPLATE_OPERATIONS = 50_000
"""Most operations one rendering may do: loop iterations, calls and range items count one each,
a value of n items n // 1000 more, a payload string that is a template 20 (compiling it).
At validation, all the webhook payloads of a journey render within one such budget."""
MAX_TEMPLATE_CALL_DEPTH = 20
"""Deepest nesting of macro (and other) calls: a macro that calls itself stops there."""
MAX_TEMPLATE_DEPTH = 50
"""Deepest nesting of a template's syntax tree (blocks, loops, expressions)."""
MAX_RANGE = 10_000
"""Most items ``range(...)`` may give in a template."""

# The API.
VALIDATION_SECONDS = 10.0
"""Time budget of one validation (or compilation) of a journey sent to the API."""
