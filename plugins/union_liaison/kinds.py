"""The kinds of interaction of union and friendship work (团结联谊, seed 二.7).

- ``org_liaison`` 联谊交流: a talk, visit or joint research with a democratic party's
  municipal committee or the federation of industry and commerce;
- ``briefing`` 宣讲通报: briefing people (first of all the Hong Kong and Macao members)
  on an important document;
- ``gathering`` 联谊活动: an event with invitees, RSVPs and attendance, such as the yearly
  中秋联谊会.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_core.api import N_, KindSpec

ORG_LIAISON = "org_liaison"
BRIEFING = "briefing"
GATHERING = "gathering"

# The forms of liaison with an organisation: code -> (Chinese, English).
FORMS: dict[str, tuple[str, str]] = {
    "talk": ("座谈", "Talk"),
    "visit": ("走访", "Visit"),
    "joint_research": ("联合调研", "Joint research"),
}
_FORM_LABELS = {label.casefold(): code for code, pair in FORMS.items() for label in pair}


def clean(text: str) -> str:
    """``text`` with runs of white space (the ideographic space included) collapsed to
    one space and the ends stripped. Nothing else changes: Chinese punctuation （，：）
    stays as it was written."""
    return " ".join(text.split())


def document_key(title: str) -> str:
    """The form in which two titles of a document are compared: NFKC-normalised, with
    every space removed and one pair of enclosing book-title marks 《》 dropped. So
    "《中共中央关于…的决定》", "中共中央关于…的决定" and "中共中央 关于…的决定" are
    the same document; anything else in the title must be exactly the same."""
    key = "".join(unicodedata.normalize("NFKC", title).split())
    if key.startswith("《") and key.endswith("》") and key.count("《") == key.count("》") == 1:
        key = key[1:-1]
    return key


def _clean_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        text = clean(v)
        if text and text not in out:
            out.append(text)
    return out


class OrgLiaisonFields(BaseModel):
    """Fields of a liaison with an organisation (联谊交流)."""

    model_config = ConfigDict(extra="forbid")

    organisation: str = Field(
        description="联谊组织 / Organisation (an id or a name, e.g. 民盟扬州市委员会)"
    )
    form: Literal["talk", "visit", "joint_research"] = Field(
        default="talk", description="形式：座谈、走访、联合调研 / Form: talk, visit, joint research"
    )
    topics: list[str] = Field(default_factory=list, description="交流议题 / Topics")
    concerns: list[str] = Field(
        default_factory=list, description="反映的问题（需跟进） / Concerns raised (followed up)"
    )

    @field_validator("organisation")
    @classmethod
    def _organisation(cls, v: str) -> str:
        text = clean(v)
        if not text:
            raise ValueError(N_("name the organisation (an id or a name)"))
        return text

    @field_validator("form", mode="before")
    @classmethod
    def _form(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = clean(v)
            return _FORM_LABELS.get(key.casefold(), key)
        return v

    @field_validator("topics", "concerns")
    @classmethod
    def _lists(cls, v: list[str]) -> list[str]:
        return _clean_list(v)


class BriefingFields(BaseModel):
    """Fields of a briefing on an important document (宣讲通报)."""

    model_config = ConfigDict(extra="forbid")

    document: str = Field(description="通报的文件 / Document briefed (its title)")
    document_no: str | None = Field(default=None, description="文号 / Document number")

    @field_validator("document")
    @classmethod
    def _document(cls, v: str) -> str:
        text = clean(v)
        if not document_key(text):
            raise ValueError(N_("name the document briefed (its title)"))
        return text

    @field_validator("document_no")
    @classmethod
    def _document_no(cls, v: str | None) -> str | None:
        if v is None:
            return None
        return clean(v) or None


class GatheringFields(BaseModel):
    """Fields of a gathering (联谊活动) such as the 中秋联谊会."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="活动名称 / Event (e.g. 中秋联谊会)")

    @field_validator("event")
    @classmethod
    def _event(cls, v: str) -> str:
        text = clean(v)
        if not text:
            raise ValueError(N_("name the event"))
        return text


KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        ORG_LIAISON,
        "联谊交流",
        "Liaison with an organisation",
        OrgLiaisonFields,
        default_duration_minutes=120,
        person_role="org_contact",
        account_role="host",
        description="与民主党派市委会、工商联座谈、走访、联合调研 / Talks, visits and joint "
        "research with the democratic parties and the federation of industry and commerce",
    ),
    KindSpec(
        BRIEFING,
        "宣讲通报",
        "Briefing",
        BriefingFields,
        default_duration_minutes=90,
        person_role="briefed",
        account_role="briefer",
        description="向港澳委员等宣讲通报重要文件 / Briefing Hong Kong and Macao members "
        "(and others) on an important document",
    ),
    KindSpec(
        GATHERING,
        "联谊活动",
        "Gathering",
        GatheringFields,
        default_duration_minutes=150,
        person_role="invitee",
        account_role="host",
        description="中秋联谊会等联谊活动：邀请、回复、出席 / Gatherings such as the "
        "Mid-Autumn gathering: invitations, RSVPs and attendance",
    ),
)
