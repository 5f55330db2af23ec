"""走访看望 (seed 二.6): visits to members, and invitations to come over or to join an
inspection.

Chair-meeting members visit the members who live in a county while they are there on a
trip, or invite them to join the inspection (视察调研); every concern a member raises
in a done visit becomes a follow-up for the office (社情民意、诉求), written in the same
transaction as the visit.

The plugin registers two kinds:

- ``visit`` 走访看望: people take the role ``visited``, accounts ``visitor``; 90 minutes.
- ``invitation`` 约请上门 / 邀请参加视察调研: people ``invitee``, accounts ``host``;
  120 minutes.

Both share the fields of :class:`VisitFields`: ``occasion``, ``county``, ``discussed``
and ``concerns``. ``county`` takes a region's code or label from config and is stored as
the code; an interaction without a region takes the county as its region, and one whose
region says otherwise is refused.

Hooks: ``register_kinds``, ``validate_interaction``, ``collect_follow_ups``,
``populate_demo``. It uses only the public services and models of ``crm_core``.
"""

from __future__ import annotations

from .demo import populate_demo
from .hooks import collect_follow_ups, register_kinds, register_reports, validate_interaction
from .schema import INVITATION, VISIT, VisitFields

__version__ = "0.1.0"

__all__ = [
    "INVITATION",
    "VISIT",
    "VisitFields",
    "__version__",
    "collect_follow_ups",
    "populate_demo",
    "register_kinds",
    "register_reports",
    "validate_interaction",
]
