"""At 80×24 (the smallest terminal the office is told to use): every footer key shows,
the contacts table keeps name and phone and marks what it cuts with "…", and the
dashboard puts who is overdue above the fold and says when the list goes on below."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from crm_tui.app import MAIN_SCREENS, TongxinApp
from rich.cells import cell_len

from crm_core.app import Tongxin
from crm_core.i18n import set_language
from crm_core.services import contacts, interactions

from .conftest import NOW, settle

SMALL = (80, 24)


def screen_lines(app: Any) -> list[str]:
    """The text painted on the terminal now, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips(app.size)]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_footer_key_shows_at_80_columns(core: Tongxin, lang: str) -> None:
    app = TongxinApp(core, actor="office", lang=lang)
    try:
        async with app.run_test(size=SMALL) as pilot:
            for name in MAIN_SCREENS:
                app.goto(name)
                await settle(pilot)
                for _ in range(20):  # the footer is filled once the screen is active
                    if app.screen.query("Footer HorizontalGroup"):
                        break
                    await pilot.pause()
                await pilot.pause()
                lines = screen_lines(app)
                assert all(cell_len(line) <= SMALL[0] for line in lines)
                bottom = "\n".join(lines[-3:])  # the footer's rows
                shown = [
                    (app.get_key_display(b), b.description)
                    for _n, b, _e, _t in app.screen.active_bindings.values()
                    if b.show
                ]
                assert len(shown) >= 9, shown  # the screen's keys and F1…F8
                for key, description in shown:
                    assert f"{key} {description}" in bottom, (name, key, description, bottom)
    finally:
        set_language("zh")


async def test_the_contacts_table_keeps_name_and_phone_and_marks_cuts(core: Tongxin) -> None:
    with core.unit() as unit:
        contacts.create_person(
            unit,
            name="欧阳长名字",
            mobile="13700001234",
            employer="扬州市广陵区某某街道某某社区居民委员会与某某科技有限公司联合党支部",
            title="书记",
        )
    app = TongxinApp(core, actor="office", start="contacts")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await settle(pilot)
        row = next(line for line in screen_lines(app) if "欧阳长名字" in line)
        assert "137 0000 1234" in row or "13700001234" in row, row
        assert row.rstrip().endswith("…") or "… " in row, row  # the employer, cut and marked
        assert cell_len(row) <= SMALL[0]
        header = next(line for line in screen_lines(app) if "手机" in line and "党派" in line)
        assert header.index("手机") < header.index("工作单位")  # the phone before the long one


async def test_the_dashboard_shows_the_overdue_above_the_fold_and_a_cue(core: Tongxin) -> None:
    zhang = core.test_ids["张三"]  # type: ignore[attr-defined]
    with core.unit() as unit:  # a busy week: more than a screenful in all
        for n in range(14):
            interactions.schedule_interaction(
                unit,
                kind="call",
                people=[zhang],
                accounts=[core.test_ids["office"]],  # type: ignore[attr-defined]
                start=NOW + timedelta(days=1 + n % 5, hours=n % 6),
                summary=f"电话了解情况 {n}",
            )
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        assert "超期未联系" in text and "到期跟踪事项" in text, text
        cue = app.screen.query_one("#dash-cue")
        assert cue.display
        assert "▼ 下面还有" in text, text
        app.screen.query_one("#dash-list").focus()
        await pilot.press("end")
        await settle(pilot)
        assert "▼ 下面还有" not in "\n".join(screen_lines(app))  # at the end: no cue
