"""The Reports screen (报表, F7): every report, built-in or from a plugin, for a period
typed as people type it; the figures on screen are run_report's; saved files open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from crm_plugins import visits as visits_plugin
from crm_tui.app import TongxinApp
from crm_tui.screens.reports import (
    PeriodError,
    ReportsScreen,
    documents_dir,
    parse_period,
    period_text,
    shown_path,
)
from rich.table import Table
from textual.widgets import Input, OptionList, Select, Static

from crm_core import hookimpl
from crm_core.app import Tongxin
from crm_core.reports import Column, Period, ReportSpec, ReportTable, Section, run_report
from crm_core.reports.output import cell_text

from .conftest import settle
from .test_flows import plain

SIZE = (120, 40)
TODAY = date(2026, 11, 27)


def shown_rows(screen: ReportsScreen, key: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a section's table as the screen shows them."""
    table = screen.query_one(f"#sec-{key}", Static).content
    assert isinstance(table, Table)
    header = [str(c.header) for c in table.columns]
    cells = [[str(v) for v in c._cells] for c in table.columns]
    return header, [list(r) for r in zip(*cells, strict=True)] if cells else []


async def open_reports(pilot: Any) -> ReportsScreen:
    await settle(pilot)
    await pilot.press("f7")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


async def type_into(pilot: Any, selector: str, text: str) -> None:
    """Replace a field's text by typing, as a user would."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.press("end", "ctrl+u")
    await pilot.press(*text)


# -- the period field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026年", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026年第三季度", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-07-01 至 2026-09-30", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-07-01 - 2026-08-15", date(2026, 7, 1), date(2026, 8, 15)),
        ("2026-07-01~2026-08-15", date(2026, 7, 1), date(2026, 8, 15)),
        ("10/1 到 11/27", date(2026, 10, 1), date(2026, 11, 27)),
    ],
)
def test_periods_as_people_type_them(text: str, start: date, end: date) -> None:
    period = parse_period(text, today=TODAY)
    assert (period.start, period.end) == (start, end)
    assert parse_period(period_text(period), today=TODAY) == period  # shown, read back


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "未填写"),
        ("2026Q5", "2026Q5"),
        ("1066", "1066"),
        ("2026-09-30 至 2026-07-01", "截止日期 2026-07-01 早于起始日期 2026-09-30"),
        ("2026-07-01 至 明年某天", "明年某天"),
        ("last year", "无法把 .last. 识别为日期"),
    ],
)
def test_bad_periods_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(PeriodError, match=says):
        parse_period(text, today=TODAY)


# -- the screen ---------------------------------------------------------------------


async def test_coverage_for_a_year_shows_run_reports_figures_and_saves_xlsx(
    core: Tongxin, tmp_path: Path
) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        options = screen.query_one("#report-list", OptionList)
        listed = [str(options.get_option_at_index(i).id) for i in range(options.option_count)]
        assert listed[:3] == ["coverage", "liaison", "followups"]  # then plugins'
        assert screen.query_one("#period", Input).value == "2026Q4"  # the current quarter
        await type_into(pilot, "#period", "2026")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.shown is not None and screen.shown.period == Period.year(2026)
        heading = plain(screen.query_one("#report-heading", Static).content)
        assert "联系覆盖情况" in heading and "2026年" in heading
        with core.unit() as unit:
            _spec, expected = run_report(unit, "coverage", Period.year(2026))
        for section in expected.sections:
            header, rows = shown_rows(screen, section.key)
            assert header == [c.zh for c in section.columns]
            assert rows == [[cell_text(r.get(c.key), c.kind) for c in section.columns]
                            for r in section.rows]  # fmt: skip
        _, rows = shown_rows(screen, "coverage")
        assert rows[0] == ["全部", "全部联系对象", "6", "2", "33.3%", "4"]  # the fixed office
        # Save: a path typed by the user, in a folder that does not exist yet.
        target = tmp_path / "报表" / "覆盖情况.xlsx"
        await type_into(pilot, "#path", str(target))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.saved == target and target.exists()
    book = openpyxl.load_workbook(target)
    sheet = book[book.sheetnames[0]]
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    everyone = next(r for r in values if "全部联系对象" in r)
    assert list(everyone[:6]) == ["全部", "全部联系对象", 6, 2, pytest.approx(2 / 6), 4]
    assert any("联系覆盖情况" in str(v) for r in values[:2] for v in r if v)


async def test_the_path_follows_report_period_and_format_until_typed(
    make_core: Callable[..., Tongxin], tmp_path: Path
) -> None:
    core = make_core(plugins={"visits": visits_plugin})  # the report "visits" is its
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        path = screen.query_one("#path", Input)
        assert path.value == shown_path(documents_dir() / "联系覆盖情况_2026年第四季度.xlsx")
        assert Path(path.value).expanduser().parent == documents_dir()
        screen.query_one("#report-list", OptionList).highlighted = 3  # visits (a plugin's)
        await type_into(pilot, "#period", "2026Q3")
        await settle(pilot)
        assert path.value.endswith("走访约请统计_2026年第三季度.xlsx")
        screen.query_one("#format", Select).value = ".docx"
        await settle(pilot)
        assert path.value.endswith("走访约请统计_2026年第三季度.docx")
        # Word: saved where the user says, opens as a document with the report's title.
        target = tmp_path / "visits.docx"
        await type_into(pilot, "#path", str(target))
        await type_into(pilot, "#period", "2026")  # a path typed by hand is kept
        assert path.value == str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.saved == target
        assert screen.shown is not None and screen.shown.spec.code == "visits"
    text = "\n".join(p.text for p in docx.Document(str(target)).paragraphs)
    assert "走访约请统计" in text and "2026年" in text


async def test_bad_period_and_bad_path_are_refused_inline_naming_the_field(
    core: Tongxin, tmp_path: Path
) -> None:
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        await type_into(pilot, "#period", "2026Q5")
        await pilot.press("enter")
        await settle(pilot)
        error = screen.query_one("#error-period", Static)
        assert error.has_class("-shown")
        assert "统计期间" in plain(error.content) and "2026Q5" in plain(error.content)
        assert screen.shown is None and not screen.query(".report-section")
        assert screen.query_one("#period", Input).value == "2026Q5"  # nothing typed is lost
        await type_into(pilot, "#period", "2026")
        await type_into(pilot, "#path", str(tmp_path / "coverage.pdf"))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not error.has_class("-shown")
        path_error = screen.query_one("#error-path", Static)
        assert "保存到" in plain(path_error.content) and ".xlsx" in plain(path_error.content)
        assert not (tmp_path / "coverage.pdf").exists() and screen.saved is None
        (tmp_path / "a-folder.csv").mkdir()
        await type_into(pilot, "#path", str(tmp_path / "a-folder.csv"))
        await pilot.press("enter")  # Enter in the path field saves
        await settle(pilot)
        assert "a-folder.csv" in plain(path_error.content) and screen.saved is None
        await type_into(pilot, "#path", str(tmp_path / "coverage.csv"))
        await pilot.press("enter")
        await settle(pilot)
        assert not path_error.has_class("-shown") and screen.saved == tmp_path / "coverage.csv"
    assert "联系覆盖情况" in (tmp_path / "coverage.csv").read_text("utf-8-sig")


def _teas(unit: Any, period: Period) -> ReportTable:
    rows = [{"county": "宝应县", "county_en": "Baoying", "teas": 3}]
    columns = [Column("county", "县(市、区)", "County"), Column("teas", "次数", "Count", "int")]
    return ReportTable([Section("teas", "茶叙", "Tea chats", columns, rows)])


class TeaPlugin:
    """A county's plugin registering its own report: the screen knows nothing of it."""

    @hookimpl
    def register_reports(self, register: Callable[[ReportSpec], None]) -> None:
        register(ReportSpec("teas", "茶叙统计", "Tea chats", _teas))


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_plugins_report_is_listed_and_runs_like_the_built_in_ones(
    make_core: Callable[..., Tongxin], lang: str
) -> None:
    core = make_core(plugins={"county_teas": TeaPlugin()})
    app = TongxinApp(core, actor="office", lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        options = screen.query_one("#report-list", OptionList)
        prompts = [plain(options.get_option_at_index(i).prompt) for i in range(3, 4)]
        title = "Tea chats" if lang == "en" else "茶叙统计"
        marker = "from a plugin" if lang == "en" else "插件提供"  # no plugin code shown
        assert prompts == [f"{title}  · {marker}"]
        options.highlighted = 3  # the first plugin's report, after the core's three
        options.focus()
        await pilot.press("enter")  # Enter on a report runs it
        await settle(pilot)
        header, rows = shown_rows(screen, "teas")
        if lang == "en":
            assert (header, rows) == (["County", "Count"], [["Baoying", "3"]])
        else:
            assert (header, rows) == (["县(市、区)", "次数"], [["宝应县", "3"]])
        section = screen.query_one("#sec-teas", Static)
        assert section.border_title == ("Tea chats (1)" if lang == "en" else "茶叙 (1)")


async def test_new_screens_from_palette_by_pinyin_and_listed_in_help(core: Tongxin) -> None:
    from crm_tui.commands import TongxinCommands
    from crm_tui.screens.feed import FeedScreen

    from .test_flows import static_text

    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = TongxinCommands(app.screen)
        for initials, title, screen_type in (
            ("bb", "前往: 报表", ReportsScreen),
            ("sjrl", "前往: 手机日历", FeedScreen),
        ):
            hits = [h async for h in provider.search(initials)]
            hit = next(h for h in hits if plain(h.text) == title)
            hit.command()
            await settle(pilot)
            assert isinstance(app.screen, screen_type)
        await pilot.press("f1", "i")  # i: the keys' ids shown
        await settle(pilot)
        text = static_text(app.screen, "#help-table")
        for key_id in ("app.reports", "app.feed", "reports.run", "reports.save", "feed.new",
                       "feed.copy", "feed.revoke", "feedrevoke.cancel"):  # fmt: skip
            assert key_id in text, key_id
        assert "运行报表" in text and "作废全部地址" in text


def _broken(unit: Any, period: Period) -> ReportTable:
    raise RuntimeError("the county's table is missing")


class BrokenPlugin:
    """A plugin whose report fails when run."""

    @hookimpl
    def register_reports(self, register: Callable[[ReportSpec], None]) -> None:
        register(ReportSpec("broken", "坏报表", "Broken", _broken))


async def test_a_failing_report_is_a_message_and_the_screen_works_on(
    make_core: Callable[..., Tongxin],
) -> None:
    core = make_core(plugins={"broken": BrokenPlugin()})
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        options = screen.query_one("#report-list", OptionList)
        options.highlighted = 3  # the first plugin's report, after the core's three
        await pilot.press("ctrl+r")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert any("the county's table is missing" in m for m in errors)
        heading = plain(screen.query_one("#report-heading", Static).content)
        assert "坏报表" in heading and "失败" in heading
        options.highlighted = 0  # another report still runs
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.shown is not None and screen.shown.spec.code == "coverage"


class SlowPlugin:
    """A report that takes as long as the test wants (until ``release`` is set)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()

    def _slow(self, unit: Any, period: Period) -> ReportTable:
        self.started.set()
        self.release.wait(10)
        return _teas(unit, period)

    @hookimpl
    def register_reports(self, register: Callable[[ReportSpec], None]) -> None:
        register(ReportSpec("slow", "慢报表", "Slow", self._slow))


async def test_a_long_report_keeps_keys_working_shows_progress_and_can_be_cancelled(
    make_core: Callable[..., Tongxin],
) -> None:
    slow = SlowPlugin()
    core = make_core(plugins={"slow": slow})
    app = TongxinApp(core, actor="office")
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_reports(pilot)
            options = screen.query_one("#report-list", OptionList)
            options.highlighted = 3  # the plugin's report
            await pilot.press("ctrl+r")
            for _ in range(50):  # until the worker thread is inside the report
                await pilot.pause(0.02)
                if slow.started.is_set():
                    break
            await pilot.pause()
            heading = plain(screen.query_one("#report-heading", Static).content)
            assert "正在生成慢报表" in heading and "Esc" in heading
            assert screen.query_one("#report-progress").display
            assert any(b.action == "cancel" for _n, b, _e, _t in screen.active_bindings.values())
            # The keys work while it runs: the period can be typed.
            await type_into(pilot, "#period", "2025")
            assert screen.query_one("#period", Input).value == "2025"
            await pilot.press("escape")
            await pilot.pause()
            heading = plain(screen.query_one("#report-heading", Static).content)
            assert "已取消" in heading and "慢报表" in heading
            assert not screen.query_one("#report-progress").display
            slow.release.set()  # the report ends after all: its result is dropped
            await settle(pilot)
            assert screen.shown is None
            assert "已取消" in plain(screen.query_one("#report-heading", Static).content)
            options.highlighted = 0  # and the next report runs as usual
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert screen.shown is not None and screen.shown.spec.code == "coverage"
            assert not any(
                b.action == "cancel" for _n, b, _e, _t in screen.active_bindings.values()
            )  # nothing runs: no Esc offered
    finally:
        slow.release.set()
