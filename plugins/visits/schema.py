"""The fields of a visit or an invitation, and the two kinds that carry them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from crm_core.api import N_, KindSpec


def _text(value: str) -> str:
    """``value`` with runs of whitespace (the full-width space 　 included) collapsed to
    one space. Not NFKC: that would turn Chinese punctuation （，：） into ASCII."""
    return " ".join(value.split())


def _concern(value: str) -> str:
    text = _text(value)
    if not text:
        raise PydanticCustomError("blank_concern", N_("a concern cannot be blank"))
    return text


Concern = Annotated[str, AfterValidator(_concern)]


class VisitFields(BaseModel):
    """Fields of a visit (走访看望) or an invitation (约请上门、邀请参加视察调研).

    Unknown fields are refused rather than dropped, so a mistyped field name never
    loses what was typed.
    """

    model_config = ConfigDict(extra="forbid")

    occasion: str | None = Field(
        default=None,
        description="场合（如所随视察调研） / Occasion (e.g. the inspection trip it was part of)",
    )
    county: str | None = Field(
        default=None,
        description="县（市、区） / County or district (code or label)",
        # A drop-down of config's regions in the terminal UI (as 所在地 is).
        json_schema_extra={"vocabulary": "regions"},
    )
    discussed: str | None = Field(default=None, description="交流内容 / What was discussed")
    concerns: list[Concern] = Field(
        default_factory=list,
        description=(
            "反映的问题（每条转为一项跟踪事项） / Concerns raised (each becomes a follow-up)"
        ),
    )

    @field_validator("occasion", "county", "discussed", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _text(value) or None

    @field_validator("concerns", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        # The same concern typed twice is one concern: one follow-up, not two.
        return list(dict.fromkeys(value))


VISIT = KindSpec(
    "visit",
    "走访看望",
    "Visit",
    VisitFields,
    default_duration_minutes=90,
    person_role="visited",
    account_role="visitor",
    description="主动走访看望委员 / A visit to a member, often on a county trip",
)

INVITATION = KindSpec(
    "invitation",
    "约请上门 / 邀请参加视察调研",
    "Invitation",
    VisitFields,
    default_duration_minutes=120,
    person_role="invitee",
    account_role="host",
    description=(
        "约请委员上门交流，或邀请委员参加视察调研 / "
        "Invite a member to come over, or to join an inspection or study trip"
    ),
)
