"""The fields of a person, in one table: what each is called, how it is read and shown,
where it is stored and whether it identifies the person.

The roster importer (:mod:`crm_core.roster`), the people export (:mod:`crm_core.exporter`)
and the contact services read their field lists and the gender and membership words from
here, so that a field added or renamed in one place is not missing in another;
tests/core/test_person_fields.py checks that the model, the export columns, the
roster's headers and ``contacts.PersonFields`` agree with this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crm_core.i18n import N_, _


class FieldKind(StrEnum):
    """How a field's value is read and stored."""

    text = "text"  # free text, stripped
    code = "code"  # one code of a configured vocabulary (``vocabulary``)
    codes = "codes"  # several codes of a vocabulary (a link table)
    gender = "gender"  # male / female (GENDER_WORDS)
    birth = "birth"  # YYYY or YYYY-MM, stored as year and month
    mobile = "mobile"  # one mobile number, of any country (stored in E.164)
    phones = "phones"  # a list of other phone numbers
    membership = "membership"  # standing / member / none (MEMBERSHIP_ZH)
    status = "status"  # active / inactive / deceased (merged is set by merging only)
    reference = "reference"  # the id of another record
    mapping = "mapping"  # a JSON object
    derived = "derived"  # computed on write from other fields, never given


@dataclass(frozen=True)
class PersonField:
    """One field of a person.

    ``name`` is the key in ``contacts.PersonFields``, in the roster's field map and in
    the person's JSON; ``label`` its msgid (English, the Chinese is its translation);
    ``header`` the Chinese column header of a people export, which the roster importer
    reads back (None: not exported); ``columns`` the attributes of
    :class:`crm_core.models.Person` that hold it (empty: a link table); ``personal``
    whether it identifies the person (anonymising replaces or clears it; of ``birth``
    only the month, as reports count people by year of birth); ``roster`` whether a
    roster column may fill it; ``editable`` whether callers set it (PersonFields).
    """

    name: str
    label: str
    kind: FieldKind
    header: str | None = None
    columns: tuple[str, ...] = ()
    vocabulary: str | None = None
    personal: bool = False
    roster: bool = True
    editable: bool = True


K = FieldKind
# In the order of the people export and of the roster's field list.
PERSON_FIELDS: tuple[PersonField, ...] = (
    PersonField("name", N_("name"), K.text, "姓名", ("name",), personal=True),
    PersonField(
        "pinyin",
        N_("pinyin"),
        K.derived,
        "拼音",
        ("name_pinyin",),
        personal=True,
        roster=False,  # a roster's 拼音 column is ignored: pinyin is derived from the name
        editable=False,
    ),
    PersonField("gender", N_("gender"), K.gender, "性别", ("gender",)),
    PersonField(
        "birth",
        N_("birth year and month"),
        K.birth,
        "出生年月",
        ("birth_year", "birth_month"),
        personal=True,
    ),
    PersonField("ethnicity", N_("ethnicity"), K.text, "民族", ("ethnicity",)),
    PersonField("party", N_("party"), K.code, "党派", ("party",), "parties"),
    PersonField("sector", N_("sector"), K.code, "界别", ("sector",), "sectors"),
    PersonField("region", N_("region"), K.code, "所在地", ("region",), "regions"),
    PersonField("employer", N_("employer"), K.text, "工作单位", ("employer",), personal=True),
    PersonField("title", N_("title"), K.text, "职务", ("title",), personal=True),
    PersonField("mobile", N_("mobile"), K.mobile, "手机", ("mobile",), personal=True),
    PersonField("phones", N_("other phones"), K.phones, "其他电话", ("phones",), personal=True),
    PersonField("email", N_("e-mail"), K.text, "电子邮箱", ("email",), personal=True),
    PersonField("address", N_("address"), K.text, "通讯地址", ("address",), personal=True),
    # Categories: the application's vocabulary (the configured ones and plugins').
    PersonField("categories", N_("categories"), K.codes, "联系对象类别", (), "categories"),
    PersonField("committees", N_("special committees"), K.codes, "专委会", (), "committees"),
    PersonField("membership", N_("membership"), K.membership, "委员身份", ("membership",)),
    PersonField("notes", N_("notes"), K.text, "备注", ("notes",), personal=True),
    PersonField("status", N_("status"), K.status, None, ("status",), roster=False),
    PersonField(
        "organisation_id",
        N_("organisation"),
        K.reference,
        None,
        ("organisation_id",),
        roster=False,
    ),
    PersonField(
        "extra", N_("extra fields"), K.mapping, None, ("extra",), personal=True, roster=False
    ),
)
del K

BY_NAME: dict[str, PersonField] = {f.name: f for f in PERSON_FIELDS}
# The fields of a people export, in column order.
EXPORTED: tuple[PersonField, ...] = tuple(f for f in PERSON_FIELDS if f.header)
# The fields a roster column may fill, in order.
ROSTER_FIELDS: tuple[PersonField, ...] = tuple(f for f in PERSON_FIELDS if f.roster)

# -- the words of coded fields ---------------------------------------------------------

# The stored gender -> how it is written in Chinese (exports, rosters).
GENDER_ZH: dict[str, str] = {"male": "男", "female": "女"}
# The stored gender -> its label msgid (screens, in the user's language).
GENDER_LABELS: dict[str, str] = {"male": N_("male"), "female": N_("female")}
# What a caller may give for a gender -> the stored value (services; a roster cell
# also accepts a few more, see crm_core.roster.cells).
GENDER_WORDS: dict[str, str] = {
    **{zh: code for code, zh in GENDER_ZH.items()},
    "m": "male",
    "f": "female",
    "male": "male",
    "female": "female",
}
# The stored membership -> how it is written in Chinese (exports, rosters).
MEMBERSHIP_ZH: dict[str, str] = {"standing": "常委", "member": "委员", "none": "非委员"}


def gender_label(code: str | None) -> str:
    """The stored gender ``code`` in the user's language ("" for none)."""
    return _(GENDER_LABELS[code]) if code in GENDER_LABELS else ""
