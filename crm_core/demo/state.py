"""What one run of the demo holds (:class:`_State`) and the small helpers every stage
uses. The stages (people.py, writer.py, generator.py) are typed against this class, so
none of them imports the generator back."""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import SQLModel

from crm_core.models import (
    FollowUpStatus,
)

if TYPE_CHECKING:
    from crm_core.unit import Unit

from crm_core.demo.sizes import (
    _UUID_CLEAR,
    _UUID_V4,
    BATCH,
)
from crm_core.demo.tables import (
    _A,
    _AGENCIES,
    _ANSWERS,
    _MINORITIES,
    _P,
    _SURNAMES,
    _theme,
)

_T = TypeVar("_T")


def _cumulative(pairs: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [p for p, _ in pairs], list(itertools.accumulate(w for _, w in pairs))


class _State:
    """One run of :func:`generate`: all state, one random generator."""

    # Set when the run starts (:meth:`_Generator.run`) and by the accounts stage.
    span_days: int
    epoch: datetime
    now: datetime
    by_group: dict[str, list[_A]]

    def __init__(
        self,
        unit: Unit,
        *,
        seed: int,
        today: date,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.unit = unit
        self.session = unit.session
        self.rng = random.Random(seed)
        self.today = today
        self.tz: ZoneInfo = unit.config.tz
        self.progress = progress
        self.done = 0
        self.total = 0
        vocab = unit.config.vocab
        self.regions = vocab["regions"].codes()
        self.region_zh = {t.code: t.zh for t in vocab["regions"]}
        self.parties = set(vocab["parties"].codes())
        self.sectors = set(vocab["sectors"].codes())
        self.committees = vocab["committees"].codes()
        self.committee_zh = {t.code: t.zh for t in vocab["committees"]}
        self.categories = set(unit.app.categories.codes())
        self.city = "city" if "city" in self.regions else None
        self.people: list[_P] = []
        self.accounts: list[_A] = []
        self.mobiles: set[str] = set()
        self.org_people: list[int] = []
        self.leader_people: list[int] = []
        self.assigned: dict[uuid.UUID, set[int]] = {}
        self.follow_rows: list[dict[str, Any]] = []
        self.organisation_ids: list[uuid.UUID] = []
        # Region weights: the municipal level and the urban districts hold most people.
        base = {"city": 30, "guangling": 14, "hanjiang": 16, "jiangdu": 12}
        self.region_weights = [float(base.get(code, 8)) for code in self.regions]
        self.surnames, self.surname_cw = _cumulative(_SURNAMES)
        self.minorities, self.minority_cw = _cumulative(_MINORITIES)

    # -- helpers -------------------------------------------------------------------

    def uid(self) -> uuid.UUID:
        # uuid.UUID(int=bits, version=4), with the bit twiddling done in one step.
        return uuid.UUID(int=(self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz)

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rng.random() * len(seq))]

    def tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def insert(self, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            # A Core INSERT of the table: one executemany per batch, no ORM bookkeeping.
            table = model.__table__  # type: ignore[attr-defined]
            self.session.execute(insert(table), rows[start : start + BATCH])

    def code(self, code: str | None, known: set[str]) -> str | None:
        return code if code in known else None

    # -- follow-ups ----------------------------------------------------------------

    def raise_follow_up(
        self, interaction_id: uuid.UUID, person: int, host: _A, concern: str, raised: datetime
    ) -> None:
        """Remember a follow-up of ``concern`` (written at the end, in one go): due
        ``follow_up_days`` after it was raised, owned by whoever logged it or handed to
        the office; the older, the likelier answered and closed."""
        rng = self.rng
        raised_on = raised.astimezone(self.tz).date()
        age = (self.today - raised_on).days
        due = raised_on + timedelta(days=self.unit.config.follow_up_days)
        r = rng.random()
        if age < 20:
            status = FollowUpStatus.open if r < 0.6 else FollowUpStatus.in_progress
        elif age < 60:
            status = (FollowUpStatus.open, FollowUpStatus.in_progress, FollowUpStatus.answered,
                      FollowUpStatus.closed)[bisect.bisect((0.15, 0.5, 0.85), r)]  # fmt: skip
        else:
            status = (FollowUpStatus.closed, FollowUpStatus.answered, FollowUpStatus.open,
                      FollowUpStatus.in_progress)[bisect.bisect((0.7, 0.88, 0.95), r)]  # fmt: skip
        who = self.people[person]
        agency = _AGENCIES.get(_theme(who.arch), "扬州市人民政府办公室")
        answered = closed = None
        response = None
        if status in (FollowUpStatus.answered, FollowUpStatus.closed):
            answered = min(raised_on + timedelta(days=rng.randint(5, 40)), self.today)
            response = f"已转{agency}研究办理。{agency}答复：{self.pick(_ANSWERS)}。"
            if status is FollowUpStatus.closed:
                closed = min(answered + timedelta(days=rng.randint(1, 20)), self.today)
                response += "已向委员当面反馈，委员表示满意。"
        office = self.by_group.get("staff", [])
        owner = self.pick(office) if office and rng.random() < 0.4 else host
        last = closed or answered
        if who.member:
            detail = f"{who.name}委员反映：{concern}，建议有关部门研究解决。"
        else:
            detail = f"{who.name}反映：{concern}，希望得到重视。"
        self.follow_rows.append(
            {
                "id": self.uid(), "created_at": raised,
                "updated_at": max(raised, self.at(last, 10)) if last else raised,
                "version": 1, "interaction_id": interaction_id, "person_id": who.id,
                "title": concern, "detail": detail, "owner_id": owner.id, "due_on": due,
                "status": status, "response": response, "answered_on": answered,
                "closed_on": closed,
            }
        )  # fmt: skip
