"""People: search, show, timeline (``/api/v1/people``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from crm_web_api.app import Api, ApiError, bearer_scheme, json_answer
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from crm_core.errors import PermissionDenied
from crm_core.models import Interaction, Person
from crm_core.services import contacts, interactions
from crm_core.unit import Unit

Limit = Annotated[int, Query(ge=1, le=200, description="How many results per page.")]
Offset = Annotated[int, Query(ge=0, description="Skip this many results (paging).")]


def person_of(unit: Unit, ref: str) -> Person:
    """The person ``ref`` (an id) names, if the caller may see them: 404 otherwise, the
    same whether the person is out of the caller's county or does not exist."""
    try:
        return contacts.get_person(unit, uuid.UUID(ref))
    except (ValueError, PermissionDenied) as exc:
        raise ApiError(404, "no such person") from exc


def items_json(unit: Unit, items: list[Interaction]) -> list[dict[str, Any]]:
    """Interactions as ``contacts show --json`` lists them (confidential ones masked)."""
    seen = interactions.shown_all(unit, items)
    return [interactions.interaction_json(unit, i, shown=seen[i.id]) for i in items]


def router(api: Api) -> APIRouter:
    """The people routes."""
    r = APIRouter(tags=["people"], dependencies=[Depends(bearer_scheme)])

    @r.get("/people", summary="Search people (as `contacts search --json`)")
    def search(
        request: Request,
        q: Annotated[str, Query(description="张三, zhangsan, zs, 1381…", max_length=200)] = "",
        limit: Limit = 20,
        offset: Offset = 0,
        region: Annotated[str | None, Query(description="A region code.")] = None,
        category: Annotated[str | None, Query(description="A category code.")] = None,
    ) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            filters = contacts.resolve_filters(unit, region=region, category=category)
            if q.strip():
                page: contacts.Page[Any] = contacts.search_people(
                    unit, q, limit=limit, offset=offset, also=(), **filters
                )
            else:
                page = contacts.list_people(unit, limit=limit, offset=offset, **filters)
            return {
                "query": q,
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
                "results": [contacts.summary_json(unit, p) for p in page.items],
            }

        return json_answer(request, api.run(request, work))

    @r.get("/people/{person_id}", summary="One person (as `contacts show --json`)")
    def show(request: Request, person_id: str) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            person = person_of(unit, person_id)
            data = contacts.person_json(unit, person)
            data["recent"] = items_json(unit, interactions.timeline(unit, person.id, limit=10))
            return data

        return json_answer(request, api.run(request, work))

    @r.get("/people/{person_id}/timeline", summary="A person's interactions, newest first")
    def timeline(
        request: Request,
        person_id: str,
        limit: Limit = 50,
        before: Annotated[
            datetime | None, Query(description="Only those starting before (ISO 8601).")
        ] = None,
    ) -> Response:
        def work(unit: Unit) -> dict[str, Any]:
            person = person_of(unit, person_id)
            items = interactions.timeline(unit, person.id, limit=limit, before=before)
            return {"person_id": str(person.id), "limit": limit, "results": items_json(unit, items)}

        return json_answer(request, api.run(request, work))

    return r
