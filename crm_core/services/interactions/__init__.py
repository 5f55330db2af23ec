"""Interactions: logging done work, scheduling planned work, and a person's timeline.

One interaction has many participants: people (the contacts) and accounts (the
office's users). Its kind, registered by a plugin, brings a schema for its own fields.
Plugins see every save through ``validate_interaction`` and ``interaction_saved``.

The modules: :mod:`.saving` (what every save goes through), :mod:`.lifecycle` (log,
schedule, complete, cancel, reschedule), :mod:`.reading` (what the acting account may
see, timeline, JSON) and :mod:`.participation` (invitations, RSVP, attendance). Every
public name is importable from here.
"""

from crm_core.services.interactions.editing import delete_interaction, update_interaction
from crm_core.services.interactions.lifecycle import (
    cancel_interaction,
    complete_interaction,
    log_interaction,
    reschedule_interaction,
    schedule_interaction,
)
from crm_core.services.interactions.participation import (
    Participation,
    add_participants,
    participation,
    remove_participants,
    set_participation,
)
from crm_core.services.interactions.reading import (
    can_read_notes,
    interaction_json,
    read_notes,
    shown,
    shown_all,
    timeline,
)
from crm_core.services.interactions.saving import (
    Participant,
    get_interaction,
    participants_of,
    require_kind,
)

__all__ = [
    "Participant",
    "Participation",
    "add_participants",
    "can_read_notes",
    "cancel_interaction",
    "complete_interaction",
    "delete_interaction",
    "get_interaction",
    "interaction_json",
    "log_interaction",
    "participants_of",
    "participation",
    "read_notes",
    "remove_participants",
    "require_kind",
    "reschedule_interaction",
    "schedule_interaction",
    "set_participation",
    "shown",
    "shown_all",
    "timeline",
    "update_interaction",
]
