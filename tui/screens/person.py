"""A person's page: profile, categories, who keeps them, what is planned, the timeline of
every interaction of every kind, open follow-ups, and the panels plugins add."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui import data, person_links
from crm_tui.common import (
    error_text,
    fmt_day,
    fmt_when,
    kind_label,
    shorten,
    status_word,
    vocab_label,
)
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from crm_core.errors import TongxinError
from crm_core.i18n import N_, _
from crm_core.person_fields import gender_label
from crm_core.phones import display_phone
from crm_core.services import tags
from crm_core.unit import Unit


class PersonScreen(BaseScreen):
    """One person, everything about them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back"), id="person.back"),
        Binding("l", "log", N_("Log work"), id="person.log"),
        Binding("s", "schedule", N_("Schedule"), id="person.schedule"),
        Binding("u", "follow_up", N_("Add follow-up"), id="person.follow_up"),
        Binding("e", "edit", N_("Edit"), id="person.edit"),
        Binding("r", "reload", N_("Refresh"), id="person.reload"),
        # Issue 18: the liaison record of this year, and tagging (with completion).
        Binding("a", "record", N_("Liaison record"), id="person.record", show=False),
        Binding("t", "tag", N_("Tag"), id="person.tag", show=False),
    ]

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id
        self.page: data.PersonPage | None = None
        self.with_record = False

    def compose(self) -> ComposeResult:
        yield Static("", classes="screen-title", id="person-title")
        with VerticalScroll(id="person-body"):
            yield Static("", id="profile", classes="section")
            yield Static("", id="relations", classes="section")
            yield Static("", id="record", classes="section")
            groups_box = Static("", id="person-groups", classes="section")
            groups_box.display = False  # shown once the person is in a group
            yield groups_box
            yield Static("", id="assignments", classes="section")
            yield Static("", id="follow-ups", classes="section")
            yield Static("", id="upcoming", classes="section")
            yield Static("", id="timeline", classes="section")
            yield Vertical(id="panels")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.page is not None:
            self.action_reload()

    def action_reload(self) -> None:
        """Read the page again."""
        self.load_in_thread(lambda unit: data.load_person(unit, self.person_id), self.show)
        self.load_in_thread(
            lambda unit: person_links.load_links(
                unit, self.person_id, with_record=self.with_record
            ),
            self.show_links,
            group="links",
        )

    def show_links(self, links: person_links.PersonLinks) -> None:
        """Fill the relationships, the tags line and (when asked for) the record."""
        self.links = links
        box = self.query_one("#relations", Static)
        box.border_title = _("Relationships")
        box.display = bool(links.relations or links.tags)
        body = Text()
        if links.tags:
            body.append(_("Tags") + "  ", "dim")
            body.append("、".join(links.tags))
        box.update(Group(body, person_links.relations_table(links.relations)))
        record = self.query_one("#record", Static)
        record.display = bool(links.record)
        if links.record:
            record.border_title = _("Liaison record {period}").format(
                period=links.record["period"]["label"]
            )
            record.update(person_links.record_view(links.record))
        self.load_in_thread(self._load_groups, self._show_groups, group="groups")

    def _load_groups(self, unit: Unit) -> list[str]:
        import uuid

        from crm_core.services import groups

        return [g.name for g in groups.groups_of(unit, uuid.UUID(str(self.person_id)))]

    def _show_groups(self, names: list[str]) -> None:
        """The groups the person is in (issue 18), as the reader sees them."""
        widget = self.query_one("#person-groups", Static)
        widget.border_title = _("Groups")
        widget.display = bool(names)
        widget.update(Text("、".join(names)))

    def show(self, page: data.PersonPage) -> None:
        """Fill the page."""
        self.page = page
        core = self.app.core
        vocab = core.config.vocab
        p = page.profile
        membership = {"standing": _("Standing committee member"), "member": _("Member")}.get(
            p["membership"], ""
        )
        title = Text(p["name"], "bold")
        title.append(f"  {p['pinyin']}", "dim")
        if membership:
            title.append(f"  {membership}")
        self.query_one("#person-title", Static).update(title)

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        gender = gender_label(p["gender"])

        def row(label: str, value: Any) -> None:
            if value:
                grid.add_row(label, str(value))

        row(_("Gender"), gender)
        row(_("Born"), p["birth"])
        row(_("Ethnicity"), p["ethnicity"])
        row(_("Party"), vocab_label(vocab["parties"], p["party"]))
        row(_("Sector"), vocab_label(vocab["sectors"], p["sector"]))
        row(_("Region"), vocab_label(vocab["regions"], p["region"]))
        row(_("Employer and title"), " ".join(x for x in (p["employer"], p["title"]) if x))
        row(_("Mobile"), "、".join(display_phone(x) for x in [p["mobile"], *p["phones"]] if x))
        row(_("Address"), p["address"])
        row(_("Categories"), "、".join(vocab_label(core.categories, c) for c in page.categories))
        row(
            _("Special committees"),
            "、".join(vocab_label(vocab["committees"], c) for c in page.committees),
        )
        row(_("Status"), _(p["status"]) if p["status"] != "active" else "")
        profile = self.query_one("#profile", Static)
        profile.update(grid)
        profile.border_title = _("Profile")

        self._assignments(page)
        self._follow_ups(page)
        self._interactions("#upcoming", _("Upcoming"), page.upcoming, page, empty=None)
        self._interactions(
            "#timeline", _("Timeline"), page.timeline, page, empty=_("No interactions yet.")
        )
        self._panels(page)

    def _assignments(self, page: data.PersonPage) -> None:
        widget = self.query_one("#assignments", Static)
        widget.border_title = _("Liaison")
        widget.display = bool(page.assignments)
        if not page.assignments:
            return
        tz = self.app.core.config.tz
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        for head in (_("Keeper"), _("Category"), _("Cadence (days)"), _("Last contact")):
            table.add_column(head, no_wrap=True)
        for a in page.assignments:
            table.add_row(
                a.keeper,
                vocab_label(self.app.core.categories, a.category),
                f"{a.ideal_days}/{a.max_days}",
                fmt_when(a.last_contact, tz) if a.last_contact else _("never"),
            )
        widget.update(table)

    def _follow_ups(self, page: data.PersonPage) -> None:
        widget = self.query_one("#follow-ups", Static)
        widget.border_title = _("Open follow-ups")
        widget.display = bool(page.follow_ups)
        if not page.follow_ups:
            return
        table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column()
        for f in page.follow_ups:
            table.add_row(fmt_day(f.due_on), status_word(f.status), f.title)
        widget.update(table)

    def _interactions(
        self,
        selector: str,
        title: str,
        items: list[data.AgendaLine],
        page: data.PersonPage,
        *,
        empty: str | None,
    ) -> None:
        widget = self.query_one(selector, Static)
        widget.border_title = f"{title} ({len(items)})"
        widget.display = bool(items) or empty is not None
        if not items:
            widget.update(Text(empty or "", "dim"))
            return
        core = self.app.core
        tz = core.config.tz
        table = Table(box=None, padding=(0, 1), show_edge=False, show_header=False, expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for item in items:
            what = Text(kind_label(core.kinds, item.kind, core.plugins), "bold")
            if item.status.value != "done":
                what.append(f" [{status_word(item.status)}]", "dim")
            body = Text()
            body.append(item.summary or "")
            others = [n for n in item.names if n != page.profile["name"]]
            if others:
                body.append(f"  ({shorten('、'.join(others), 30)})", "dim")
            if page.readable.get(item.id, True):
                note = page.notes.get(item.id)
                if note:
                    body.append("\n" + shorten(note, 200), "italic")
            else:
                body.append("\n" + _("Confidential: notes hidden"), "italic dim")
            table.add_row(fmt_when(item.start, tz, all_day=item.all_day), what, body)
        widget.update(table)

    def _panels(self, page: data.PersonPage) -> None:
        box = self.query_one("#panels", Vertical)
        box.remove_children()
        for panel in page.panels:
            body: Any = panel.body if panel.error is None else Text(panel.error, "red")
            widget = Static(body, classes="section" + (" panel-error" if panel.error else ""))
            widget.border_title = panel.title
            box.mount(widget)

    def action_record(self) -> None:
        """Show (or hide) this person's liaison record of the current year."""
        self.with_record = not self.with_record
        self.action_reload()

    def action_tag(self) -> None:
        """Tag this person; the tags in use are completed as one types (pinyin too)."""
        from crm_tui.screens.tag_prompt import TagPrompt, known_tags

        def save(tag: str | None) -> None:
            if not tag:
                return
            pid = self.person_id
            try:
                self.app.core.run(
                    lambda unit: tags.add_person_tags(unit, pid, [tag]), actor=self.app.actor
                )
            except TongxinError as exc:
                self.notify(error_text(exc), severity="error")
                return
            self.action_reload()

        self.load_in_thread(
            known_tags, lambda known: self.app.push_screen(TagPrompt(known), save), group="tags"
        )

    def action_log(self) -> None:
        """Log work done with this person."""
        self.app.open_form("log", person_id=self.person_id)

    def action_schedule(self) -> None:
        """Schedule work with this person."""
        self.app.open_form("schedule", person_id=self.person_id)

    def action_follow_up(self) -> None:
        """Add a concern to follow up for this person."""
        self.app.open_new_follow_up(self.person_id)

    def action_edit(self) -> None:
        """Edit this person's profile (the page shows the saved version on return)."""
        from crm_tui.screens.person_edit import PersonEditForm

        self.app.push_screen(PersonEditForm(self.person_id))
