"""The review of duplicates (重复记录), driven with Textual's Pilot: opened from the
palette, the pair side by side with the differing fields marked, a field's value taken
from the other record, merged; the next pair marked "not a duplicate"."""

from __future__ import annotations

from typing import Any

from crm_tui.app import TongxinApp
from crm_tui.screens.duplicates import DuplicatesScreen
from sqlalchemy import select
from textual.widgets import DataTable, Static

from crm_core.app import Tongxin
from crm_core.dedupe_models import NotDuplicate
from crm_core.services import contacts, duplicates, followups

from .conftest import settle
from .test_flows import plain

SIZE = (120, 40)


def cells(table: DataTable[Any], key: str) -> list[str]:
    return [plain(c) for c in table.get_row(key)]


async def test_review_take_a_value_merge_and_mark_not_a_duplicate(core: Tongxin) -> None:
    with core.unit() as unit:
        keep = contacts.create_person(
            unit, name="王建华", birth="1965-03", employer="扬州大学", mobile="13812340001"
        ).id
        drop = contacts.create_person(
            unit, name="王建华", birth="1965-03", employer="扬州职业大学", title="教授"
        ).id
        concern = followups.raise_follow_up(unit, title="路灯不亮", person_id=drop).id
        one = contacts.create_person(unit, name="张伟", employer="[b]粗体[/b]").id
        other = contacts.create_person(unit, name="章伟").id
        before = {frozenset((p.a, p.b)) for p in duplicates.find_duplicates(unit)}
    assert {frozenset((keep, drop)), frozenset((one, other))} <= before
    app = TongxinApp(core, actor="office", lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"duplicates")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen)
        pairs = screen.query_one("#dup-pairs", DataTable)
        assert pairs.row_count == len(before)
        first = cells(pairs, "0")
        assert first[:3] == ["95", "certain", "same name and birth month"]
        fields = screen.query_one("#dup-fields", DataTable)
        assert screen.review is not None
        if screen.review.keep != str(keep):
            # The clock is frozen: both were made at once, so either may come first.
            # s swaps which record stays.
            await pilot.press("s")
            await settle(pilot)
        assert screen.review.keep == str(keep)
        employer = cells(fields, "employer")
        assert employer == ["≠", "Employer", "扬州大学", "扬州职业大学", "扬州大学  (KEEP's)"]
        assert cells(fields, "name")[0] == ""  # alike: not marked
        assert cells(fields, "title")[4] == "教授  (DROP's)"  # filled from the duplicate
        moves = plain(screen.query_one("#dup-moves", Static).content)
        assert "Follow-ups: 1  路灯不亮" in moves
        # Take DROP's employer: the result says so before anything is written.
        fields.focus()
        fields.move_cursor(row=fields.get_row_index("employer"))
        await pilot.press("t")
        await settle(pilot)
        assert cells(fields, "employer")[4] == "扬州职业大学  (DROP's)"
        await pilot.press("m")
        await settle(pilot)
        with core.unit() as unit:
            kept = contacts.get_person(unit, keep)
            assert (kept.employer, kept.title) == ("扬州职业大学", "教授")
            assert contacts.get_person(unit, drop).merged_into_id == keep
            assert followups.get_follow_up(unit, concern).person_id == keep
        # The merged pair is gone from the list; the next is 张伟 / 章伟, a stored name
        # shown as written (no markup).
        assert pairs.row_count == len(before) - 1
        rows = [cells(pairs, str(i)) for i in range(pairs.row_count)]
        assert not any("王建华" in " ".join(r) for r in rows)
        pairs.focus()
        index = next(i for i, r in enumerate(rows) if "章伟" in " ".join(r))
        pairs.move_cursor(row=index)
        await settle(pilot)
        assert "[b]粗体[/b]" in " ".join(cells(fields, "employer"))
        await pilot.press("n")
        await settle(pilot)
        assert pairs.row_count == len(before) - 2
    with core.unit() as unit:
        low, high = sorted((one, other), key=str)
        assert unit.session.scalars(select(NotDuplicate)).all()[0].person_a == low
        assert {frozenset((p.a, p.b)) for p in duplicates.find_duplicates(unit)} == before - {
            frozenset((keep, drop)),
            frozenset((one, other)),
        }
        assert high
