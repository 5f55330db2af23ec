"""Long work can be cancelled (issue 14, item 7): an import runs in a worker with its
progress shown, and Esc or the 取消 button stops it mid-way with nobody of the file
written (the import is one transaction, rolled back whole); a report save cancelled
while its report runs writes no file, not even part of one."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from crm_tui.app import TongxinApp
from crm_tui.screens.import_screen import ImportScreen
from textual.widgets import Button, Input, OptionList, ProgressBar, Static

from crm_core import importer
from crm_core.app import Tongxin
from crm_core.services import contacts

from .test_flows import plain
from .test_import_screen import settle
from .test_reports_screen import SlowPlugin, open_reports, type_into

SIZE = (140, 50)
ROWS = 1500


def _roster(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["姓名", "性别", "出生年月", "手机"])
        for n in range(ROWS):
            writer.writerow([f"导入{n:04d}", "男", "1965.03", f"139{n:08d}"])
    return path


def _count(core: Tongxin, text: str) -> int:
    with core.unit() as unit:
        return contacts.search_people(unit, text, limit=5).total


def _when_writing(
    monkeypatch: pytest.MonkeyPatch,
    app: TongxinApp,
    how: Callable[[ImportScreen], None],
    *,
    cancel: bool = True,
) -> list[str]:
    """Run the real import, but when it reaches its writing stage call ``how`` on the
    UI thread: to cancel (then wait until the screen took it, so the cancel lands
    mid-way, at a known point), or after the screen showed that progress, to look at
    it. Returns the stages seen."""
    real = importer.import_roster
    seen: list[str] = []

    def import_roster(unit: Any, path: Any, **kwargs: Any) -> Any:
        screen_progress = kwargs["progress"]

        def progress(stage: str, done: int, total: int) -> None:
            seen.append(stage)
            if not cancel:
                screen_progress(stage, done, total)
                if stage == "write" and seen.count("write") == 1:
                    app.call_from_thread(how, app.screen)
                return
            if stage == "write" and seen.count("write") == 1:
                screen = app.screen
                assert isinstance(screen, ImportScreen)
                app.call_from_thread(how, screen)
                deadline = time.monotonic() + 5
                while not (screen.cancel_asked and screen.cancel_asked.is_set()):
                    assert time.monotonic() < deadline, "the cancel never arrived"
                    time.sleep(0.01)
            screen_progress(stage, done, total)

        return real(unit, path, **{**kwargs, "progress": progress})

    monkeypatch.setattr(importer, "import_roster", import_roster)
    return seen


async def _open_import(pilot: Any, roster: Path) -> ImportScreen:
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    assert not screen.query_one("#import-cancel").display  # nothing runs yet
    field = screen.query_one("#import-path", Input)
    field.value = str(roster)
    return screen


@pytest.mark.parametrize("how", ["escape", "button"])
async def test_an_import_cancelled_mid_way_writes_nobody(
    make_core: Callable[..., Tongxin],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    core = make_core()
    roster = _roster(tmp_path / "名单.csv")
    app = TongxinApp(core, actor="office")

    def cancel(screen: ImportScreen) -> None:
        if how == "escape":
            app.simulate_key("escape")
        else:
            button = screen.query_one("#import-cancel", Button)
            assert button.display and "取消" in str(button.label)
            button.press()

    seen = _when_writing(monkeypatch, app, cancel)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, roster)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "read" in seen and "write" in seen  # it was cancelled mid-way
        assert isinstance(app.screen, ImportScreen)  # Esc cancelled, it did not go back
        said = plain(screen.query_one("#import-result", Static).content)
        assert "导入已取消" in said
        assert not screen.query_one("#import-cancel").display
        assert not screen.query_one("#import-progress").display
        assert not screen.query_one("#import-run", Button).disabled
    assert _count(core, "导入") == 0  # rolled back: nobody of the file
    assert not (tmp_path / "名单-错误.xlsx").exists()


async def test_an_import_shows_its_progress_and_then_esc_goes_back(
    make_core: Callable[..., Tongxin], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = make_core()
    roster = _roster(tmp_path / "名单.csv")
    app = TongxinApp(core, actor="office")
    shown: list[tuple[bool, bool, float | None, str]] = []

    def look(screen: ImportScreen) -> None:
        bar = screen.query_one("#import-progress", ProgressBar)
        doing = plain(screen.query_one("#import-doing", Static).content)
        shown.append((screen.running, bar.display, bar.progress, doing))

    _when_writing(monkeypatch, app, look, cancel=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_import(pilot, roster)
        await pilot.press("ctrl+r")
        await settle(pilot)
        [(running, bar_shown, progress, doing)] = shown
        assert running and bar_shown and progress
        written = re.search(r"正在写入: (\d+) / \1 ", doing)
        assert written and "Esc" in doing
        assert not screen.running
        said = plain(screen.query_one("#import-result", Static).content)
        assert f"新增 {written[1]}" in said
        await pilot.press("escape")  # nothing runs: Esc goes back
        await settle(pilot)
        assert not isinstance(app.screen, ImportScreen)
    assert _count(core, "导入") == int(written[1]) > 1000


async def test_a_report_save_cancelled_while_it_runs_writes_no_file(
    make_core: Callable[..., Tongxin], tmp_path: Path
) -> None:
    slow = SlowPlugin()
    core = make_core(plugins={"slow": slow})
    app = TongxinApp(core, actor="office")
    target = tmp_path / "慢报表.xlsx"
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_reports(pilot)
            screen.query_one("#report-list", OptionList).highlighted = 3  # the plugin's
            await type_into(pilot, "#path", str(target))
            await pilot.press("ctrl+s")
            for _ in range(100):  # until the worker is inside the report
                await pilot.pause(0.02)
                if slow.started.is_set():
                    break
            assert slow.started.is_set()
            cancel = screen.query_one("#cancel", Button)
            assert cancel.display and "取消" in str(cancel.label)
            await pilot.click("#cancel")
            await pilot.pause()
            assert not cancel.display
            assert "已取消" in plain(screen.query_one("#report-heading", Static).content)
            slow.release.set()  # the report ends after all: nothing is written
            await settle(pilot)
            assert screen.saved is None
    finally:
        slow.release.set()
    assert list(tmp_path.glob("*慢报表*")) == []
