"""The basic kinds of contact every office has; the liaison plugins add the rest."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from crm_core.hookspecs import hookimpl
from crm_core.kinds import FollowUpDraft, KindSpec
from crm_core.models import Interaction


class CallFields(BaseModel):
    """Fields of a phone call."""

    topic: str | None = Field(default=None, description="话题 / Topic")


class MeetingFields(BaseModel):
    """Fields of a meeting or exchange."""

    topic: str | None = Field(default=None, description="话题 / Topic")
    concerns: list[str] = Field(default_factory=list, description="反映的问题 / Concerns raised")


@hookimpl
def register_kinds(register: Callable[[KindSpec], None]) -> None:
    """The core kinds: phone call, meeting, and a plain note."""
    register(KindSpec("call", "电话联系", "Phone call", CallFields, default_duration_minutes=15))
    register(KindSpec("meeting", "会面交流", "Meeting", MeetingFields, default_duration_minutes=60))
    register(KindSpec("note", "其他联系", "Other contact", None, default_duration_minutes=30))


@hookimpl
def collect_follow_ups(interaction: Interaction, kind: KindSpec) -> list[FollowUpDraft] | None:
    """Each concern raised in a meeting is followed up."""
    if kind.code != "meeting":
        return None
    return [FollowUpDraft(title=c) for c in interaction.data.get("concerns", []) if c.strip()]
