"""Hostile journey files: alias bombs, deep nesting, control characters, bad UTF-8, huge files,
template names that climb out of templates/, ids without end. Each is refused with one
positioned error (file, line, column, path, message), never a traceback, and without the work
it asks for (a bomb is refused at its first anchor, a huge file is never read past the limit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.errors import JourneyValidationError
from engine.limits import MAX_DEPTH, MAX_ERRORS, MAX_FILE_BYTES, MAX_ID_LENGTH, MAX_STEPS
from engine.loader import compile_bytes, compile_file, compile_text
from engine.source import SourceSyntaxError, parse_source

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "journeys" / "templates"
HEAD = "journey: demo\nstage: reach\ntrigger: {event: signed_up}\nsteps:\n"
FINE_STEP = "  - {id: a, exit: done}\n"
ANCHORS = "anchors and aliases (&, *) are not allowed in journey files"
DEEP = f"nesting deeper than {MAX_DEPTH} levels is not allowed in journey files"
NOT_A_TEMPLATE = (
    " is not a template name: write the name of a folder in templates/ (lower case letters, digits, _ and -,"
    " starting with a letter, at most 64 characters)"
)
Problem = tuple[str, int, int, str, str]

# Nine levels of nine aliases: 9**9 (387 million) strings once expanded, from 396 bytes.
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def problems_of(text: str | bytes, file: str = "broken.yaml") -> list[Problem]:
    """Compile a text (or bytes) that must fail; each error as (file, line, column, path, message)."""
    with pytest.raises(JourneyValidationError) as info:
        if isinstance(text, bytes):
            compile_bytes(text, file, TEMPLATES)
        else:
            compile_text(text, file, TEMPLATES)
    return [(e.file, e.line, e.column, e.path, e.message) for e in info.value.errors]


def test_the_billion_laughs_are_refused_at_the_first_anchor() -> None:
    assert len(LAUGHS) < 400
    assert problems_of(LAUGHS) == [("broken.yaml", 1, 4, "a", ANCHORS)]


def test_an_alias_bomb_never_expands_even_with_little_memory(tmp_path: Path) -> None:
    """A regression would need gigabytes: under a 1 GiB address-space limit it would fail loudly."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(LAUGHS)
    code = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from engine.errors import JourneyValidationError
        from engine.loader import compile_file
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
        try:
            compile_file(Path({str(bomb)!r}))
        except JourneyValidationError as exc:
            print(exc)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == f"bomb.yaml:1:4 a: {ANCHORS}\n"


def test_a_recursive_alias_is_refused() -> None:
    assert problems_of("a: &a [*a]\n") == [("broken.yaml", 1, 4, "a", ANCHORS)]


def test_an_alias_anywhere_is_refused_where_it_is_used() -> None:
    text = HEAD + "  - {id: a, send: {webhook: sms, payload: {text: *greeting}}}\n"
    assert problems_of(text) == [("broken.yaml", 5, 50, "steps[0].send.payload.text", ANCHORS)]


def test_an_anchor_alone_is_refused_too() -> None:
    text = HEAD + "  - &first {id: a, exit: done}\n"
    assert problems_of(text) == [("broken.yaml", 5, 5, "steps[0]", ANCHORS)]


def test_nine_hundred_levels_of_lists_stop_at_the_depth_limit() -> None:
    text = HEAD + FINE_STEP + "sample: {data: {x: " + "[" * 900 + "]" * 900 + "}}\n"
    path = "sample.data.x" + "[0]" * (MAX_DEPTH - 3)
    assert problems_of(text) == [("broken.yaml", 6, 49, path, DEEP)]


def test_nine_hundred_levels_of_mappings_stop_at_the_depth_limit() -> None:
    text = HEAD + FINE_STEP + "sample: {data: " + "{a: " * 900 + "1" + "}" * 900 + "}\n"
    path = "sample.data" + ".a" * (MAX_DEPTH - 2)
    assert problems_of(text) == [("broken.yaml", 6, 136, path, DEEP)]


def test_the_depth_limit_itself_is_allowed() -> None:
    # The top mapping, sample, data and 29 more levels: 32 in all.
    nested = "{a: " * (MAX_DEPTH - 3) + "1" + "}" * (MAX_DEPTH - 3)
    source = parse_source(HEAD + FINE_STEP + f"sample: {{data: {nested}}}\n", "ok.yaml")
    assert source.data["sample"]["data"]["a"]["a"]["a"] is not None


@pytest.mark.parametrize(
    ("character", "column", "message"),
    [
        ("\x00", 22, "control character U+0000 is not allowed in a journey file"),
        ("\x07", 22, "control character U+0007 is not allowed in a journey file"),
        ("\x1b", 22, "control character U+001B is not allowed in a journey file"),
        ("\x7f", 22, "control character U+007F is not allowed in a journey file"),
        ("\ufffe", 22, "character U+FFFE is not allowed in a journey file"),
    ],
)
def test_control_characters_are_positioned_errors(character: str, column: int, message: str) -> None:
    text = HEAD + f'  - {{id: a, exit: "do{character}ne"}}\n'
    assert problems_of(text) == [("broken.yaml", 5, column, "", message)]


def test_a_control_character_written_as_an_escape_is_refused_too() -> None:
    text = HEAD + '  - {id: a, exit: "do\\0ne"}\n'
    message = "control character U+0000 is not allowed in a journey file"
    assert problems_of(text) == [("broken.yaml", 5, 19, "steps[0].exit", message)]


def test_invalid_utf8_is_a_positioned_error() -> None:
    data = (HEAD + "  - {id: a, exit: déjà}\n").encode("latin-1")
    message = "the file is not valid UTF-8: byte 0xe9 cannot start or continue a character"
    assert problems_of(data) == [("broken.yaml", 5, 20, "", message)]


def test_invalid_utf8_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"journey: caf\xe9\n")
    with pytest.raises(JourneyValidationError) as info:
        compile_file(path)
    assert [str(e) for e in info.value.errors] == [
        "latin.yaml:1:13 the file is not valid UTF-8: byte 0xe9 cannot start or continue a character"
    ]


def test_a_file_over_the_size_limit_is_refused() -> None:
    text = HEAD + FINE_STEP + "description: " + "x" * MAX_FILE_BYTES + "\n"
    message = "the file is larger than 256 KB, the most a journey file may be"
    assert problems_of(text) == [("broken.yaml", 1, 1, "", message)]
    assert problems_of(text.encode()) == [("broken.yaml", 1, 1, "", message)]


def test_a_huge_file_is_never_read_past_the_limit(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:  # 250 MB, sparse: reading it all would take seconds and memory
        stream.truncate(250 * 1024 * 1024)
    with pytest.raises(JourneyValidationError) as info:
        compile_file(huge)
    assert [str(e) for e in info.value.errors] == [
        "huge.yaml:1:1 the file is larger than 256 KB, the most a journey file may be"
    ]


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(JourneyValidationError) as info:
        compile_file(tmp_path / "missing.yaml")
    assert [str(e) for e in info.value.errors] == [
        "missing.yaml:1:1 the file cannot be read: No such file or directory"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "9" * 5000,
            f'the value "{"9" * 40}..." cannot be read: Exceeds the limit (4300 digits) for integer'
            " string conversion: value has 5000 digits",
        ),
        ("2024-13-45", 'the value "2024-13-45" cannot be read: month must be in 1..12'),
        ("!!binary aGk=", "binary values (!!binary) are not allowed in journey files"),
        (
            "!!python/object/apply:os.system [ls]",
            'the tag "tag:yaml.org,2002:python/object/apply:os.system" is not allowed in journey files',
        ),
        (
            "!!python/name:os.system x",
            "YAML syntax error: could not determine a constructor for the tag"
            " 'tag:yaml.org,2002:python/name:os.system'",
        ),
        ("!!set {a, b}", 'the tag "tag:yaml.org,2002:set" is not allowed in journey files'),
    ],
)
def test_values_python_cannot_make_are_positioned_errors(value: str, message: str) -> None:
    text = HEAD + FINE_STEP + f"sample: {{data: {{v: {value}}}}}\n"
    assert problems_of(text) == [("broken.yaml", 6, 20, "sample.data.v", message)]


@pytest.mark.parametrize(
    "name", ["/some/absolute/folder", "../x", "welcome/../../x", "Welcome", "x" * 65, "a b"]
)
def test_a_template_name_is_a_name_not_a_path(name: str) -> None:
    text = HEAD + f'  - {{id: a, send: {{email: "{name}"}}}}\n'
    shown = name if len(name) <= MAX_ID_LENGTH else name[:MAX_ID_LENGTH] + "..."
    assert problems_of(text) == [("broken.yaml", 5, 27, "steps[0].send.email", f'"{shown}"{NOT_A_TEMPLATE}')]


def test_errors_name_template_folders_relative_to_the_journeys_folder(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "half").mkdir()
    (templates / "half" / "subject.txt").write_text("Hi")
    text = HEAD + "  - {id: a, send: {email: nowhere}}\n  - {id: b, send: {email: half}}\n"
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", templates)
    assert [(e.line, e.column, e.path, e.message) for e in info.value.errors] == [
        (
            5,
            27,
            "steps[0].send.email",
            'email template "nowhere" does not exist (no folder templates/nowhere)',
        ),
        (6, 27, "steps[1].send.email", 'email template "half" lacks body.html, body.txt in templates/half'),
    ]
    assert str(tmp_path) not in str(info.value)


def test_a_template_folder_that_links_outside_does_not_exist(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    for part in ("subject.txt", "body.html", "body.txt"):
        (outside / part).write_text("secret")
    templates = tmp_path / "journeys" / "templates"
    templates.mkdir(parents=True)
    (templates / "leak").symlink_to(outside, target_is_directory=True)
    (templates / "other").mkdir()
    for part in ("subject.txt", "body.html"):
        (templates / "other" / part).write_text("Hi")
    (templates / "other" / "body.txt").symlink_to(outside / "body.txt")
    text = HEAD + "  - {id: a, send: {email: leak}}\n  - {id: b, send: {email: other}}\n"
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", templates)
    assert [e.message for e in info.value.errors] == [
        'email template "leak" does not exist (no folder templates/leak)',
        "templates/other/body.txt links outside the templates folder",
    ]
    assert str(tmp_path) not in str(info.value)


def test_template_files_must_be_utf8_and_within_the_size_limit(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    for name, body in (("latin", b"caf\xe9\n"), ("huge", b"x" * (MAX_FILE_BYTES + 1))):
        (templates / name).mkdir(parents=True)
        (templates / name / "subject.txt").write_text("Hi")
        (templates / name / "body.txt").write_text("Hi")
        (templates / name / "body.html").write_bytes(body)
    text = HEAD + "  - {id: a, send: {email: latin}}\n  - {id: b, send: {email: huge}}\n"
    with pytest.raises(JourneyValidationError) as info:
        compile_text(text, "broken.yaml", templates)
    assert [e.message for e in info.value.errors] == [
        "templates/latin/body.html is not valid UTF-8 (line 1)",
        "templates/huge/body.html is larger than 256 KB",
    ]


def test_ids_have_a_maximum_length() -> None:
    long_step = "s" * (MAX_ID_LENGTH + 1)
    long_journey = "j" * (MAX_ID_LENGTH + 1)
    text = f"journey: {long_journey}\nstage: reach\ntrigger: {{event: {'e' * 101}}}\nsteps:\n"
    text += f"  - {{id: {long_step}, exit: done}}\n"
    assert problems_of(text) == [
        ("broken.yaml", 1, 10, "journey", f'"{"j" * 64}..." is too long: an id has at most 64 characters'),
        (
            "broken.yaml",
            3,
            18,
            "trigger.event",
            f'"{"e" * 64}..." is too long: an event name has at most 100 characters',
        ),
        (
            "broken.yaml",
            5,
            10,
            "steps[0].id",
            f'"{"s" * 64}..." is too long: an id has at most 64 characters',
        ),
    ]


def test_ids_of_the_maximum_length_are_fine() -> None:
    text = f"journey: {'j' * MAX_ID_LENGTH}\nstage: reach\ntrigger: {{event: {'e' * 100}}}\nsteps:\n"
    plan = compile_text(text + f"  - {{id: {'s' * MAX_ID_LENGTH}, exit: done}}\n", "ok.yaml", TEMPLATES)
    assert (plan.journey, plan.start) == ("j" * MAX_ID_LENGTH, "s" * MAX_ID_LENGTH)


def test_a_long_value_is_quoted_by_its_start_only() -> None:
    text = HEAD.replace("demo", "D" * 5000) + FINE_STEP
    [(_, _, _, path, message)] = problems_of(text)
    assert (path, message) == (
        "journey",
        f'"{"D" * 80}..." is not a valid name: use lower case letters, digits and _',
    )


def test_the_source_parser_raises_only_its_own_error() -> None:
    with pytest.raises(SourceSyntaxError) as info:
        parse_source("a: &x 1\nb: *x\n", "x.yaml")
    error = info.value
    assert (error.line, error.column, error.path, error.message) == (1, 4, ("a",), ANCHORS)


def test_a_journey_has_at_most_two_hundred_steps() -> None:
    steps = "".join(f"  - {{id: s{i}, wait: 1d}}\n" for i in range(1000)) + "  - {id: done, exit: done}\n"
    message = f"a journey has at most {MAX_STEPS} steps; this one has 1001"
    assert problems_of(HEAD + steps) == [("broken.yaml", 5, 3, "steps", message)]


def test_two_hundred_steps_are_fine() -> None:
    steps = (
        "".join(f"  - {{id: s{i}, wait: 1d}}\n" for i in range(MAX_STEPS - 1))
        + "  - {id: done, exit: done}\n"
    )
    assert len(compile_text(HEAD + steps, "ok.yaml", TEMPLATES).nodes) == MAX_STEPS


def test_at_most_a_hundred_problems_are_listed_then_how_many_more() -> None:
    text = HEAD + FINE_STEP + "".join(f"k{i}: 1\n" for i in range(150))
    found = problems_of(text)
    assert len(found) == MAX_ERRORS + 1
    assert found[0] == ("broken.yaml", 6, 1, "k0", 'unknown key "k0"')
    assert found[-1] == (
        "broken.yaml",
        106,
        1,
        "",
        "50 more problem(s) from here on are not listed; fix the first 100 first",
    )


def test_a_step_chain_longer_than_the_recursion_limit_is_checked() -> None:
    # Two hundred steps that never wait, in a loop: found without recursing once per step.
    steps = "".join(f"  - {{id: s{i}, award: {{points: 1, reason: r}}}}\n" for i in range(MAX_STEPS - 1))
    text = HEAD + steps + "  - {id: back, set_stage: reach, next: s0}\n"
    [(_, line, column, path, message)] = problems_of(text)
    assert (line, column, path) == (5, 5, "steps[0]")
    assert message.startswith("loop s0 -> s1 -> ") and message.endswith(
        "-> back -> s0 never waits; add a wait or wait_for so a customer cannot spin forever"
    )


def test_a_file_of_more_values_than_any_journey_needs_is_refused_where_the_limit_is_passed() -> None:
    items = ", ".join(["[1]"] * 50_000)  # 250 KB of tiny lists: seconds to build with PyYAML's parser
    found = problems_of(f"{HEAD}x: [{items}]\n")
    assert found == [
        (
            "broken.yaml",
            5,
            49_971,
            "x[9993][0]",
            "the file holds more than 20,000 values, more than any journey needs",
        )
    ]
