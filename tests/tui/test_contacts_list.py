"""The contacts table (F3): rows drawn at their columns' widths, the whole list paged in
as the user moves or scrolls, the count and the cursor's position said."""

from __future__ import annotations

from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.common import DataTable
from crm_tui.screens.contacts import ContactsScreen, Row

from crm_core.app import Tongxin

from .conftest import settle


def frame(app: Any) -> str:
    """What the screen would send to the terminal now (all of it)."""
    return str(app.screen._compositor.render_update(full=True).render_segments(app.console))


def line_of(table: DataTable, row: int) -> str:
    """The text of a table row as painted (the header is line 0)."""
    return table.render_line(row + 1).text


async def test_a_row_painted_before_the_columns_widened_is_repainted(core: Tongxin) -> None:
    # The race behind a flaky test: the screen repainted between add_row and the table's
    # Idle, which measures the new cells. Textual kept that painted line in its cache,
    # cut to the header's widths ("王委" for the whole name) for as long as the table
    # kept its size. Here the paint comes first on purpose, every time.
    app = TongxinApp(core, actor="office", start="contacts")
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ContactsScreen)
        table = screen.query_one("#people", DataTable)
        employer = "扬州大学附属医院心血管内科 主任"
        long = Row("x1", "王委员长欧阳修远", None, None, None, employer, None)
        screen._show(screen.generation, ([long], 1), replace=True)
        assert "王委" in line_of(table, 0) and "王委员长欧阳修远" not in line_of(table, 0)
        await settle(pilot)
        painted = line_of(table, 0)
        assert "王委员长欧阳修远" in painted, painted
        assert "扬州大学附属医院心血管内科 主任" in painted, painted
        assert "王委员长欧阳修远" in frame(app)
