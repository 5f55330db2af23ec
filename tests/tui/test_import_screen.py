"""The import screen (Ctrl+O): a roster with a region and a committee the config does
not know is previewed, its values answered on the screen (add one, read the other as two
committees), imported with its good rows; the answers are saved, so the same file again
asks nothing and changes nothing."""

from __future__ import annotations

import csv
import tomllib
from contextlib import suppress
from pathlib import Path
from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.import_screen import ImportScreen, errors_path
from textual.widgets import Input, Select
from textual.worker import WorkerCancelled

from crm_core.services import contacts
from crm_core.testing import make_test_app

from .test_flows import static_text

SIZE = (140, 50)


async def settle(pilot: Any) -> None:
    """Let the app finish its work; the folder tree's loader waits for folders to open
    as long as the tree lives, so it is not waited for."""
    for _ in range(3):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.group != "_loader"]
        if busy:  # (an empty list would mean every worker)
            with suppress(WorkerCancelled):
                await pilot.app.workers.wait_for_complete(busy)
    await pilot.pause()


OFFICE = "# 本办配置（注释要保留）\n[settings]\nfollow_up_days = 30\n"


def _roster(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["姓名", "性别", "出生年月", "所在地", "专委会", "手机"],
                ["张三", "男", "1965.03", "广陵区", "提案委员会", "13800138000"],
                ["李四", "女", "1970.05", "扬州综合保税区", "提案委员会", "13800138001"],
                ["王五", "男", "1971.06", "宝应县", "民族宗教和港澳台侨新委员会", "13800138002"],
                ["赵六", "女", "1972.13", "宝应县", "提案委员会", "13800138003"],
            ]
        )
    return path


async def test_a_roster_with_unknown_values_is_answered_and_imported(tmp_path: Path) -> None:
    core = make_test_app(tmp_path / "db", config_text=OFFICE)
    config_file = tmp_path / "db" / "tongxin-test-config.toml"
    roster = _roster(tmp_path / "名单.csv")
    app = TongxinApp(core, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        field = screen.query_one("#import-path", Input)
        field.focus()
        field.value = str(roster)
        await pilot.press("enter")
        await settle(pilot)
        # The first rows as they will be read: labels, phones in E.164.
        preview = static_text(screen, "#import-preview")
        assert "张三" in preview and "广陵区" in preview and "+8613800138000" in preview
        assert {(u.value, u.rows) for u in screen.unknown} == {
            ("扬州综合保税区", 1),
            ("民族宗教和港澳台侨新委员会", 1),
        }
        assert "waiting for an answer 2" in static_text(screen, "#import-result")
        by_value = {u.value: i for i, u in enumerate(screen.unknown)}
        zone, committee = by_value["扬州综合保税区"], by_value["民族宗教和港澳台侨新委员会"]
        # The closest entries are offered: both committees of the merged name.
        options = [str(o[0]) for o in screen._options(screen.unknown[committee])]
        assert any("民族宗教委员会" in o and "港澳台侨和外事委员会" in o for o in options)
        screen.query_one(f"#choice-{zone}", Select).value = "add"
        screen.query_one(
            f"#choice-{committee}", Select
        ).value = "map:ethnic_religious,hk_macao_taiwan"
        await pilot.press("ctrl+r")
        await settle(pilot)
        result = static_text(screen, "#import-result")
        assert "created 3" in result and "refused 1" in result
        assert "row 5, 出生年月 '1972.13'" in result
        assert str(errors_path(roster)) in result and errors_path(roster).exists()
        assert str(config_file) in result
    text = config_file.read_text("utf-8")
    assert text.startswith(OFFICE)  # comments kept
    data = tomllib.loads(text)
    [zone_entry] = data["regions"]
    assert zone_entry["zh"] == "扬州综合保税区"
    assert data["import"]["mappings"]["default"]["committees"] == {
        "民族宗教和港澳台侨新委员会": ["ethnic_religious", "hk_macao_taiwan"]
    }
    with core.unit() as unit:
        people = {p.name: contacts.person_json(unit, p) for p in contacts.list_people(unit).items}
    assert set(people) == {"张三", "李四", "王五"}
    assert people["李四"]["region"] == zone_entry["code"]
    assert sorted(people["王五"]["committees"]) == ["ethnic_religious", "hk_macao_taiwan"]
    core.close()

    # Next time (the config as it now is): no questions, and nothing changes.
    core = make_test_app(tmp_path / "db", config_text=text)
    app = TongxinApp(core, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(roster)
        await pilot.click("#import-preview-button")
        await settle(pilot)
        assert not screen.query(Select)  # nothing to answer
        assert "saved answer" in static_text(screen, "#import-unknowns > Static:last-of-type")
        await pilot.press("ctrl+r")
        await settle(pilot)
        result = static_text(screen, "#import-result")
        assert "unchanged 3" in result and "created" not in result
    assert config_file.read_text("utf-8") == text
    core.close()


async def test_a_missing_file_and_a_bad_code_are_said_on_the_screen(tmp_path: Path) -> None:
    core = make_test_app(tmp_path / "db", config_text=OFFICE)
    roster = _roster(tmp_path / "名单.csv")
    app = TongxinApp(core, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(tmp_path / "nothing.xlsx")
        await pilot.click("#import-preview-button")
        await settle(pilot)
        assert "choose a roster file" in static_text(screen, "#error-path")
        screen.query_one("#import-path", Input).value = str(roster)
        await pilot.click("#import-preview-button")
        await settle(pilot)
        i = next(i for i, u in enumerate(screen.unknown) if u.field == "committees")
        screen.query_one(f"#codes-{i}", Input).value = "no_such_committee"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "no_such_committee is not a code or label" in static_text(screen, "#error-general")
    with core.unit() as unit:
        assert contacts.list_people(unit).items == []  # one transaction: nothing written
    core.close()
