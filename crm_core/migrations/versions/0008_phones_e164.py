"""phone numbers in E.164: every stored number rewritten the one way tongxin now stores it

Until 0007 a number was kept as the digits of a mainland number (``13812345678``,
``051487331234``, or a local ``87331234``). From 0008 :mod:`crm_core.phones` stores every
number of every country in E.164 (``+8613812345678``, ``+8651487331234``,
``+85291234567``; an extension as ``;ext=8001``), read by the ``phonenumbers`` library.

This migration rewrites ``person.mobile``, ``person.phones``, ``organisation.phone`` and
the numbers of open and closed ``contact_proposal`` rows (``phones``, ``before``), and
recomputes ``person.phone_digits`` (the search column: the digits of each number as
shown, and for a number abroad also with its country code). A stored value it cannot read
as a number (a local number without its area code, say) is kept exactly as it was and
listed in the log (logger ``tongxin.migrations``, a warning per value naming table, row id
and column): nothing is lost, and the person can be corrected by hand.

The downgrade writes mainland numbers back as their digits (``13812345678``,
``051487331234``); a number abroad, or one with an extension, has no form before 0008 and
is kept in E.164 (and logged). No table, grant or policy changes (RLS is untouched).

The conversion is written out here, not imported from crm_core.phones: a migration keeps
doing what it did when it shipped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00
"""

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import phonenumbers
import sqlalchemy as sa
from alembic import op
from phonenumbers import NumberParseException, PhoneNumberFormat
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG = logging.getLogger("tongxin.migrations")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CN = 86

person = sa.table(
    "person",
    sa.column("id", sa.Uuid()),
    sa.column("mobile", sa.String()),
    sa.column("phones", JSON),
    sa.column("phone_digits", sa.String()),
)
organisation = sa.table("organisation", sa.column("id", sa.Uuid()), sa.column("phone", sa.String()))
proposal = sa.table(
    "contact_proposal",
    sa.column("id", sa.Uuid()),
    sa.column("phones", JSON),
    sa.column("before", JSON),
)


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, "CN")
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def to_e164(value: str) -> str | None:
    """The E.164 form of a number stored before 0008, or None if it cannot be read."""
    number = _parse(value)
    if number is None:
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def to_digits(value: str) -> str | None:
    """The pre-0008 form (mainland digits) of an E.164 number, or None if it has none."""
    if not value.startswith("+"):
        return value  # never converted: it is still in the old form
    number = _parse(value)
    if number is None or number.country_code != CN or number.extension:
        return None
    return re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))


def _national_digits(number: phonenumbers.PhoneNumber) -> str:
    bare = phonenumbers.PhoneNumber(
        country_code=number.country_code, national_number=number.national_number
    )
    return re.sub(r"\D", "", phonenumbers.format_number(bare, PhoneNumberFormat.NATIONAL))


def search_digits(numbers: Iterable[str | None]) -> str:
    """person.phone_digits as 0008 defines it (crm_core.phones.search_digits then)."""
    out: list[str] = []
    for value in numbers:
        if not value:
            continue
        number = _parse(value) if value.startswith("+") else None
        if number is None:
            keys = [re.sub(r"\D", "", value)]
        elif number.country_code == CN:
            keys = [_national_digits(number)]
        else:
            nsn = phonenumbers.national_significant_number(number)
            keys = [_national_digits(number), f"{number.country_code}{nsn}"]
        out += [k for k in keys if k and k not in out]
    return " ".join(out)


def _convert(
    value: str | None, how: Callable[[str], str | None], where: tuple[str, object, str]
) -> str | None:
    if not value:
        return value
    new = how(value)
    if new is None:
        table, ident, column = where
        LOG.warning(
            "migration %s: %s %s, column %s: the number %r could not be converted; kept as it is",
            revision,
            table,
            ident,
            column,
            value,
        )
        return value
    return new


def _convert_list(
    values: Any, how: Callable[[str], str | None], where: tuple[str, object, str]
) -> list[Any]:
    if not isinstance(values, list):
        return values  # type: ignore[no-any-return]
    return [_convert(v, how, where) if isinstance(v, str) else v for v in values]


def _rewrite(how: Callable[[str], str | None], digits: Callable[[list[str | None]], str]) -> None:
    bind = op.get_bind()
    for pid, mobile, phones, old_digits in bind.execute(
        sa.select(person.c.id, person.c.mobile, person.c.phones, person.c.phone_digits)
    ).all():
        new_mobile = _convert(mobile, how, ("person", pid, "mobile"))
        new_phones = _convert_list(phones or [], how, ("person", pid, "phones"))
        new_digits = digits([new_mobile, *new_phones])
        if (new_mobile, new_phones, new_digits) != (mobile, phones or [], old_digits):
            bind.execute(
                person.update()
                .where(person.c.id == pid)
                .values(mobile=new_mobile, phones=new_phones, phone_digits=new_digits)
            )
    for oid, phone in bind.execute(sa.select(organisation.c.id, organisation.c.phone)).all():
        new = _convert(phone, how, ("organisation", oid, "phone"))
        if new != phone:
            bind.execute(organisation.update().where(organisation.c.id == oid).values(phone=new))
    for rid, phones, before in bind.execute(
        sa.select(proposal.c.id, proposal.c.phones, proposal.c.before)
    ).all():
        new_phones = _convert_list(phones, how, ("contact_proposal", rid, "phones"))
        new_before = _convert_list(before, how, ("contact_proposal", rid, "before"))
        if (new_phones, new_before) != (phones, before):
            bind.execute(
                proposal.update()
                .where(proposal.c.id == rid)
                .values(phones=new_phones, before=new_before)
            )


def _old_digits(numbers: list[str | None]) -> str:
    # person.phone_digits before 0008: the stored numbers, space-separated.
    return " ".join(n for n in numbers if n)


def upgrade() -> None:
    _rewrite(to_e164, search_digits)


def downgrade() -> None:
    _rewrite(to_digits, _old_digits)
