"""A plugin's obligations (``collect_obligations``) reach the daily digest of
``tongxin remind``, by a real local SMTP server: the rows an account owes in its own
digest, the office's in the administrators'; a raising plugin leaves the rest of the
digest going out."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from crm_core import hookimpl
from crm_core.kinds import Obligation, OpenTarget
from crm_core.reminders import digest_for
from crm_core.services import accounts
from crm_core.unit import Unit

from .test_reminders import _service, inbox, office, wait_for

__all__ = ["inbox", "office"]  # the fixtures, used by name


class Homes:
    """One row the leader owes, one the office owes."""

    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        leader = accounts.resolve_account(unit, "wangzx")
        return [
            Obligation(
                "home_activity:dongguan",
                "东关活动之家：本月尚无活动",
                detail="每月至少一次",
                due_on=as_of.replace(day=1),
                account_id=leader.id,
                link=OpenTarget("agenda", f"{as_of:%Y-%m}", kind="call"),
            ),
            Obligation("office:yearbook", "年鉴材料未报送"),
        ]


class Broken:
    @hookimpl
    def collect_obligations(self, unit: Unit, as_of: date) -> list[Obligation]:
        raise RuntimeError("the homes table is gone")


def test_a_plugin_row_is_in_the_digest_mail(office: Any) -> None:
    app, box, stream = office
    app.plugins.register(Broken(), "broken")
    app.plugins.register(Homes(), "homes")
    today = datetime.now(app.config.tz).date()
    subject = f"同心每日提要 {today.isoformat()}"
    service = _service(app, stream)
    service.start()  # the digest time (00:00) has passed: a start sends today's
    try:
        wait_for(lambda: any(m[1]["Subject"] == subject for m in box.mails))
        time.sleep(0.3)
    finally:
        service.shutdown()
    mails = [m for m in box.mails if m[1]["Subject"] == subject]
    assert len(mails) == 1
    rcpt, mail = mails[0]
    assert rcpt == ["wang@example.org"]
    text = mail.get_content()
    days = (today - today.replace(day=1)).days
    line = "东关活动之家：本月尚无活动（每月至少一次）"
    assert "其他待办事项" in text and line in text
    assert (f"已逾期 {days} 天" in text) if days else ("到期 " in text)
    assert "年鉴材料未报送" not in text  # the office's: the administrators' digest


def test_the_offices_rows_go_to_the_administrators_digest(office: Any) -> None:
    app, _box, _stream = office
    app.plugins.register(Homes(), "homes")
    day = date(2026, 11, 27)
    with app.unit() as unit:
        admin = accounts.resolve_account(unit, "office")
        leader = accounts.resolve_account(unit, "wangzx")
        for_admin = digest_for(unit, admin, day)
        for_leader = digest_for(unit, leader, day)
    assert for_admin.obligations == ["年鉴材料未报送"]
    assert for_leader.obligations == ["东关活动之家：本月尚无活动（每月至少一次） 已逾期 26 天"]
    assert not for_admin.empty and "其他待办事项\n· 年鉴材料未报送" in for_admin.text()
