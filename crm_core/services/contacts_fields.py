"""The fields of a person a caller may set (:class:`PersonFields`), and how each is
checked and normalised; the writing (:mod:`contacts`) and the bulk path
(:mod:`contacts_bulk`) both parse with it."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from crm_core import validation
from crm_core.i18n import N_
from crm_core.models import (
    Gender,
    Membership,
    PersonStatus,
)
from crm_core.phones import display_phone, is_mobile, normalize_phone
from crm_core.services._common import (
    Refusal,
)

_GENDERS = {
    "男": "male",
    "女": "female",
    "m": "male",
    "f": "female",
    "male": "male",
    "female": "female",
}
# Birth as people write it: 1965, 1965-03, 1965-3, 1965.03, 1965/3, 1965年3月.
_BIRTH = re.compile(r"^(\d{4})(?:\s*(?:[-./]|年)\s*(\d{1,2})\s*月?)?$")


class PersonFields(BaseModel):
    """The fields of a person a caller may set. Every one is optional on update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, description="姓名")
    gender: Gender | None = Field(default=None, description="性别: male/female/男/女")
    birth: str | None = Field(default=None, description="出生年月: YYYY or YYYY-MM")
    ethnicity: str | None = Field(default=None, description="民族")
    party: str | None = Field(default=None, description="党派 (code or label)")
    sector: str | None = Field(default=None, description="界别 (code or label)")
    region: str | None = Field(default=None, description="所在地 县市区 (code or label)")
    employer: str | None = Field(default=None, description="工作单位")
    title: str | None = Field(default=None, description="职务")
    mobile: str | None = Field(default=None, description="手机")
    phones: list[str] | None = Field(default=None, description="其他电话")
    email: str | None = Field(default=None, description="电子邮箱")
    address: str | None = Field(default=None, description="通讯地址")
    membership: Membership | None = Field(default=None, description="standing/member/none")
    status: PersonStatus | None = Field(default=None, description="active/inactive/deceased")
    notes: str | None = Field(default=None, description="备注")
    categories: list[str] | None = Field(default=None, description="类别 (codes or labels)")
    committees: list[str] | None = Field(default=None, description="专委会 (codes or labels)")
    organisation_id: uuid.UUID | None = None
    extra: dict[str, Any] | None = None

    @field_validator(
        "name",
        "ethnicity",
        "party",
        "sector",
        "region",
        "employer",
        "title",
        "mobile",
        "phones",
        "email",
        "address",
        "notes",
        "categories",
        "committees",
        mode="before",
    )
    @classmethod
    def _text(cls, v: Any, info: ValidationInfo) -> Any:
        # Controls, lone surrogates and overlong values are refused before any other
        # rule reads them (crm_core.validation).
        return validation.valid_text(info.field_name or "", v)

    @field_validator("extra")
    @classmethod
    def _extra(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            validation.check_data(v, "extra")
        return v

    @field_validator("gender", mode="before")
    @classmethod
    def _gender(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower()
            if key in _GENDERS:
                return _GENDERS[key]
            raise ValueError(N_("gender must be 男 or 女 (male or female)"))
        return v

    @field_validator("birth")
    @classmethod
    def _birth(cls, v: str | None) -> str | None:
        if not v:
            return None
        m = _BIRTH.match(unicodedata.normalize("NFKC", v).strip())
        if not m:
            raise ValueError(
                N_("birth must be a year and month, e.g. 1965-03, 1965.03 or 1965年3月")
            )
        if not validation.FIRST_DAY.year <= int(m.group(1)) <= validation.LAST_DAY.year:
            raise Refusal(
                N_("the year {year} is outside {first}-{last}"),
                year=m.group(1),
                first=validation.FIRST_DAY.year,
                last=validation.LAST_DAY.year,
            )
        if m.group(2) is None:
            return m.group(1)
        if not 1 <= int(m.group(2)) <= 12:
            raise Refusal(N_("month {month} is not 1-12"), month=m.group(2))
        return f"{m.group(1)}-{int(m.group(2)):02d}"

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, v: str | None) -> str | None:
        if not v:
            return None
        number = normalize_phone(v)
        if not is_mobile(number):
            raise Refusal(
                N_("not a mobile number: {number} is a landline"), number=display_phone(number)
            )
        return number

    @field_validator("phones")
    @classmethod
    def _phones(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        return [normalize_phone(p) for p in v if p and p.strip()]

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v):
            raise ValueError(N_("not an e-mail address"))
        return v or None
