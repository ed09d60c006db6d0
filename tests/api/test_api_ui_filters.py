"""The pages' text filters: counts read as English ("1 day", "3 days"), numbers with separators,
snake-case ids as words ("Free shipping")."""

from __future__ import annotations

from api.ui.templating import templates


def render(source: str, **values: object) -> str:
    return templates.env.from_string(source).render(**values)


def test_a_count_takes_the_singular_for_exactly_one() -> None:
    shown = [render('{{ n|counted("day") }}', n=n) for n in (0, 1, 2, 7, 1234)]
    assert shown == ["0 days", "1 day", "2 days", "7 days", "1,234 days"]
    assert render('{{ n|counted("point") }}', n=1) == "1 point"


def test_a_snake_case_id_reads_as_words_and_any_other_name_as_written() -> None:
    shown = [
        render("{{ v|label }}", v=v)
        for v in ("free_shipping", "early-access", "vip", "VIP lounge", "Früh_Zugang")
    ]
    assert shown == ["Free shipping", "Early access", "Vip", "VIP lounge", "Früh_Zugang"]
