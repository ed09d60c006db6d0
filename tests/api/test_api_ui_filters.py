"""The pages' text filters: counts read as English ("1 day", "3 days"), numbers with separators."""

from __future__ import annotations

from api.ui.templating import templates


def render(source: str, **values: object) -> str:
    return templates.env.from_string(source).render(**values)


def test_a_count_takes_the_singular_for_exactly_one() -> None:
    shown = [render('{{ n|counted("day") }}', n=n) for n in (0, 1, 2, 7, 1234)]
    assert shown == ["0 days", "1 day", "2 days", "7 days", "1,234 days"]
    assert render('{{ n|counted("point") }}', n=1) == "1 point"
