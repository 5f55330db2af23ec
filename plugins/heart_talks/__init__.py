"""谈心谈话 (seed 二.5): heart-to-heart talks of party-group members, office leaders and
special-committee leaders with the non-party members of the committee.

The plugin registers the kind ``heart_talk`` (谈心谈话): confidential by default, people
take the role ``member``, accounts ``talker``; 60 minutes. Its fields are ``topics``
and ``agreed`` (:class:`HeartTalkFields`); the thoughts exchanged go in the notes,
which the core shows only to the talk's participants and the office's administrators.

- ``validate_interaction`` refuses a talk held by an account that is not a leader
  (role ``leader`` or ``admin``), or with a person who is not a non-party member.
- ``collect_follow_ups`` makes each agreed item a follow-up of the talker's.
- :func:`coverage` (public) tells, per special committee, which non-party members have
  had a talk in a year and which have not; ``tongxin talks coverage`` prints it.
- ``register_reports`` adds the report ``talks`` (谈心谈话覆盖情况) for any period:
  ``tongxin report talks --year 2026 -o 谈心谈话.docx``.
- ``populate_demo`` adds this year's talks of the committee leaders, leaving gaps.

It uses only the public services and models of ``crm_core``.
"""

from __future__ import annotations

from .cli import register_commands
from .demo import populate_demo
from .hooks import collect_follow_ups, register_kinds, register_reports, validate_interaction
from .report import CommitteeCoverage, MemberTalks, coverage, is_non_party_member, talk_report
from .schema import HEART_TALK, HeartTalkFields

__version__ = "0.1.0"

__all__ = [
    "HEART_TALK",
    "CommitteeCoverage",
    "HeartTalkFields",
    "MemberTalks",
    "__version__",
    "collect_follow_ups",
    "coverage",
    "is_non_party_member",
    "populate_demo",
    "register_commands",
    "register_kinds",
    "register_reports",
    "talk_report",
    "validate_interaction",
]
