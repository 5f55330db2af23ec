"""The hooks of tongxin: the reference documentation of every one.

A plugin is a module or class with functions marked ``@hookimpl`` whose names are hook
names below. Hosts pass arguments by keyword, so an implementation takes only the
arguments it needs. ``docs/plugins.md`` shows complete plugins.

Registration hooks receive a ``register`` callback instead of returning values, so the
host knows which plugin registered what and can report clashes (the habit of ``llm``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from crm_core.demo_context import DemoContext
    from crm_core.kinds import Cadence, CategorySpec, FollowUpDraft, KindSpec
    from crm_core.models import Assignment, Interaction, Person
    from crm_core.unit import Unit

PROJECT = "tongxin"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_kinds(register: Callable[[KindSpec], None], plugin_config: Any) -> None:
    """Register interaction kinds.

    Call ``register(KindSpec(...))`` once per kind: a ``code`` unique across plugins,
    Chinese and English labels, a pydantic model of the kind's own fields, the default
    duration in minutes, whether its notes are confidential by default, and the roles
    given to people and accounts taking part. A code registered twice keeps the first
    registration; the clash is reported on the plugins list.

    Example::

        class CallFields(BaseModel):
            topic: str = Field(description="话题")

        @hookimpl
        def register_kinds(register):
            register(KindSpec("call", "电话联系", "Phone call", schema=CallFields))
    """


@hookspec
def register_categories(register: Callable[[CategorySpec], None], plugin_config: Any) -> None:
    """Register contact categories beyond those in config.

    Call ``register(CategorySpec(code, zh, en, ideal_days, max_days))``. A category a
    county's config already defines is not replaced: config wins, so an office can always
    adjust a plugin's cadence without editing it.
    """


@hookspec
def register_commands(cli: Any, plugin_config: Any) -> None:
    """Add commands to the ``tongxin`` command line.

    ``cli`` is the root Typer application; add commands or groups with
    ``@cli.command()`` or ``cli.add_typer(...)``. Commands should call the public
    services in ``crm_core.services`` through ``crm_cli.context.open_unit()``.
    """


@hookspec
def validate_interaction(
    unit: Unit, interaction: Interaction, kind: KindSpec, plugin_config: Any
) -> None:
    """Check an interaction before it is saved; raise ``crm_core.errors.ValidationError``
    naming the field and value to refuse it.

    Called for every create and change of an interaction, of every kind, after the
    kind's own schema has accepted ``interaction.data``. Participants are already
    attached (``unit.session`` can query them). Nothing has been committed: a refusal
    rolls the whole change back. Any other exception also refuses the change (fail
    closed: a check that crashed did not pass): the user is told the plugin's name and
    the error, and the failure is recorded on the plugins list.
    """


@hookspec
def interaction_saved(
    unit: Unit, interaction: Interaction, created: bool, plugin_config: Any
) -> None:
    """React after an interaction was created (``created``) or changed, inside the same
    transaction: add follow-ups, update a plugin's own rows, queue a notification.

    Use the services with ``unit``; whatever is written here commits or rolls back
    together with the interaction. An exception other than ``ValidationError`` is
    reported as a plugin failure and the rest of the save goes on.
    """


@hookspec
def collect_follow_ups(
    unit: Unit, interaction: Interaction, kind: KindSpec, plugin_config: Any
) -> list[FollowUpDraft] | None:
    """Name the concerns a done interaction raised that the office must follow up
    (社情民意、诉求): return a list of ``FollowUpDraft(title, ...)``, or None.

    Called when an interaction is logged as done or a planned one is completed, after
    ``validate_interaction``. The core creates one follow-up per draft in the same
    transaction, linked to the interaction; a draft without ``person_id`` is raised by
    the interaction's first person, without ``owner_id`` owned by the acting account,
    without ``due_on`` due ``follow_up_days`` (config, default 30) from today. So the
    interaction and its follow-ups are written together or not at all.
    """


@hookspec
def adjust_cadence(
    unit: Unit, assignment: Assignment, contact: Person, cadence: Cadence, plugin_config: Any
) -> Cadence | None:
    """Propose a cadence for an assignment, or None to leave it.

    ``cadence`` is what config gives for the assignment's category. A cadence set on
    the assignment itself always wins; otherwise the strictest proposal (smallest
    ``max_days``, then ``ideal_days``) among the plugins' and config's applies. Used by
    ``overdue`` and every screen that shows whether a contact is due.
    """


@hookspec
def populate_demo(unit: Unit, demo: DemoContext, plugin_config: Any) -> None:
    """Add this plugin's own demo data to a database being filled by ``tongxin demo``.

    ``demo`` holds the seeded random generator (use only it, so the same seed gives
    the same data), today's date, and the people and accounts already made, grouped by
    category and role. Write through the services with ``unit``; it is the demo's
    transaction.
    """


@hookspec
def register_panels(register: Callable[[Any], None], plugin_config: Any) -> None:
    """Add panels to a person's page in the front ends (the terminal UI shows them below
    the timeline).

    Call ``register(PanelSpec(code, zh, en, render, order=100))`` (``crm_core.panels``)
    once per panel. ``render(unit, person)`` returns a string (Rich markup allowed), a
    Rich renderable, or None to show nothing for that person; it must only read, through
    the services. Panels are shown by ``order``, then code. A render function that
    raises shows an error in its own box and is recorded against the plugin on the
    plugins list; the rest of the page works. Front ends call ``render`` each time the
    page is shown, so keep it quick (one or two queries).

    An interaction's summary, notes and fields reach the page only through
    ``interactions.shown(unit, i)`` (or ``shown_all``): of a confidential one the account
    may not read it gives only that it happened (``hidden``, and ``headline`` such as
    "谈心谈话（保密）" where the summary would be).

    Example::

        @hookimpl
        def register_panels(register):
            def talks(unit, person):
                n = len(interactions.timeline(unit, person.id, kinds=["talk"]))
                return f"谈心谈话 {n} 次"
            register(PanelSpec("talk_count", "谈心谈话", "Heart-to-heart talks", talks))
    """


@hookspec
def register_dashboard_cards(register: Callable[[Any], None], plugin_config: Any) -> None:
    """Add cards to the dashboard (首页) of the front ends.

    Call ``register(CardSpec(code, zh, en, render, order=100))`` (``crm_core.panels``)
    once per card. ``render(unit)`` returns a string (Rich markup allowed), a Rich
    renderable, or None to hide the card; the acting account is ``unit.actor`` and today
    is ``crm_core.clock.today(unit.config.tz)``. It must only read. A card that raises
    shows an error in its own box and is recorded against the plugin; the rest of the
    dashboard works.

    Example::

        @hookimpl
        def register_dashboard_cards(register):
            def open_letters(unit):
                rows = followups.list_follow_ups(unit, open_only=True)
                return f"未办结诉求 {len(rows)} 件"
            register(CardSpec("letters", "来信来访", "Letters", open_letters))
    """


@hookspec
def register_palette_commands(register: Callable[[Any], None], plugin_config: Any) -> None:
    """Add entries to the command palette (Ctrl+P) of the front ends, titled "group:
    action" like the built-in ones and found the same way (Chinese, English, pinyin
    initials).

    Call ``register(PaletteCommandSpec(code, group_zh, group_en, zh, en, run,
    help_zh="", help_en="", order=100))`` (``crm_core.panels``) once per command. The
    front end calls ``run(unit)`` when the command is chosen, in one unit of work as the
    acting account; it returns None (a short "done" notice), a string (Rich markup
    allowed) or a Rich renderable (shown in a dialog titled by the command), or an
    ``OpenTarget(screen, ref)`` to open a person, an interaction, a follow-up, the
    agenda on a day, or a main screen. What ``run`` writes is kept if it returns and
    undone if it raises; an exception is shown as an error and recorded against the
    plugin on the plugins list. A code registered twice keeps the first registration.

    Example::

        @hookimpl
        def register_palette_commands(register):
            def coming_gathering(unit):
                day = mid_autumn_date(unit, clock.today(unit.config.tz).year)
                return OpenTarget("agenda", day.isoformat())
            register(PaletteCommandSpec(
                "gathering_day", "联谊", "Liaison", "中秋联谊会日程", "Mid-Autumn gathering day",
                coming_gathering))
    """


@hookspec
def decorate_event(
    unit: Unit, interaction: Interaction, event: Any, calendar_range: Any, plugin_config: Any
) -> None:
    """Change the calendar event (VEVENT) of an interaction before it is exported.

    ``event`` is an ``icalendar.Event`` already holding UID, DTSTART/DTEND, SUMMARY,
    DESCRIPTION, LOCATION, CATEGORIES, STATUS, SEQUENCE and the alarms; add or change
    properties in place (``crm_core.api.add_categories(event, ["联谊"])``, an extra
    ``icalendar.Alarm``). ``calendar_range`` (``crm_core.calendar.CalendarRange``) says
    whose calendar it is (``scope``, ``account``) and its span. Called for every
    interaction of every calendar export, feed and CalDAV push, so the three stay
    identical: derive everything from the interaction (never from the clock), or the feed
    changes on every fetch. Never put confidential notes in an event: a calendar leaves
    the office for phones and their clouds. The return value is ignored; an exception is
    reported as a plugin failure and the event is kept as it was.
    """


@hookspec
def add_events(unit: Unit, calendar_range: Any, plugin_config: Any) -> list[Any] | None:
    """Add events of the plugin's own to a calendar: return a list of ``icalendar.Event``
    (or None).

    ``calendar_range`` (``crm_core.calendar.CalendarRange``) holds ``scope`` ("user",
    "office" or "institutional"), ``account`` (the calendar's account, or None),
    ``start`` and ``end`` (dates, end exclusive) and ``tz``. Each event needs a ``UID``
    that is stable across exports (derive it from the plugin's own record, e.g.
    ``"mine-<id>@tongxin"``), ``DTSTART``, and ``DTSTAMP`` from the record's own change
    time, never "now": the exported bytes must not change while nothing changed. An
    event without UID or DTSTART is dropped and reported as a plugin failure.
    """


@hookspec
def reminder_minutes(
    unit: Unit, interaction: Interaction, minutes: tuple[int, ...], plugin_config: Any
) -> Any:
    """Propose when to be reminded of a planned interaction: return minutes before its
    start (a list of whole numbers), or None to leave it.

    ``minutes`` is what config gives for the interaction's kind (``[reminders]``
    ``default_minutes`` and ``[reminders.kinds]``). The union of config's and every
    plugin's proposals applies, both to the alarms (VALARM) of exported calendars and to
    the per-item reminders of ``tongxin remind``. Called often: derive the answer from
    the interaction alone.
    """


@hookspec
def collect_reminders(unit: Unit, window: Any, plugin_config: Any) -> list[Any] | None:
    """Add reminder rules: return the plugin's reminders due within ``window`` as a list
    of ``crm_core.reminders.Reminder(key, at, account_id, title, body)``, or None.

    ``window`` (``crm_core.reminders.ReminderWindow``) holds ``start`` and ``end``
    (aware UTC datetimes) and ``tz``. ``tongxin remind`` asks every few minutes
    (``[reminders] refresh_minutes``) and schedules one job per reminder, identified by
    the plugin's name and ``key``: keep ``key`` stable for the same reminder (e.g.
    ``"birthday:<person id>:2026"``), or it is sent again. A reminder is delivered once
    per channel to the account ``account_id`` (None: every active administrator), even
    if it was due while the service was stopped.
    """


@hookspec
def register_reports(register: Callable[[Any], None], plugin_config: Any) -> None:
    """Register reports: they appear in ``tongxin report --list``, run with
    ``tongxin report CODE [--from --to | --quarter | --year] [-o FILE] [--json]`` and on
    the reports screen exactly like the built-in ones, and are written to Excel, Word and
    CSV by the same code.

    Call ``register(ReportSpec(code, zh, en, build))`` (``crm_core.reports``) once per
    report. ``build(unit, period)`` must only read (through the services, or queries of
    the plugin's own); ``period`` (``crm_core.reports.Period``) has ``start`` and ``end``
    (local dates, both included), ``bounds(unit.config.tz)`` (the aware instants to
    compare ``Interaction.start_at`` with) and ``months()``. It returns a
    ``ReportTable(sections, summary)``: each ``Section(key, zh, en, columns, rows)`` is a
    table whose ``columns`` are ``Column(key, zh, en, kind)`` (kind ``text``, ``int``,
    ``float``, ``percent`` — a share 0–1 —, ``date``, ``datetime`` or ``list``) and whose
    ``rows`` are dicts keyed by the column keys; ``summary`` holds headline figures for
    ``--json``. A code already registered (by the core or an earlier plugin) keeps the
    first registration and the clash is reported on the plugins list; a ``build`` that
    raises fails that report only.

    An interaction's summary, notes and fields reach a report only through
    ``interactions.shown(unit, i)`` (or ``shown_all``): of a confidential one the account
    may not read it gives only that it happened (``hidden``, and ``headline`` such as
    "谈心谈话（保密）" where the summary would be).

    The heart-to-heart talk coverage per special committee and the HK/Macao briefing
    report are meant to be registered this way by their plugins. Example::

        from crm_core.reports import Column, ReportSpec, ReportTable, Section

        def talk_coverage(unit, period):
            rows = [{"committee": c.zh, "total": c.total, "share": c.ratio}
                    for c in coverage(unit, year=period.end.year)]
            cols = [Column("committee", "专委会", "Committee"),
                    Column("total", "党外委员", "Non-party members", "int"),
                    Column("share", "谈心谈话覆盖率", "Coverage", "percent")]
            return ReportTable([Section("talks", "谈心谈话覆盖", "Talk coverage", cols, rows)])

        @hookimpl
        def register_reports(register):
            register(ReportSpec("talks", "谈心谈话覆盖情况", "Heart-to-heart talks", talk_coverage))
    """


# -- plugin config (issue 13, item 2) ----------------------------------------------------
#
# Every hook above also takes ``plugin_config``: the plugin's own table of config.toml,
# validated by the model ``plugin_config_model`` returns. Hosts pass arguments by keyword
# and an implementation takes only those it names, so plugins that do not ask for it keep
# working unchanged.


@hookspec
def plugin_config_model() -> Any:
    """Declare the shape of this plugin's own table ``[plugins.NAME]`` of config.toml
    (``NAME`` is the plugin's name, as ``tongxin plugins`` lists it): return a pydantic
    model class, or None.

    tongxin validates the table against it when it starts, before any other hook runs:
    a key the model does not declare, or a value it refuses, is a configuration error
    naming the file and the key (``config.toml: [plugins.homes] homes[2] = 3: not a
    text``), and tongxin does not start, exactly as for its own sections. The model's
    defaults apply to keys the office leaves out, and to a missing table. A plugin that
    declares no model receives its table as a plain dict.

    Every other hook receives the validated instance as ``plugin_config`` when its
    implementation names that parameter, so config can shape what a plugin registers,
    e.g. the choices of a field (shown by ``tongxin kinds`` and as a drop-down in the
    terminal UI's form)::

        class HomesConfig(BaseModel):
            homes: list[str] = []

        @hookimpl
        def plugin_config_model():
            return HomesConfig

        @hookimpl
        def register_kinds(register, plugin_config):
            register(KindSpec("home_activity", "委员活动之家活动", "Home activity",
                              Fields, choices={"home": plugin_config.homes}))

    A table ``[plugins.NAME]`` whose plugin is not loaded (not installed, or left out
    by ``TONGXIN_LOAD_PLUGINS``) is not an error, because one config file often serves
    desks with different plugins: it is reported as a warning naming the file and the
    table (on stderr by the command line, in the log) and otherwise ignored. The table
    of a plugin switched off in ``[plugins] disabled`` is kept silently. Called once per
    start; it must only return the class.
    """


# -- obligations (issue 13 item 4) ---------------------------------------------------------

if TYPE_CHECKING:
    from datetime import date

    from crm_core.kinds import Obligation


@hookspec
def collect_obligations(unit: Unit, as_of: date, plugin_config: Any) -> list[Obligation] | None:
    """Name what the office owes and has not done on ``as_of`` (a local date): return a
    list of ``crm_core.api.Obligation(key, label, detail, due_on, severity, link,
    account_id)``, or None.

    The rows appear in ``tongxin overdue`` (and its ``--json``, under "obligations"),
    in the dashboard's overdue card and in the daily digest of ``tongxin remind``, with
    the plugin's own ``label`` and ``detail`` and, when ``link``
    (``crm_core.api.OpenTarget``) is given, a place the terminal UI opens and the
    command line prints. A row for an account (``account_id``) is shown to it, in
    ``tongxin overdue --keeper`` of it and in its digest; a row without one belongs to
    the office: shown to every reader and in the administrators' digests.

    ``unit`` acts as the reader: whoever runs ``tongxin overdue`` or opens the
    dashboard, or the recipient of the digest (each digest is computed acting as its
    recipient). Read only through the scoped reads of ``crm_core.api``, so county
    staff get rows of their region only and a confidential record never shows through
    ``label`` or ``detail``. Called every time these are shown: keep it to a few
    queries. An exception skips this plugin's rows (a warning on the command line, a
    notification in the terminal UI, a line on the log ``tongxin.plugins``) and the rest
    is shown; a row that is not an ``Obligation`` is dropped and reported the same way.

    Example (a 委员活动之家 without an activity this month)::

        @hookimpl
        def collect_obligations(unit, as_of):
            first = as_of.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            done = homes_with_activity(unit, first, last)  # a scoped query
            return [
                Obligation(
                    f"home_activity:{home}:{first:%Y-%m}",
                    f"{home}：本月尚无活动",
                    due_on=last,
                    link=OpenTarget("agenda", f"{first:%Y-%m}", kind="home_activity"),
                )
                for home in configured_homes(unit)
                if home not in done
            ]
    """
