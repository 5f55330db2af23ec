"""Correct, cancel and delete a logged or scheduled interaction from its detail
(issue 14), each audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from crm_tui.app import TongxinApp
from crm_tui.drafts import DraftStore
from crm_tui.screens.draft_offer import form_of
from crm_tui.screens.form_edit import EditInteractionForm
from crm_tui.screens.interaction import ConfirmChange, InteractionDialog
from sqlalchemy import select
from textual.widgets import Button, Input, Select

from crm_core.app import Tongxin
from crm_core.errors import NotFound
from crm_core.models import AuditLog
from crm_core.services import interactions

from .conftest import settle

SIZE = (80, 24)


def _one(core: Tongxin, name: str, summary: str) -> str:
    with core.unit() as unit:
        for i in interactions.timeline(unit, core.test_ids[name]):  # type: ignore[attr-defined]
            if i.summary == summary:
                return str(i.id)
    raise LookupError(summary)


async def test_correct_cancel_and_delete_from_the_detail(core: Tongxin) -> None:
    meeting = _one(core, "张三", "座谈高校科研成果转化")
    planned = _one(core, "赵六", "通知参加界别活动周")
    call = _one(core, "李四", "电话了解企业用工情况")
    app = TongxinApp(core, actor="office")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Correct: the log form, filled with what it holds; its kind stays.
        app.open_interaction(meeting)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditInteractionForm)
        assert form.query_one("#kind", Select).disabled
        summary = form.query_one("#summary", Input)
        assert summary.value == "座谈高校科研成果转化"
        assert form.query_one("#when", Input).value == "2026-11-20 14:00"
        summary.value = "座谈高校科研成果转化（补记）"
        form.query_one("#data-topic", Input).value = "成果转化"
        await settle(pilot)
        # A correction keeps a draft too, naming what it corrects and the version read.
        [draft] = DraftStore(core).pending()
        assert draft.form == "edit" and draft.values["interaction_id"] == meeting
        assert draft.values["summary"] == "座谈高校科研成果转化（补记）"
        assert isinstance(form_of(draft), EditInteractionForm)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, EditInteractionForm)
        assert DraftStore(core).pending() == []
        # Cancel planned work, with a reason (asked first).
        app.open_interaction(planned)
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmChange)
        app.screen.query_one("#confirm-reason", Input).value = "活动延期"
        app.screen.query_one("#confirm-yes", Button).press()
        await settle(pilot)
        # Delete: "No" keeps it, "Yes" deletes it.
        app.open_interaction(call)
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InteractionDialog)
        await pilot.press("d")
        await settle(pilot)
        app.screen.query_one("#confirm-yes", Button).press()
        await settle(pilot)
        assert not isinstance(app.screen, (InteractionDialog, ConfirmChange))
    with core.unit() as unit:
        fixed = interactions.get_interaction(unit, meeting)
        assert fixed.summary == "座谈高校科研成果转化（补记）" and fixed.data["topic"] == "成果转化"
        assert fixed.start_at == datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # not moved
        cancelled = interactions.get_interaction(unit, planned)
        assert cancelled.status.value == "cancelled" and cancelled.cancel_reason == "活动延期"
        with pytest.raises(NotFound):
            interactions.get_interaction(unit, call)
        trail = {
            (e.entity_id, e.action)
            for e in unit.session.scalars(
                select(AuditLog).where(AuditLog.entity == "interaction", AuditLog.actor == "office")
            )
        }
        assert {(meeting, "update"), (planned, "update"), (call, "delete")} <= trail


async def test_confidential_work_cannot_be_changed_by_who_may_not_read_it(core: Tongxin) -> None:
    talk = _one(core, "张三", "交流思想近况")
    app = TongxinApp(core, actor="xiaoli")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_interaction(talk)
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, InteractionDialog)
        assert not any(dialog.query_one(f"#ix-{b}", Button).display for b in ("edit", "delete"))
        await pilot.press("e", "d")
        await settle(pilot)
        assert app.screen is dialog
