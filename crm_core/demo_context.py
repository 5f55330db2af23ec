"""What ``tongxin demo`` hands to plugins' ``populate_demo`` hook."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date

from crm_core.models import Account


@dataclass
class DemoContext:
    """The demo being made: a seeded generator, today, and who exists so far.

    ``people_by_category`` maps a category code to person ids carrying it;
    ``members`` are the committee's members (委员), ``accounts_by_role`` maps a role
    ("admin", "leader", "staff", "county_staff") and "chair_meeting" to accounts.
    """

    rng: random.Random
    today: date
    people_by_category: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    members: list[uuid.UUID] = field(default_factory=list)
    accounts_by_role: dict[str, list[Account]] = field(default_factory=dict)
    organisations: list[uuid.UUID] = field(default_factory=list)
