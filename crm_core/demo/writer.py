"""Writing interactions in batches and the kinds' structured data."""

from __future__ import annotations

import itertools
import random
import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from crm_core.demo.sizes import BATCH
from crm_core.demo.state import _cumulative as _cumulative
from crm_core.demo.state import _State
from crm_core.demo.tables import (
    _A,
    _CALL_TOPICS,
    _CANCEL_REASONS,
    _DOCUMENTS,
    _MEETING_PLACES,
    _NOTES,
    _OCCASIONS,
    _THEMES,
    _KindPlan,
    _theme,
)
from crm_core.errors import ValidationError
from crm_core.kinds import KindSpec
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
)


def _free(name: str, taken: set[str]) -> str:
    for n in itertools.count(1):
        candidate = name if n == 1 else f"{name}{n}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise AssertionError("unreachable")


class _InteractionWriter:
    """Buffers interaction and participant rows and writes them in batches."""

    def __init__(self, gen: _State) -> None:
        self.gen = gen
        self.rows: list[dict[str, Any]] = []
        self.parts: list[dict[str, Any]] = []
        self.count = 0

    def add(
        self,
        plan: _KindPlan,
        status: InteractionStatus,
        ago: int,
        accounts: list[_A],
        people: list[int],
    ) -> None:
        """One interaction ``ago`` days before today (negative: in the future)."""
        gen = self.gen
        rng = gen.rng
        spec = plan.spec
        day = gen.today - timedelta(days=ago)
        if day.weekday() >= 5 and rng.random() < 0.8:
            day -= timedelta(days=day.weekday() - 4)  # most work happens on weekdays
        hour = gen.pick((8, 9, 9, 10, 10, 14, 14, 15, 15, 16))
        start = gen.at(day, hour, gen.pick((0, 0, 15, 30, 30, 45)))
        duration = spec.default_duration_minutes
        if spec.code not in ("call", "note"):
            duration = max(15, duration + gen.pick((-15, 0, 0, 30, 60)))
        end = start + timedelta(minutes=duration)
        first = gen.people[people[0]]
        topics, concerns_pool = _THEMES[_theme(first.arch)]
        concerns: list[str] = []
        if spec.code == "call":
            summary = gen.pick(_CALL_TOPICS)
        elif spec.code == "note":
            summary = gen.pick(_NOTES)
        else:
            summary = gen.pick(topics)
            if plan.has_concerns and status is InteractionStatus.done and rng.random() < 0.15:
                concerns = rng.sample(concerns_pool, 1 if rng.random() < 0.7 else 2)
                summary += "，反映" + "、".join(concerns) + "的问题"
        data = plan.make_data(rng, summary, concerns)
        if plan.validated < 50:  # the first of each kind go through the kind's schema
            data = spec.validate_data(data, context={"unit": gen.unit})
            plan.validated += 1
        location = None
        if spec.code not in ("call", "note"):
            location = gen.pick(_MEETING_PLACES) if rng.random() < 0.6 else first.employer
        region = first.region if rng.random() < 0.7 else gen.city
        iid = gen.uid()
        cancelled = status is InteractionStatus.cancelled
        if status is InteractionStatus.done:
            created = end  # logged when it was over
        else:
            created = min(gen.now, start - timedelta(days=rng.randint(2, 20)))
        updated = created
        if cancelled:
            updated = max(created, min(gen.now, start - timedelta(days=1)))
        self.rows.append(
            {
                "id": iid, "created_at": created, "updated_at": updated, "version": 1,
                "kind": spec.code, "status": status, "start_at": start, "end_at": end,
                "all_day": False, "location": location, "region": region, "summary": summary,
                "notes": None, "data": data, "confidential": spec.confidential,
                "series_id": None, "created_by_id": accounts[0].id,
                "sequence": 1 if cancelled else 0,
                "cancel_reason": gen.pick(_CANCEL_REASONS) if cancelled else None,
            }
        )  # fmt: skip
        for acc in accounts:
            self.parts.append(
                {"id": gen.uid(), "interaction_id": iid, "person_id": None, "account_id": acc.id,
                 "role": spec.account_role, "rsvp": None, "attended": None}
            )  # fmt: skip
        for index in people:
            self.parts.append(
                {"id": gen.uid(), "interaction_id": iid, "person_id": gen.people[index].id,
                 "account_id": None, "role": spec.person_role, "rsvp": None, "attended": None}
            )  # fmt: skip
        for concern in concerns:  # as the service does: one follow-up per concern
            gen.raise_follow_up(iid, people[0], accounts[0], concern, end)
        self.count += 1
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        n = len(self.rows)
        self.gen.insert(Interaction, self.rows)
        self.gen.insert(InteractionParticipant, self.parts)
        self.rows.clear()
        self.parts.clear()
        self.gen.tick(n)


# ---------------------------------------------------------------------------------------
# Kind data
# ---------------------------------------------------------------------------------------


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(a) for a in typing.get_args(annotation))


def _data_maker(spec: KindSpec) -> Callable[[random.Random, str, list[str]], dict[str, Any]] | None:
    """A function making ``data`` for ``spec`` from fields whose meaning is known
    (topic, concerns, occasion, ...), or None if the kind has required fields the demo
    cannot fill. Checked against the kind's schema before it is used."""
    if spec.schema is None:
        return lambda _rng, _summary, _concerns: {}
    fillers: dict[str, Callable[[random.Random, str, list[str]], Any]] = {
        "topic": lambda _r, s, _c: s.split("，")[0],
        "topics": lambda _r, s, _c: s.split("，")[0],
        "concerns": lambda _r, _s, c: list(c),
        "occasion": lambda r, _s, _c: r.choice(_OCCASIONS),
        "documents": lambda r, _s, _c: r.choice(_DOCUMENTS),
        "agreed": lambda _r, _s, _c: "约定下次参加专题协商会",
        "outcome": lambda _r, _s, _c: "交流充分，达成共识",
    }
    known: dict[str, tuple[Callable[[random.Random, str, list[str]], Any], bool]] = {}
    for name, info in spec.schema.model_fields.items():
        if name in fillers:
            known[name] = (fillers[name], _is_list(info.annotation))
        elif info.is_required():
            return None
    order = list(spec.schema.model_fields)
    defaults: dict[str, Any] = {}

    def make(rng: random.Random, summary: str, concerns: list[str]) -> dict[str, Any]:
        # The data exactly as the kind's schema normalises it (defaults filled in, in
        # field order), so rows written without validation look like validated ones.
        data: dict[str, Any] = dict(defaults)
        for name, (fill, as_list) in known.items():
            value = fill(rng, summary, concerns)
            if as_list and not isinstance(value, list):
                value = [value]
            elif not as_list and isinstance(value, list):
                value = "；".join(value) or None
            if value:
                data[name] = value
        return {k: data[k] for k in order if k in data}

    probe = random.Random(0)
    try:
        sample = make(probe, "走访交流，了解情况", [])
        defaults.update((k, v) for k, v in spec.validate_data(sample).items() if k not in sample)
        for concerns in ([], ["企业用地审批周期长"]):
            made = make(probe, "走访交流，了解情况", concerns)
            if spec.validate_data(made) != made:
                raise ValidationError.one("data", made, "not in normal form")
    except ValidationError:
        try:
            empty = spec.validate_data({})
        except ValidationError:
            return None
        return lambda _rng, _summary, _concerns: dict(empty)
    return make
