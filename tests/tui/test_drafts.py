"""Drafts, not losses (issue 14): Esc on a changed form asks, and a form a crash or a
closed terminal interrupted is offered back at the next start."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from crm_tui.app import TongxinApp
from crm_tui.drafts import Draft, DraftStore, drafts_folder
from crm_tui.screens.draft_offer import OfferDraft
from crm_tui.screens.drafts import ConfirmClose
from crm_tui.screens.form import InteractionForm
from crm_tui.screens.person import PersonScreen
from crm_tui.screens.person_edit import PersonEditForm
from textual.widgets import Button, Input, TextArea

from crm_core.app import Tongxin
from crm_core.services import contacts, interactions

from .conftest import settle

SIZE = (80, 24)


def draft_files() -> list[Path]:
    folder = drafts_folder()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


async def _type_a_visit(pilot, app: TongxinApp, core: Tongxin) -> InteractionForm:
    app.open_form("log", person_id=str(core.test_ids["张三"]))  # type: ignore[attr-defined]
    await settle(pilot)
    form = app.screen
    assert isinstance(form, InteractionForm)
    form.query_one("#summary", Input).focus()
    await pilot.press(*"看望张三")
    form.query_one("#notes", TextArea).focus()
    await pilot.press(*"谈到科研经费")
    await settle(pilot)
    return form


async def test_esc_on_a_changed_form_asks_and_keeps_editing(core: Tongxin) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _type_a_visit(pilot, app, core)
        # The draft is on disk while typing, readable by the user only.
        [path] = draft_files()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        body = json.loads(path.read_text("utf-8"))
        assert body["values"]["summary"] == "看望张三" and body["form"] == "log"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmClose)
        await pilot.press("escape")  # keep editing: the default, and Esc
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        assert form.query_one("#summary", Input).value == "看望张三"
        # Discard: the form closes, the draft goes, nothing was saved.
        await pilot.press("escape")
        await settle(pilot)
        app.screen.query_one("#close-discard", Button).press()
        await settle(pilot)
        assert not isinstance(app.screen, InteractionForm)
        assert draft_files() == []
    with core.unit() as unit:
        assert not [
            i for i in interactions.timeline(unit, core.test_ids["张三"]) if i.summary == "看望张三"
        ]


async def test_an_unchanged_form_closes_and_esc_then_save_saves(core: Tongxin) -> None:
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_form("log", person_id=str(core.test_ids["张三"]))  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("escape")  # nothing changed: closes without asking
        await settle(pilot)
        assert not isinstance(app.screen, (InteractionForm, ConfirmClose))
        assert draft_files() == []
        await _type_a_visit(pilot, app, core)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+s")  # Save, in the question
        await settle(pilot)
        assert not isinstance(app.screen, (InteractionForm, ConfirmClose))
        assert draft_files() == []
    with core.unit() as unit:
        [saved] = [
            i for i in interactions.timeline(unit, core.test_ids["张三"]) if i.summary == "看望张三"
        ]
        assert saved.notes == "谈到科研经费"


async def test_an_interrupted_form_is_offered_back_at_the_next_start(core: Tongxin) -> None:
    first = TongxinApp(core)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _type_a_visit(pilot, first, core)
    # The terminal closed with the form open. Next start: the offer, then the form back.
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offer = app.screen
        assert isinstance(offer, OfferDraft)
        shown = " ".join(str(s.content) for s in offer.query("Static"))
        assert "张三" in shown and "看望张三" in shown
        await pilot.press("enter")  # "open it again" has the focus
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        assert form.query_one("#summary", Input).value == "看望张三"
        assert form.query_one("#notes", TextArea).text == "谈到科研经费"
        assert form.query_one("ParticipantPicker").people() == [str(core.test_ids["张三"])]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert draft_files() == []
    # Saved once: nothing offered any more.
    again = TongxinApp(core)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(again.screen, OfferDraft)


async def test_person_edit_draft_survives_and_a_discarded_offer_is_gone(core: Tongxin) -> None:
    pid = str(core.test_ids["李四"])  # type: ignore[attr-defined]
    first = TongxinApp(core)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first.open_person(pid)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        edit = first.screen
        assert isinstance(edit, PersonEditForm)
        edit.query_one("#edit-address", Input).focus()
        await pilot.press(*"文昌中路1号")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(first.screen, ConfirmClose)
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OfferDraft)
        await pilot.press("enter")
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, PersonEditForm)
        assert edit.query_one("#edit-address", Input).value == "文昌中路1号"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen) or not isinstance(app.screen, PersonEditForm)
    with core.unit() as unit:
        assert contacts.get_person(unit, pid).address == "文昌中路1号"
    assert draft_files() == []


async def test_a_discarded_offer_is_not_offered_again(core: Tongxin) -> None:
    DraftStore(core).write(Draft("log", {"kind": "call", "summary": "电话问候"}, "电话联系"))
    app = TongxinApp(core)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OfferDraft)
        app.screen.query_one("#offer-discard", Button).press()
        await settle(pilot)
        assert not isinstance(app.screen, (OfferDraft, InteractionForm))
    assert draft_files() == []


def test_a_bad_draft_file_is_skipped_and_another_database_s_drafts_are_not_offered(
    make_core,
) -> None:
    one, other = make_core(data=False), make_core(data=False)
    folder = drafts_folder()
    folder.mkdir(parents=True)
    store = DraftStore(one)
    (folder / f"{store.database}-broken.json").write_text("{not json", "utf-8")
    (folder / f"{store.database}-pickle.json").write_bytes(b"\x80\x04K\x01.")
    (folder / f"{store.database}-alien.json").write_text(
        json.dumps({"format": 1, "form": "shell", "values": {}}), "utf-8"
    )
    DraftStore(other).write(Draft("log", {"summary": "另一个库"}))
    assert store.pending() == []
    [theirs] = DraftStore(other).pending()
    assert theirs.values == {"summary": "另一个库"}
