"""One run of the demo: the generator's state, organisations, accounts, assignments, history."""

from __future__ import annotations

import bisect
import itertools
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from crm_core import pinyin
from crm_core.demo import people
from crm_core.demo.bulk import (
    _DEFER_INDEXES_FROM,
    _DEFERRED_INDEX_TABLES,
    _deferred_indexes,
    _seeded_ids,
)
from crm_core.demo.state import _State
from crm_core.demo.tables import (
    _A,
    _CHAIR_POSITIONS,
    _DEMOCRATIC,
    _KIND_WEIGHTS,
    _PARTY_ZH,
    _KindPlan,
)
from crm_core.demo.writer import _data_maker, _free, _InteractionWriter
from crm_core.demo_context import DemoContext
from crm_core.models import (
    Account,
    Assignment,
    FollowUp,
    FollowUpStatus,
    Gender,
    InteractionStatus,
    Organisation,
    OrganisationContact,
    Person,
    Role,
)
from crm_core.services.accounts import create_account


class _Generator(_State):
    """One run of :func:`generate`: the state (:class:`_State`) and the stages."""

    def run(self, *, contacts: int, interactions: int) -> None:
        self.total = contacts + interactions
        # History reaches back a year; a very large sample is spread over more years
        # (an office does not log a million contacts in one).
        self.span_days = min(3650, max(365, round(365 * interactions / 50_000)))
        self.epoch = self.at(self.today - timedelta(days=self.span_days + 30), 9)
        self.now = self.at(self.today, 8)
        leaders = self._people(contacts)
        self._organisations()
        self._accounts(leaders)
        joint = self._assignments()
        defer = interactions >= _DEFER_INDEXES_FROM
        with _deferred_indexes(self.unit, _DEFERRED_INDEX_TABLES if defer else ()):
            self._interactions(interactions, joint)
            self._write_follow_ups()

    def context(self) -> DemoContext:
        """What the plugins' ``populate_demo`` is handed: this run's generator, today,
        and who exists, by category and by role."""
        by_category: dict[str, list[uuid.UUID]] = {}
        for p in self.people:
            for c in p.categories:
                by_category.setdefault(c, []).append(p.id)
        by_role: dict[str, list[Account]] = {}
        for a in self.accounts:
            by_role.setdefault(a.obj.role.value, []).append(a.obj)
            if a.obj.chair_meeting:
                by_role.setdefault("chair_meeting", []).append(a.obj)
        return DemoContext(
            rng=self.rng,
            today=self.today,
            people_by_category=by_category,
            members=[p.id for p in self.people if p.member],
            accounts_by_role=by_role,
            organisations=list(self.organisation_ids),
        )

    # -- people (crm_core.demo.people) ---------------------------------------------

    name = people.name
    mobile = people.mobile
    address = people.address
    employer = people.employer
    party_of = people.party_of
    sector_of = people.sector_of
    categories_of = people.categories_of
    person = people.person
    minority = people.minority
    _people = people._people
    _keep = people._keep
    _flush_people = people._flush_people

    # -- organisations -------------------------------------------------------------

    def _organisations(self) -> None:
        orgs: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        specs: list[tuple[str, str, str | None]] = [
            (f"{_PARTY_ZH[p]}扬州市委员会", "democratic_party", p) for p in _DEMOCRATIC
        ]
        specs.append(("扬州市工商业联合会", "federation_ic", None))
        pairs = [self.org_people[i : i + 2] for i in range(0, len(self.org_people), 2)]
        for (name, kind, party), pair in zip(specs, pairs, strict=True):
            oid = self.uid()
            orgs.append(
                {
                    "id": oid, "created_at": self.epoch, "updated_at": self.epoch, "version": 1,
                    "name": name, "kind": kind, "party": self.code(party, self.parties),
                    "region": self.city,
                    "address": self.address("city"),
                    "phone": f"0514-87{self.rng.randrange(1_000_000):06d}", "notes": None,
                }
            )  # fmt: skip
            for index, role in zip(pair, ("主要负责人", "联络人"), strict=True):
                pid = self.people[index].id
                contacts.append({"organisation_id": oid, "person_id": pid, "role": role})
        self.organisation_ids = [o["id"] for o in orgs]
        self.insert(Organisation, orgs)
        self.insert(OrganisationContact, contacts)
        for link in contacts:
            self.session.execute(
                update(Person)
                .where(Person.id == link["person_id"])
                .values(organisation_id=link["organisation_id"])
            )

    # -- accounts ------------------------------------------------------------------

    def _accounts(self, leaders: dict[str, list[int]]) -> None:
        taken = set(self.session.scalars(select(col(Account.username))))

        def username(name: str) -> str:
            base = pinyin.name_pinyin(name)[0] or "user"
            for n in itertools.count(1):
                candidate = base if n == 1 else f"{base}{n}"
                if candidate not in taken:
                    taken.add(candidate)
                    return candidate
            raise AssertionError("unreachable")

        def make(group: str, *, person: int | None = None, name: str | None = None,
                 uname: str | None = None, **values: Any) -> None:  # fmt: skip
            display = name or (self.people[person].name if person is not None else "")
            account = create_account(
                self.unit,
                username=uname or username(display),
                display_name=display,
                person_id=self.people[person].id if person is not None else None,
                **values,
            )
            self.accounts.append(
                _A(account.id, group, account, values.get("region_scope"), values.get("committee"))
            )

        def someone() -> str:
            gender = Gender.male if self.rng.random() < 0.5 else Gender.female
            return self.name(gender)

        with _seeded_ids(Account, self.uid):
            for index, position in zip(leaders["chair"], _CHAIR_POSITIONS, strict=True):
                make("chair", person=index, role=Role.leader, chair_meeting=True,
                     position=position)  # fmt: skip
            for position in ("党组成员、副秘书长", "党组成员、办公室主任", "党组成员"):
                make("party_group", name=someone(), role=Role.leader, position=position)
            for index, code in zip(leaders["committee"], self.committees, strict=True):
                make("committee", person=index, role=Role.leader, committee=code,
                     position=f"{self.committee_zh[code]}主任")  # fmt: skip
            make("admin", name="市政协办公室", uname=_free("office", taken), role=Role.admin,
                 position="办公室")  # fmt: skip
            make("admin", name="系统管理员", uname=_free("admin", taken), role=Role.admin,
                 position="信息中心")  # fmt: skip
            for position in ("办公室综合处处长", "委员联络处副处长", "委员联络处科员"):
                make("staff", name=someone(), role=Role.staff, position=position)
            for code in self.regions:
                if code != "city":
                    make("county", name=someone(), role=Role.county_staff, region_scope=code,
                         position=f"{self.region_zh[code]}政协办公室")  # fmt: skip
        ids = [a.id for a in self.accounts]
        self.session.execute(
            update(Account)
            .where(col(Account.id).in_(ids))
            .values(created_at=self.epoch, updated_at=self.epoch)
        )
        self.by_group: dict[str, list[_A]] = {}
        for a in self.accounts:
            self.by_group.setdefault(a.group, []).append(a)

    # -- assignments ---------------------------------------------------------------

    def _assignments(self) -> list[tuple[_A, int, str, int | None, date]]:
        """Write the chair-meeting members' liaison assignments (seed 二.9); return, for
        each, the keeper, the contact, its category, how many days ago they last met
        (None: never) and since when."""
        rng = self.rng
        liaison = ("non_party_intellectual", "private_economy", "new_social_stratum")
        wanted: list[str] = [c for c in liaison if c in self.categories]
        chairs = self.by_group.get("chair", [])
        pool: dict[str, list[int]] = {c: [] for c in wanted}
        for i, p in enumerate(self.people):
            if p.member or i in self.org_people:
                continue
            for c in p.categories:
                if c in pool:
                    pool[c].append(i)
        for c in wanted:  # members too, if outside contacts run short
            if len(pool[c]) < len(chairs):
                pool[c] += [i for i, p in enumerate(self.people) if p.member and c in p.categories]
        # One or two chair-meeting members are missing one category: the gap to show.
        gaps = {id(a): self.pick(wanted) for a in rng.sample(chairs, min(len(chairs), 2))}
        if rng.random() < 0.5 and len(gaps) > 1:
            gaps.pop(next(iter(gaps)))
        plan: list[tuple[_A, int, str]] = []
        used: set[int] = set()
        for keeper in chairs:
            for category in wanted:
                if gaps.get(id(keeper)) == category:
                    continue
                free = [i for i in pool[category] if i not in used]
                if not free:
                    continue
                index = self.pick(free[:500])
                used.add(index)
                plan.append((keeper, index, category))
        n = len(plan)
        states = ["never"] + ["overdue"] * max(3, n // 4) + ["recent"] * max(3, n // 4)
        states += ["ok"] * max(0, n - len(states))
        rng.shuffle(states)
        rows: list[dict[str, Any]] = []
        result: list[tuple[_A, int, str, int | None, date]] = []
        for (keeper, index, category), state in zip(plan, states, strict=False):
            term = self.unit.app.categories.get(category)
            max_days = int(term.extra.get("max_days", 90)) if term else 90
            last: int | None
            if state == "recent":
                last = rng.randint(1, 14)
            elif state == "ok":
                last = rng.randint(15, max(15, max_days - 5))
            elif state == "overdue":
                last = rng.randint(max_days + 10, max_days + 120)
            else:
                last = None
            start = self.today - timedelta(days=rng.randint(max(370, (last or 0) + 60), 730))
            if last is None:
                start = self.today - timedelta(days=rng.randint(max_days + 20, max_days + 100))
            rows.append(
                {
                    "id": self.uid(), "created_at": self.at(start, 9),
                    "updated_at": self.at(start, 9), "version": 1, "keeper_id": keeper.id,
                    "contact_id": self.people[index].id,
                    "category": category, "ideal_days": None, "max_days": None, "start_on": start,
                    "end_on": None, "snoozed_until": None, "snooze_reason": None, "notes": None,
                }
            )  # fmt: skip
            self.assigned.setdefault(keeper.id, set()).add(index)
            result.append((keeper, index, category, last, start))
        self.insert(Assignment, rows)
        return result

    # -- interactions --------------------------------------------------------------

    def _kind_plans(self) -> dict[str, _KindPlan]:
        # The core's own kinds; a plugin's kinds come with the plugin's populate_demo.
        # Only if the core kinds are switched off are other kinds used, with whatever
        # of their fields the demo knows how to fill.
        plans: dict[str, _KindPlan] = {}
        for code in sorted(self.unit.kinds):
            spec = self.unit.kinds[code]
            maker = _data_maker(spec)
            if maker is not None:
                fields = spec.schema.model_fields if spec.schema is not None else {}
                plans[code] = _KindPlan(spec, maker, has_concerns="concerns" in fields)
        core = {c: p for c, p in plans.items() if c in _KIND_WEIGHTS}
        return core or plans

    def _interactions(self, count: int, joint: list[tuple[_A, int, str, int | None, date]]) -> None:
        rng = self.rng
        plans = self._kind_plans()
        if not plans:
            return
        codes = list(plans)
        kind_cw = list(itertools.accumulate(_KIND_WEIGHTS.get(c, 1) for c in codes))
        # The office's leaders are not sampled as contacts.
        skip = set(self.leader_people)
        members = [i for i, p in enumerate(self.people) if p.member and i not in skip]
        outside = [i for i, p in enumerate(self.people) if not p.member]
        by_region: dict[str | None, list[int]] = {}
        for i in outside:
            by_region.setdefault(self.people[i].region, []).append(i)
        groups = self.by_group
        county_of = {a.region: a for a in groups.get("county", [])}
        office = groups.get("staff", []) + groups.get("admin", [])
        leaders = groups.get("chair", []) + groups.get("committee", [])
        leaders += groups.get("party_group", [])
        everyone = self.accounts

        writer = _InteractionWriter(self)
        # The assignments' own history first: joint work at about the cadence, the last
        # time as many days ago as planned; most of those overdue have one on the calendar.
        joint_kinds = [c for c in ("meeting", "meeting", "call") if c in plans] or codes
        for keeper, index, _category, last, start in joint:
            if last is not None:
                days = [last]
                horizon = min((self.today - start).days, self.span_days)
                while days[-1] + 45 < horizon:
                    days.append(days[-1] + rng.randint(35, 80))
                for ago in days:
                    plan = plans[self.pick(joint_kinds)]
                    writer.add(plan, InteractionStatus.done, ago, [keeper], [index])
            if (last is None or last > 60) and rng.random() < 0.6:
                plan = plans[joint_kinds[0]]
                writer.add(plan, InteractionStatus.planned, -rng.randint(1, 14), [keeper], [index])
        future_share = 28 / (self.span_days + 28)
        for _ in range(max(0, count - writer.count)):
            code = codes[bisect.bisect(kind_cw, rng.random() * kind_cw[-1])]
            if rng.random() < future_share and code != "note":  # a note records the past
                ago = -rng.randint(1, 28)
                cancelled = rng.random() < 0.06
                status = InteractionStatus.cancelled if cancelled else InteractionStatus.planned
            else:
                ago = rng.randint(1, self.span_days)
                cancelled = rng.random() < 0.03 and code != "note"
                status = InteractionStatus.cancelled if cancelled else InteractionStatus.done
            # Members are contacted far more often than any one outside contact.
            first = self.pick(members) if members and rng.random() < 0.45 else self.pick(outside)
            people = [first]
            if code == "meeting" and rng.random() < 0.25:
                other = self.pick(by_region.get(self.people[first].region) or outside)
                if other != first:
                    people.append(other)
            # Who does the work: county staff in their county, the office calls and
            # writes, leaders meet.
            county = county_of.get(self.people[first].region)
            a = rng.random()
            if county is not None and a < 0.25:
                account = county
            elif code in ("call", "note"):
                account = self.pick(office or everyone) if a < 0.8 else self.pick(everyone)
            else:
                account = self.pick(leaders or everyone) if a < 0.7 else self.pick(everyone)
            accounts = [account]
            if code == "meeting" and office and rng.random() < 0.2:
                extra = self.pick(office)
                if extra is not account:
                    accounts.append(extra)
            # Never bring a keeper and an assigned contact together by chance: the
            # assignments' "last contact" is exactly what was planned above.
            for acc in accounts:
                mine = self.assigned.get(acc.id)
                if mine:
                    people = [i for i in people if i not in mine]
            while not people:
                other = self.pick(outside)
                if not any(other in self.assigned.get(acc.id, ()) for acc in accounts):
                    people = [other]
            writer.add(plans[code], status, ago, accounts, people)
        writer.flush()

    def _write_follow_ups(self) -> None:
        rows = self.follow_rows
        # However small the sample, the dashboard has overdue open concerns to show.
        overdue = [
            r for r in rows
            if r["status"] in (FollowUpStatus.open, FollowUpStatus.in_progress)
            and r["due_on"] < self.today
        ]  # fmt: skip
        closed = [
            r for r in rows if r["status"] is FollowUpStatus.closed and r["due_on"] < self.today
        ]
        for r in closed[: max(0, 3 - len(overdue))]:
            r.update(status=FollowUpStatus.open, response=None, answered_on=None, closed_on=None,
                     updated_at=r["created_at"])  # fmt: skip
        self.insert(FollowUp, rows)
