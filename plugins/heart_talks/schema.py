"""The fields of a heart-to-heart talk, and its kind."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from crm_core.api import N_, KindSpec


def _item(value: str) -> str:
    # Whitespace (the full-width space 　 included) collapsed; not NFKC, which would
    # turn Chinese punctuation （，：） into ASCII.
    text = " ".join(value.split())
    if not text:
        raise PydanticCustomError("blank_item", N_("an item cannot be blank"))
    return text


Item = Annotated[str, AfterValidator(_item)]


class HeartTalkFields(BaseModel):
    """Fields of a heart-to-heart talk (谈心谈话).

    There is deliberately no field for the thoughts exchanged: they go in the
    interaction's ``notes`` (``interactions.read_notes`` refuses them to anyone but the
    participants, the recorder and the office's administrators; the summary and these
    fields are hidden from the same people, :func:`crm_core.authz.shown`). Fields are
    for what may be counted and listed: topics, and what was agreed, which becomes
    follow-ups that the office sees. Unknown fields
    are refused rather than dropped, so nothing typed is silently lost.
    """

    model_config = ConfigDict(extra="forbid")

    topics: list[Item] = Field(default_factory=list, description="谈话主题 / Topics")
    agreed: list[Item] = Field(
        default_factory=list,
        description=(
            "商定事项（每项转为一项跟踪事项，办公室可见） / "
            "What was agreed (each becomes a follow-up the office can see)"
        ),
    )

    @field_validator("topics", "agreed", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


HEART_TALK = KindSpec(
    "heart_talk",
    "谈心谈话",
    "Heart-to-heart talk",
    HeartTalkFields,
    default_duration_minutes=60,
    confidential=True,
    person_role="member",
    account_role="talker",
    description=(
        "党组成员、机关和专委会负责同志与党外委员谈心谈话；谈话中交流的思想情况记入备注（保密） / "
        "A talk of a party-group member, office or committee leader with a non-party member; "
        "the thoughts exchanged go in the notes, which are confidential"
    ),
)
