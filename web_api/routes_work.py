"""Interactions, follow-ups, assignments, overdue and calendars (``/api/v1/...``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from crm_web_api.app import Api, ApiError, bearer_scheme, json_answer
from crm_web_api.routes_people import Limit, Offset, items_json
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from crm_core import clock
from crm_core.calendar.ics import calendar_range, etag_of, export_ics
from crm_core.errors import PermissionDenied
from crm_core.services import accounts, assignments, contacts, followups, interactions, overdue
from crm_core.unit import Unit


class NewInteraction(BaseModel):
    """An interaction to record (``status`` "done": ``tongxin log``) or to put on the
    calendar ("planned": ``tongxin schedule``, which needs ``start``)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64, examples=["call"])
    status: Literal["done", "planned"] = "done"
    people: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    accounts: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    location: str | None = Field(default=None, max_length=500)
    region: str | None = Field(default=None, max_length=64)
    summary: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=20000)
    data: dict[str, Any] | None = None
    confidential: bool | None = None


class NewFollowUp(BaseModel):
    """A concern to follow up (``tongxin followups raise``)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    person_id: uuid.UUID | None = None
    interaction_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    due_on: date | None = None
    detail: str | None = Field(default=None, max_length=20000)


def _page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "results": items[offset : offset + limit],
    }


def _assignment_json(unit: Unit, a: Any, last: dict[uuid.UUID, Any]) -> dict[str, Any]:
    cad = assignments.cadence(unit, a)
    contact_at = last.get(a.id)
    return {
        "id": str(a.id),
        "keeper_id": str(a.keeper_id),
        "keeper": accounts.get_account(unit, a.keeper_id).display_name,
        "contact_id": str(a.contact_id),
        "contact": contacts.get_person(unit, a.contact_id).name,
        "category": a.category,
        "ideal_days": cad.ideal_days,
        "max_days": cad.max_days,
        "start_on": a.start_on.isoformat(),
        "last_contact": contact_at.isoformat() if contact_at else None,
        "snoozed_until": a.snoozed_until.isoformat() if a.snoozed_until else None,
    }


def router(api: Api) -> APIRouter:
    """The routes of the work."""
    r = APIRouter(dependencies=[Depends(bearer_scheme)])

    @r.post("/interactions", status_code=201, tags=["interactions"],
            summary="Log done or schedule planned work (as `log`/`schedule --json`)")  # fmt: skip
    def create_interaction(request: Request, body: NewInteraction) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            common: dict[str, Any] = body.model_dump(exclude={"status", "start"})
            if body.status == "planned":
                if body.start is None:
                    raise ApiError(422, "a planned interaction needs start",
                                   [{"field": "body.start", "value": None,
                                     "message": "say when"}])  # fmt: skip
                item = interactions.schedule_interaction(unit, start=body.start, **common)
            else:
                item = interactions.log_interaction(unit, start=body.start, **common)
            out = interactions.interaction_json(unit, item)
            raised = followups.list_follow_ups(unit, interaction_id=item.id)
            out["follow_ups"] = [followups.follow_up_json(f) for f in raised]
            return out

        return json_answer(request, api.run(request, work, write=True), status=201)

    @r.get("/interactions/{interaction_id}", tags=["interactions"], summary="One interaction")
    def show_interaction(request: Request, interaction_id: str) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            try:
                item = interactions.get_interaction(unit, uuid.UUID(interaction_id))
            except (ValueError, PermissionDenied) as exc:
                raise ApiError(404, "no such interaction") from exc
            return items_json(unit, [item])[0]

        return json_answer(request, api.run(request, work))

    @r.get("/interactions", tags=["interactions"],
           summary="Interactions of a person (the timeline), newest first")  # fmt: skip
    def list_interactions(
        request: Request,
        person: Annotated[uuid.UUID, Query(description="The person's id.")],
        limit: Limit = 50,
    ) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            try:
                contacts.get_person(unit, person)
            except PermissionDenied as exc:
                raise ApiError(404, "no such person") from exc
            items = interactions.timeline(unit, person, limit=limit)
            return {"limit": limit, "results": items_json(unit, items)}

        return json_answer(request, api.run(request, work))

    @r.get("/follow-ups", tags=["follow-ups"], summary="Follow-ups, soonest due first")
    def list_follow_ups(
        request: Request,
        open: Annotated[bool, Query(description="Only those not closed.")] = False,
        overdue_only: Annotated[bool, Query(alias="overdue")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            due = clock.today(unit.config.tz) if overdue_only else None
            rows = followups.list_follow_ups(unit, open_only=open or overdue_only, due_before=due)
            return _page([followups.follow_up_json(f) for f in rows], limit, offset)

        return json_answer(request, api.run(request, work))

    @r.post("/follow-ups", status_code=201, tags=["follow-ups"], summary="Raise a follow-up")
    def raise_follow_up(request: Request, body: NewFollowUp) -> Response:
        def work(unit: Unit) -> dict[str, object]:
            return followups.follow_up_json(followups.raise_follow_up(unit, **body.model_dump()))

        return json_answer(request, api.run(request, work, write=True), status=201)

    @r.get("/assignments", tags=["assignments"], summary="Who keeps in touch with whom")
    def list_assignments(request: Request, limit: Limit = 50, offset: Offset = 0) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            rows = assignments.list_assignments(unit)
            last = assignments.last_contacts(unit)
            return _page([_assignment_json(unit, a, last) for a in rows], limit, offset)

        return json_answer(request, api.run(request, work))

    @r.get("/overdue", tags=["assignments"], summary="Contacts past due (as `overdue --json`)")
    def list_overdue(request: Request) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            return overdue.overdue_json(overdue.overdue(unit))

        return json_answer(request, api.run(request, work))

    @r.get("/calendar.ics", tags=["calendars"], summary="The caller's calendar (iCalendar)",
           response_class=Response)  # fmt: skip
    def calendar(
        request: Request,
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
    ) -> Response:
        def work(unit: Unit) -> bytes:
            assert unit.actor is not None
            return export_ics(unit, calendar_range(unit, account=unit.actor, start=start, end=end))

        body = api.run(request, work)
        etag = etag_of(body)
        if request.headers.get("if-none-match", "").strip().removeprefix("W/") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="text/calendar; charset=utf-8", headers={"ETag": etag})

    return r
