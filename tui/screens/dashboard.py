"""首页: today's and the coming week's agenda, the next institutional events, who is
overdue, follow-ups due, this month's work, and the plugins' cards. Every line opens what
it is about."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

from crm_tui import data
from crm_tui.commands import open_target
from crm_tui.common import (
    fmt_day,
    fmt_time,
    guarded,
    kind_label,
    plain,
    shorten,
    status_word,
    vocab_label,
    weekday,
)
from crm_tui.footer import Footer
from crm_tui.institutional import SERIES_MARK, series_time, warn_series_errors
from crm_tui.screens.base import BaseScreen
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from crm_core import clock, lunar
from crm_core.i18n import N_, _
from crm_core.services import agenda
from crm_core.unit import Unit

SERIES_DAYS = 60  # how far ahead "next institutional events" looks
SERIES_LINES = 5  # and how many it shows


def load_series(unit: Unit) -> agenda.InstitutionalPage:
    """The next institutional events: from today, at most SERIES_LINES in SERIES_DAYS."""
    today = clock.today(unit.config.tz)
    return agenda.institutional(
        unit, today, today + timedelta(days=SERIES_DAYS), limit=SERIES_LINES
    )


def _header(text: str, count: int | None = None) -> Option:
    label = Text(f"── {text}" + (f" ({count})" if count is not None else "") + " ", "bold")
    return Option(label, disabled=True)


def lunar_label(day: Any) -> str:
    """农历 text of a date, with its festival (八月十五 中秋)."""
    try:
        lday = lunar.solar_to_lunar(day)
    except Exception:  # outside the lunar tables: show nothing rather than fail
        return ""
    return lday.text + (f" {lday.festival}" if lday.festival else "")


class DashboardScreen(BaseScreen):
    """The first screen: what needs doing today."""

    main_name = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", N_("Refresh"), id="dashboard.reload"),
        Binding("l", "log", N_("Log work"), id="dashboard.log"),
        Binding("s", "schedule", N_("Schedule"), id="dashboard.schedule"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False  # the first part is on screen
        self.complete = False  # who is overdue too
        self.data: data.Dashboard | None = None
        self.series: agenda.InstitutionalPage | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="screen-title", id="dash-title")
        with Vertical(id="welcome"):
            yield Static(
                _(
                    "The database is empty. Load demo data to look around, "
                    "or import the office's roster:"
                )
                + "\n\n  tongxin import FILE.xlsx\n",
                id="welcome-text",
            )
            with Horizontal(id="welcome-buttons"):
                yield Button(_("Load demo data"), id="load-demo", variant="primary")
        with Vertical(id="dash-body"):
            yield OptionList(id="dash-list")
            yield Static("", id="dash-cue", classes="status-line")
            yield Vertical(id="dash-cards")
        yield Footer(compact=True)

    def _title(self) -> str:
        today = clock.today(self.app.core.config.tz)
        lunar_text = lunar_label(today)
        bits = [_("Home"), f"{fmt_day(today)} {weekday(today)}"]
        if lunar_text:
            bits.append(_("Lunar {date}").format(date=lunar_text))
        return "  ·  ".join(bits)

    def on_mount(self) -> None:
        self.query_one("#welcome").display = False
        option_list = self.query_one("#dash-list", OptionList)
        option_list.loading = True
        self.watch(option_list, "scroll_y", self._cue, init=False)
        self.watch(option_list, "virtual_size", self._cue, init=False)
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.action_reload()

    def action_reload(self) -> None:
        """Read the dashboard again."""

        def load(unit: Unit) -> tuple[data.Dashboard, agenda.InstitutionalPage | None]:
            dash = data.load_dashboard(unit)
            return dash, (None if dash.empty else load_series(unit))

        self.load_in_thread(load, self._loaded)

    def _loaded(self, result: tuple[data.Dashboard, agenda.InstitutionalPage | None]) -> None:
        dash, self.series = result
        if self.series is not None:
            warn_series_errors(self.app, self.series.errors)
        self.show(dash)

    def show(self, dash: data.Dashboard) -> None:
        """Fill the screen with ``dash``."""
        self.data = dash
        option_list = self.query_one("#dash-list", OptionList)
        option_list.loading = False
        self.query_one("#welcome").display = dash.empty
        self.query_one("#dash-body").display = not dash.empty
        if not dash.empty:
            self._fill(dash)
            self._show_cards(dash)
            if not dash.overdue_loaded:
                self.load_in_thread(data.load_overdue, self.show_overdue, group="overdue")
        else:
            self.complete = True
        self.loaded = True

    def show_overdue(self, late: data.Overdue) -> None:
        """Add who is overdue (read after the rest)."""
        if self.data is None:
            return
        dash = self.data
        dash.overdue, dash.overdue_total, dash.gaps = late.items, late.total, late.gaps
        dash.obligations, dash.obligations_failed = late.obligations, late.obligations_failed
        dash.overdue_loaded = True
        self._fill(dash)
        for plugin in late.obligations_failed:
            self.app.notify(
                _("Plugin {plugin} failed; its overdue items are not shown.").format(plugin=plugin),
                severity="warning",
                timeout=8,
            )
        self.complete = True

    def _cue(self, _value: object = None) -> None:
        """Say that the list goes on below the screen, and what is there (a scroll
        bar alone is easy to miss)."""
        lists, cues = self.query("#dash-list").results(OptionList), self.query("#dash-cue")
        option_list, cue = next(lists, None), next(cues.results(Static), None)
        if option_list is None or cue is None:
            return  # the screen was closed meanwhile
        below = option_list.max_scroll_y - round(option_list.scroll_y)
        if below <= 0 or option_list.loading:
            cue.display = False
            return
        cue.display = True
        cue.update("▼ " + _("{n} more lines below (↓ / PgDn)").format(n=below))

    def _fill(self, dash: data.Dashboard) -> None:
        option_list = self.query_one("#dash-list", OptionList)
        highlighted = option_list.highlighted
        option_list.clear_options()
        option_list.add_options(self._options(dash))
        if highlighted is not None and highlighted < option_list.option_count:
            option_list.highlighted = highlighted
        self.call_after_refresh(self._cue)

    def _options(self, dash: data.Dashboard) -> list[Option]:
        # What needs doing comes first: today, who is overdue and what is due, then
        # the coming week (at 80×24 the overdue would otherwise be below the fold).
        core = self.app.core
        tz = core.config.tz
        kinds = core.kinds
        out: list[Option] = [_header(_("Today"), dash.today_total)]
        if not dash.today_items:
            out.append(
                Option(Text("   " + _("Nothing on the agenda today."), "dim"), disabled=True)
            )
        for item in dash.today_items:
            when = fmt_time(item.start, tz, all_day=item.all_day)
            out.append(self._agenda_option(item, when, kinds))
        if dash.today_total > len(dash.today_items):
            out.append(self._more("agenda:day", dash.today_total - len(dash.today_items)))
        out.append(
            _header(_("Overdue contacts"), dash.overdue_total if dash.overdue_loaded else None)
        )
        if not dash.overdue_loaded:
            out.append(Option(Text("   " + _("Reading…"), "dim italic"), disabled=True))
        elif not dash.overdue:
            out.append(Option(Text("   " + _("Nobody is overdue."), "dim"), disabled=True))
        for o in dash.overdue:
            level = _("past maximum") if o.level == "max" else _("past ideal")
            line = Text("   ")
            line.append(o.contact, "bold")
            line.append(
                "  "
                + _("{level} by {days} days").format(level=level, days=o.days_overdue)
                + f"  ({o.keeper})",
                "red" if o.level == "max" else "yellow",
            )
            out.append(Option(line, id=f"person:{o.contact_id}"))
        if dash.overdue_total > len(dash.overdue):
            out.append(self._more("overdue", dash.overdue_total - len(dash.overdue)))
        if dash.gaps:
            out.append(_header(_("Missing liaison contacts"), len(dash.gaps)))
            for g in dash.gaps:
                label = vocab_label(core.categories, g.category)
                text = _("{keeper} keeps no {category} contact").format(
                    keeper=g.keeper, category=label
                )
                out.append(Option(plain("   " + text), id=f"gap:{g.category}:{g.keeper_id}"))
        out.extend(self._obligation_options(dash))
        out.append(_header(_("Follow-ups due"), dash.follow_ups_total))
        if not dash.follow_ups:
            out.append(Option(Text("   " + _("No follow-ups."), "dim"), disabled=True))
        for f in dash.follow_ups:
            late = f.due_on is not None and f.due_on < dash.today
            line = Text("   ")
            line.append(fmt_day(f.due_on) or "—", "red" if late else "")
            line.append(f"  {shorten(f.title, 36)}")
            if f.person:
                line.append(f"  — {f.person}", "dim")
            out.append(Option(line, id=f"fu:{f.id}"))
        if dash.follow_ups_total > len(dash.follow_ups):
            out.append(self._more("followups", dash.follow_ups_total - len(dash.follow_ups)))
        out.append(_header(_("Next 7 days"), dash.week_total))
        if not dash.week_items:
            out.append(Option(Text("   " + _("Nothing planned."), "dim"), disabled=True))
        for item in dash.week_items:
            local = item.start.astimezone(tz)
            when = f"{local:%m-%d} {weekday(local.date())} " + fmt_time(
                item.start, tz, all_day=item.all_day
            )
            out.append(self._agenda_option(item, when, kinds))
        if dash.week_total > len(dash.week_items):
            out.append(self._more("agenda:week", dash.week_total - len(dash.week_items)))
        out.extend(self._series_options())
        out.append(_header(_("This month's work")))
        if not dash.month_counts:
            out.append(
                Option(Text("   " + _("Nothing logged this month yet."), "dim"), disabled=True)
            )
        for code, n in sorted(dash.month_counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(Option(plain(f"   {kind_label(kinds, code)}  {n}"), id=f"kind:{code}"))
        return out

    def _obligation_options(self, dash: data.Dashboard) -> list[Option]:
        """The plugins' obligations (``collect_obligations``) under the overdue contacts:
        a row with a link opens it."""
        if not dash.overdue_loaded or not dash.obligations:
            return []
        out = [_header(_("Other obligations"), len(dash.obligations))]
        for n, o in enumerate(dash.obligations[: data.DASHBOARD_LINES]):
            late = o.level(dash.today) == "late"
            line = Text("   ")
            line.append(o.label, "bold")
            days = o.days_overdue(dash.today)
            if days:
                line.append("  " + _("{days} days overdue").format(days=days), "red")
            elif o.due_on is not None:
                when = _("due {day}").format(day=o.due_on.isoformat())
                line.append("  " + when, "red" if late else "yellow")
            if o.detail:
                line.append(f"  {shorten(o.detail, 30)}", "dim")
            out.append(Option(line, id=f"ob:{n}" if o.link is not None else None))
        more = len(dash.obligations) - data.DASHBOARD_LINES
        if more > 0:
            text = _("… {n} more").format(n=more) + "  (tongxin overdue)"
            out.append(Option(Text("   " + text, "italic dim"), disabled=True))
        return out

    def _series_options(self) -> list[Option]:
        if self.series is None:
            return []
        out = [_header(_("Next institutional events"))]
        if not self.series.items:
            out.append(
                Option(
                    Text("   " + _("None in the next {n} days.").format(n=SERIES_DAYS), "dim"),
                    disabled=True,
                )
            )
        for n, item in enumerate(self.series.items):
            day = item.start.date()
            line = Text("   ")
            line.append(f"{day:%m-%d} {weekday(day)} {series_time(item)}", "bold")
            line.append(f"  {SERIES_MARK} {item.title}")
            if item.lunar_text:
                line.append("  " + _("Lunar {date}").format(date=item.lunar_text), "dim")
            out.append(Option(line, id=f"series:{n}:{day.isoformat()}"))
        return out

    def _agenda_option(self, item: data.AgendaLine, when: str, kinds: dict[str, Any]) -> Option:
        line = Text("   ")
        line.append(when, "bold")
        line.append(f"  {kind_label(kinds, item.kind)}")
        if item.status.value != "planned":
            line.append(f" [{status_word(item.status)}]", "dim")
        line.append(f"  {shorten('、'.join(item.names), 24)}")
        if item.summary:
            line.append(f"  {shorten(item.summary, 30)}", "dim")
        return Option(line, id=f"int:{item.id}")

    @staticmethod
    def _more(target: str, n: int) -> Option:
        return Option(Text("   " + _("… {n} more").format(n=n), "italic"), id=f"more:{target}")

    def _show_cards(self, dash: data.Dashboard) -> None:
        box = self.query_one("#dash-cards", Vertical)
        box.remove_children()
        for card in dash.cards:
            body: Any = card.body if card.error is None else Text(card.error, "red")
            widget = Static(body, classes="card" + (" card-error" if card.error else ""))
            widget.border_title = card.title
            box.mount(widget)

    @on(OptionList.OptionSelected, "#dash-list")
    @guarded
    def _open(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id or ""
        what, _sep, rest = key.partition(":")
        app = self.app
        if what == "person":
            app.open_person(rest)
        elif what == "int":
            app.open_interaction(rest)
        elif what == "fu":
            app.open_follow_up(rest)
        elif what == "gap":
            app.goto("contacts", category=rest.split(":")[0])
        elif what == "kind":
            app.goto("agenda", view="month", kind=rest)
        elif what == "ob" and self.data is not None:  # a plugin's obligation: its link
            link = self.data.obligations[int(rest)].link
            if link is not None:
                open_target(app, link)
        elif what == "series":  # the agenda on that day
            app.goto("agenda", view="day", day=date.fromisoformat(rest.split(":")[1]))
        elif what == "more":
            if rest.startswith("agenda:"):
                app.goto("agenda", view=rest.split(":")[1])
            elif rest == "followups":
                app.goto("followups")
            elif rest == "overdue":
                app.goto("contacts")

    @on(Button.Pressed, "#load-demo")
    def _load_demo(self) -> None:
        self.query_one("#load-demo", Button).disabled = True
        self.query_one("#welcome-text", Static).update(_("Making demo data…"))
        self.app.load_demo(self)

    def action_log(self) -> None:
        """Log work done (the form asks who)."""
        self.app.open_form("log")

    def action_schedule(self) -> None:
        """Put work on the calendar."""
        self.app.open_form("schedule")
