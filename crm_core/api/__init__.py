"""The public API of tongxin for plugins: everything a plugin may import from the core.

A plugin imports ``crm_core.api`` (and, for command-line commands, ``crm_cli.plugin_api``)
and its own modules, nothing else of tongxin; ``tests/test_architecture.py`` fails on
any other import from a plugin. Every name here is documented in ``docs/plugins.md``.

The reads (:func:`people`, :func:`interactions`, :func:`participants`,
:func:`follow_ups`, ...) apply county scope and confidentiality themselves
(:mod:`crm_core.authz`), so a plugin never adds ``authz`` conditions of its own; the
writes are the services the front ends use, one transaction per unit of work.
"""

from __future__ import annotations

from crm_core.api.queries import (
    Attendee,
    categories_of,
    committees_of,
    config_series_row,
    find_account,
    find_person,
    follow_ups,
    interactions,
    participants,
    people,
    series_by_code,
)
from crm_core.authz import Shown, readable_ids, region_scope, shown, shown_all
from crm_core.calendar.ics_base import add_categories
from crm_core.calendar.itip import InvitationReport, send_invitations
from crm_core.clock import now, today
from crm_core.demo_context import DemoContext
from crm_core.errors import Ambiguous, FieldError, NotFound, PermissionDenied, ValidationError
from crm_core.hookspecs import hookimpl
from crm_core.i18n import N_, _, language
from crm_core.kinds import CategorySpec, FollowUpDraft, KindSpec, Obligation
from crm_core.lunar import lunar_to_solar, solar_to_lunar
from crm_core.models import (
    Account,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Membership,
    Organisation,
    Person,
    PersonStatus,
    Role,
    Rsvp,
    Series,
)
from crm_core.panels import CardSpec, OpenTarget, PaletteCommandSpec, PanelSpec
from crm_core.reports import Column, Period, ReportSpec, ReportTable, Section, note_scope, share
from crm_core.services.contacts import create_person, describe, get_person, resolve_person
from crm_core.services.followups import raise_follow_up, update_follow_up
from crm_core.services.groups import people_of as group_people
from crm_core.services.interactions import (
    Participant,
    Participation,
    add_participants,
    complete_interaction,
    get_interaction,
    interaction_json,
    log_interaction,
    participants_of,
    participation,
    read_notes,
    schedule_interaction,
    set_participation,
    timeline,
)
from crm_core.services.organisations import (
    add_contact,
    contacts_of,
    create_organisation,
    get_organisation,
    list_organisations,
    resolve_organisation,
)
from crm_core.unit import Unit

__all__ = [
    "N_",
    "Account",
    "Ambiguous",
    "Attendee",
    "CardSpec",
    "CategorySpec",
    "Column",
    "DemoContext",
    "FieldError",
    "FollowUp",
    "FollowUpDraft",
    "FollowUpStatus",
    "Interaction",
    "InteractionParticipant",
    "InteractionStatus",
    "InvitationReport",
    "KindSpec",
    "Membership",
    "NotFound",
    "Obligation",
    "OpenTarget",
    "Organisation",
    "PaletteCommandSpec",
    "PanelSpec",
    "Participant",
    "Participation",
    "Period",
    "PermissionDenied",
    "Person",
    "PersonStatus",
    "ReportSpec",
    "ReportTable",
    "Role",
    "Rsvp",
    "Section",
    "Series",
    "Shown",
    "Unit",
    "ValidationError",
    "_",
    "add_categories",
    "add_contact",
    "add_participants",
    "categories_of",
    "committees_of",
    "complete_interaction",
    "config_series_row",
    "contacts_of",
    "create_organisation",
    "create_person",
    "describe",
    "find_account",
    "find_person",
    "follow_ups",
    "get_interaction",
    "get_organisation",
    "get_person",
    "group_people",
    "hookimpl",
    "interaction_json",
    "interactions",
    "language",
    "list_organisations",
    "log_interaction",
    "lunar_to_solar",
    "note_scope",
    "now",
    "participants",
    "participants_of",
    "participation",
    "people",
    "raise_follow_up",
    "read_notes",
    "readable_ids",
    "region_scope",
    "resolve_organisation",
    "resolve_person",
    "schedule_interaction",
    "send_invitations",
    "series_by_code",
    "set_participation",
    "share",
    "shown",
    "shown_all",
    "solar_to_lunar",
    "timeline",
    "today",
    "update_follow_up",
]
