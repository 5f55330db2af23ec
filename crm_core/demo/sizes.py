"""Sizes of a demo: how many contacts at least, rows per statement, a year's work."""

from __future__ import annotations

MIN_CONTACTS = 100  # enough for the leaders, the organisations' contacts and assignments
BATCH = 5_000  # rows per INSERT statement
MEMBERS = 450  # a municipal committee's size
DEFAULT_INTERACTIONS_CAP = 60_000  # what an office of a few dozen users logs in a year


# The version (4) and variant (RFC 4122) bits of a random UUID.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_V4 = (0x8000 << 48) | (4 << 76)


def default_interactions(contacts: int) -> int:
    """About a year of an office's work for ``contacts`` people: 1.5 a contact, capped
    at what a few dozen users can log in a year."""
    return min(round(contacts * 1.5), DEFAULT_INTERACTIONS_CAP)
