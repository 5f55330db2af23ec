"""报表: every report the office has — built-in and registered by plugins — for a period,
on screen, and saved as Excel, Word or CSV.

The screen knows no report by name: it lists :func:`crm_core.reports.available_reports`,
runs one with :func:`crm_core.reports.run_report` and writes it with
:func:`crm_core.reports.output.write_report`, so a plugin's report appears here exactly
as the built-in ones do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from time import monotonic
from typing import Any, ClassVar, TypeVar

import platformdirs
from crm_tui.common import error_text, guarded, report
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen, FieldErrors
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, ProgressBar, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from crm_core import clock
from crm_core.errors import TongxinError, ValidationError
from crm_core.formatting import value_text
from crm_core.i18n import N_, _, language
from crm_core.private_files import make_private_dirs
from crm_core.reports import (
    Period,
    ReportSpec,
    ReportTable,
    Section,
    available_reports,
    run_report,
)
from crm_core.reports.output import FORMATS, write_report
from crm_core.timeparse import TimeParseError, parse_date
from crm_core.unit import Unit

NUMERIC = ("int", "float", "percent")
FORMAT_LABELS = {".xlsx": "Excel (.xlsx)", ".docx": "Word (.docx)", ".csv": "CSV (.csv)"}
# Between the two days of a from–to period: 至, 到, ~, –, —, "..", a comma, or a spaced
# hyphen ("2026-07-01 - 2026-09-30"; a bare hyphen belongs to the dates).
_RANGE_SPLIT = re.compile(r"\s*(?:至|到|~|～|–|—|\.\.|,|，)\s*|\s+-\s+|\s+")
_YEAR = re.compile(r"\s*(\d{4})\s*年?\s*")


class PeriodError(ValueError):
    """Typed text that is not a period; the message says what is accepted."""


def parse_period(text: str, *, today: date) -> Period:
    """Read a period as people type it: a year (``2026``, ``2026年``), a quarter
    (``2026Q3``, ``2026年第3季度``: :meth:`Period.parse_quarter`) or two days
    (``2026-07-01 至 2026-09-30``, ``7/1 - 9/30``: any form
    :func:`crm_core.timeparse.parse_date` reads)."""
    forms = _("write a year (2026), a quarter (2026Q3) or two days (2026-07-01 至 2026-09-30)")
    raw = text.strip()
    if not raw:
        raise PeriodError(_("empty: {forms}").format(forms=forms))
    m = _YEAR.fullmatch(raw)
    if m:
        year = int(m.group(1))
        if not 1900 <= year <= 2999:
            raise PeriodError(_("{year} is not a plausible year").format(year=year))
        return Period.year(year)
    if re.search(r"[Qq季]", raw):
        try:
            return Period.parse_quarter(raw)
        except ValidationError:
            raise PeriodError(
                _("cannot read {text!r} as a quarter: {forms}").format(text=raw, forms=forms)
            ) from None
    parts = [p for p in _RANGE_SPLIT.split(raw) if p]
    if len(parts) != 2:
        raise PeriodError(_("cannot read {text!r}: {forms}").format(text=raw, forms=forms))
    days: list[date] = []
    for part in parts:
        try:
            days.append(parse_date(part, today=today))
        except TimeParseError:
            raise PeriodError(
                _("cannot read {text!r} as a day: {forms}").format(text=part, forms=forms)
            ) from None
    if days[1] < days[0]:
        raise PeriodError(
            _("the last day {end} is before the first day {start}").format(
                end=days[1].isoformat(), start=days[0].isoformat()
            )
        )
    return Period(days[0], days[1])


def period_text(period: Period) -> str:
    """How the period field shows ``period``: the form :func:`parse_period` reads back."""
    s, e = period.start, period.end
    if period == Period.year(s.year):
        return str(s.year)
    if s.day == 1 and s.month in (1, 4, 7, 10):
        q = (s.month + 2) // 3
        if period == Period.quarter(s.year, q):
            return f"{s.year}Q{q}"
    return f"{s.isoformat()} 至 {e.isoformat()}"


def documents_dir() -> Path:
    """Where reports are saved unless the user types another folder: the user's
    documents folder (platformdirs), under 同心报表."""
    return Path(platformdirs.user_documents_dir()) / "同心报表"


def default_path(spec: ReportSpec, period: Period, suffix: str = ".xlsx") -> Path:
    """The file a report is saved to by default: its title and period in
    :func:`documents_dir`."""
    lang = language()
    name = f"{spec.title(lang)}_{period.label(lang)}"
    name = re.sub(r"[\\/:*?\"<>|\s]+", "_", name).strip("_")
    return documents_dir() / f"{name}{suffix}"


def shown_path(path: Path) -> str:
    """``path`` as the path field shows it: ``~/…`` under the home folder (shorter)."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def cell(row: dict[str, Any], column: Any, lang: str) -> str:
    """One cell as the screen shows it: the English form of a label (``group_en``) in
    English when the report gives one, else the value as Word and CSV print it."""
    value = row.get(column.key)
    if lang == "en" and f"{column.key}_en" in row:
        value = row[f"{column.key}_en"]
    return value_text(value, column.kind)


def section_table(section: Section, lang: str) -> Table:
    """A report's table as a rich Table (numbers right-aligned, long lists wrapped)."""
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    for c in section.columns:
        numeric = c.kind in NUMERIC
        table.add_column(
            c.title(lang),
            justify="right" if numeric else "left",
            no_wrap=numeric,
            ratio=2 if c.kind == "list" else None,
            overflow="fold",
        )
    for row in section.rows:
        table.add_row(*(cell(row, c, lang) for c in section.columns))
    return table


T = TypeVar("T")


@dataclass
class Job:
    """The report or save running now (at most one: a new one cancels the last)."""

    doing: str = ""
    started: float = 0.0
    running: bool = True
    cancelled: bool = False
    worker: Worker[None] | None = None
    timer: Timer | None = None

    def __post_init__(self) -> None:
        self.running = bool(self.doing)

    def cancel(self) -> None:
        """Drop the result when it comes; the worker is told too."""
        if self.running:
            self.cancelled = True
            if self.worker is not None:
                self.worker.cancel()


@dataclass
class Shown:
    """The report on screen: which, for what period, and its result."""

    spec: ReportSpec
    period: Period
    result: ReportTable


class ReportsScreen(FieldErrors, BaseScreen):
    """Choose a report and a period, see its tables, save it to a file."""

    main_name = "reports"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", N_("Run report"), id="reports.run"),
        Binding("ctrl+s", "save", N_("Save"), id="reports.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="reports.cancel"),
    ]

    def __init__(self, report: str | None = None, period: str | None = None) -> None:
        super().__init__()
        self.reports: dict[str, ReportSpec] = {}
        self.wanted_report = report
        self.wanted_period = period
        self.shown: Shown | None = None
        self.saved: Path | None = None  # the last file written
        self._default_path = ""  # the path field's content while the user has not typed one
        self.job = Job()

    # -- building ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(_("Reports"), classes="screen-title")
        with Horizontal(id="report-top"):
            yield OptionList(id="report-list")
            with Vertical(id="report-form"):
                with Horizontal(classes="form-row"):
                    yield Label(_("Period"), classes="form-label")
                    yield Input(
                        placeholder=_("2026, 2026Q3 or 2026-07-01 至 2026-09-30"),
                        id="period",
                        compact=True,
                    )
                yield Static("", id="error-period", classes="error")
                with Horizontal(classes="form-row"):
                    yield Label(_("Save to"), classes="form-label")
                    yield Input(id="path", compact=True)
                yield Static("", id="error-path", classes="error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button(_("Run"), id="run", variant="primary", compact=True)
                    yield Button(_("Save"), id="save", compact=True)
                    yield Button(_("Cancel"), id="cancel", variant="error", compact=True)
                    yield Select(
                        [(label, suffix) for suffix, label in FORMAT_LABELS.items()],
                        value=".xlsx",
                        allow_blank=False,
                        id="format",
                        compact=True,
                    )
        yield Static(
            Text(_("Choose a report and a period, then press Enter."), "dim"),
            id="report-heading",
            classes="status-line",
        )
        yield ProgressBar(total=None, show_eta=False, id="report-progress")
        yield VerticalScroll(id="report-result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#report-progress").display = False
        self.query_one("#cancel").display = False
        lang = language()
        self.reports = available_reports(self.app.core)
        options = self.query_one("#report-list", OptionList)
        for spec in self.reports.values():
            prompt = Text(spec.title(lang))
            if spec.plugin:
                prompt.append("  · " + _("from a plugin"), "dim")
            options.add_option(Option(prompt, id=spec.code))
        options.border_title = _("Report")
        codes = list(self.reports)
        if codes:
            first = self.wanted_report if self.wanted_report in self.reports else codes[0]
            options.highlighted = codes.index(first)
        today = clock.today(self.app.core.config.tz)
        period = self.wanted_period or period_text(
            Period.quarter(today.year, (today.month + 2) // 3)
        )
        self.query_one("#period", Input).value = period
        self._refresh_default_path()
        options.focus()
        if self.wanted_report in self.reports:
            self.action_run()

    # -- reading the form ------------------------------------------------------------

    def spec(self) -> ReportSpec | None:
        """The report highlighted in the list."""
        options = self.query_one("#report-list", OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        return self.reports.get(str(option.id))

    def period(self) -> Period | None:
        """The period typed, or None after showing why it cannot be read."""
        text = self.query_one("#period", Input).value
        try:
            return parse_period(text, today=clock.today(self.app.core.config.tz))
        except PeriodError as exc:
            self.show_errors([("period", str(exc))])
            return None

    def error_label(self, target: str) -> str:
        """Errors are named by their field: 统计期间 or 保存到."""
        return {"period": _("Period"), "path": _("Save to")}.get(target, "")

    def _refresh_default_path(self) -> None:
        """Put the default file name in the path field, unless the user typed one."""
        path_input = self.query_one("#path", Input)
        if path_input.value and path_input.value != self._default_path:
            return
        spec = self.spec()
        try:
            period = parse_period(
                self.query_one("#period", Input).value,
                today=clock.today(self.app.core.config.tz),
            )
        except PeriodError:
            return
        if spec is None:
            return
        suffix = str(self.query_one("#format", Select).value)
        self._default_path = shown_path(default_path(spec, period, suffix))
        path_input.value = self._default_path

    def target_path(self) -> Path | None:
        """The file to save to (a relative name goes in :func:`documents_dir`), or None
        after showing what is wrong with the path field."""
        text = self.query_one("#path", Input).value.strip()
        if not text:
            self.show_errors([("path", _("type a file name ending in .xlsx"))])
            return None
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = documents_dir() / path
        if path.suffix.lower() not in FORMATS:
            self.show_errors(
                [
                    (
                        "path",
                        _("{name}: end the file name with .xlsx, .docx or .csv").format(
                            name=path.name
                        ),
                    )
                ]
            )
            return None
        if path.is_dir():
            self.show_errors([("path", _("{path} is a folder").format(path=path))])
            return None
        return path

    # -- events --------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#report-list")
    def _report_highlighted(self) -> None:
        self._refresh_default_path()

    @on(OptionList.OptionSelected, "#report-list")
    def _report_selected(self) -> None:
        self.action_run()

    @on(Input.Changed, "#period")
    def _period_changed(self) -> None:
        self._refresh_default_path()

    @on(Input.Submitted, "#period")
    def _period_submitted(self) -> None:
        self.action_run()

    @on(Input.Submitted, "#path")
    def _path_submitted(self) -> None:
        self.action_save()

    @on(Select.Changed, "#format")
    def _format_changed(self, event: Select.Changed) -> None:
        path_input = self.query_one("#path", Input)
        text = path_input.value.strip()
        if not text:
            self._refresh_default_path()
            return
        new = str(Path(text).with_suffix(str(event.value)))
        if path_input.value == self._default_path:
            self._default_path = new
        path_input.value = new

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # -- actions -------------------------------------------------------------------

    @guarded
    def action_run(self) -> None:
        """Run the highlighted report for the period typed and show its tables."""
        self.clear_errors()
        spec, period = self.spec(), self.period()
        if spec is None or period is None:
            return
        heading = self.query_one("#report-heading", Static)
        title = spec.title(language())

        def build(unit: Unit) -> Shown | Exception:
            try:
                found, result = run_report(unit, spec.code, period)
            except Exception as exc:  # a plugin's report may fail: say so, keep going
                return exc
            return Shown(found, period, result)

        def done(outcome: Shown | Exception) -> None:
            if isinstance(outcome, Shown):
                self.show(outcome)
                return
            report(self.app, outcome)
            heading.update(Text(_("{title}: failed (see the message)").format(title=title)))

        self._start(_("Running {title} …").format(title=title), build, done, "report")

    # -- long work: in a worker, with progress, cancellable ---------------------------

    def _start(
        self,
        doing: str,
        work: Callable[[Unit], T],
        then: Callable[[T], None],
        group: str,
        *,
        job: Job | None = None,
    ) -> None:
        """Run ``work`` in a thread while the screen shows ``doing``, the time it has
        taken and a moving bar; Esc cancels. Keys keep working meanwhile; a result that
        comes after a cancel (or after newer work was started) is dropped."""
        self.job.cancel()
        job = self.job = job or Job(doing=doing, started=monotonic())

        def finished(result: T) -> None:
            if job.cancelled or job is not self.job:
                return
            self._stop(job)
            then(result)

        job.worker = self.load_in_thread(work, finished, group=group)
        job.timer = self.set_interval(1, self._tick)
        self.query_one("#report-progress").display = True
        self.query_one("#cancel").display = True
        self._tick()
        self.refresh_bindings()

    def _tick(self) -> None:
        job = self.job
        if not job.running:
            return
        seconds = int(monotonic() - job.started)
        self.query_one("#report-heading", Static).update(
            Text(job.doing + "  " + _("{seconds} s (Esc: cancel)").format(seconds=seconds))
        )

    def _stop(self, job: Job) -> None:
        job.running = False
        if job.timer is not None:
            job.timer.stop()
        self.query_one("#report-progress").display = False
        self.query_one("#cancel").display = False
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc (cancel) is offered only while a report or a save runs."""
        if action == "cancel":
            return self.job.running
        return True

    def action_cancel(self) -> None:
        """Stop waiting for the report or the save that runs now (Esc or 取消): its
        result is dropped (the database finishes the read it started, in the
        background) and a save writes no file, not even part of one."""
        job = self.job
        if not job.running:
            return
        job.cancel()
        self._stop(job)
        self.query_one("#report-heading", Static).update(
            Text(_("Cancelled: {doing}").format(doing=job.doing.rstrip(" …")), "yellow")
        )

    def show(self, shown: Shown) -> None:
        """Show a report's result: a bordered table per section, its note under it."""
        self.shown = shown
        lang = language()
        self.query_one("#report-heading", Static).update(
            Text.assemble((shown.spec.title(lang), "bold"), "  ", shown.period.label(lang))
        )
        box = self.query_one("#report-result", VerticalScroll)
        box.remove_children()
        widgets: list[Static] = []
        for section in shown.result.sections:
            content: Any = (
                section_table(section, lang) if section.rows else Text(_("(none)"), "dim")
            )
            widget = Static(content, classes="section report-section", id=f"sec-{section.key}")
            widget.border_title = f"{section.title(lang)} ({len(section.rows)})"
            widgets.append(widget)
            if section.note(lang):
                widgets.append(Static(Text(section.note(lang), "dim"), classes="report-note"))
        box.mount_all(widgets)
        box.scroll_home(animate=False)

    @guarded
    def action_save(self) -> None:
        """Save the report (run again for the period typed) to the file in "Save to"."""
        self.clear_errors()
        spec, period = self.spec(), self.period()
        path = self.target_path()
        if spec is None or period is None or path is None:
            return
        lang = language()
        shown = self.shown
        reuse = shown is not None and shown.spec.code == spec.code and shown.period == period
        job = Job(doing=_("Saving {name} …").format(name=path.name), started=monotonic())

        def save(unit: Unit) -> tuple[Shown, Path | TongxinError | OSError]:
            if reuse and shown is not None:
                done = shown
            else:
                found, result = run_report(unit, spec.code, period)
                done = Shown(found, period, result)
            if job.cancelled:  # cancelled while it ran: no file at all
                return done, path
            # Written beside the target under a hidden name and moved there whole only
            # if the save was not cancelled meanwhile: never a half-written file.
            partial = path.with_name(f".{path.stem}.partial{path.suffix}")
            try:
                make_private_dirs(path.parent)
                write_report(done.spec, period, done.result, partial, lang=lang)
                if not job.cancelled:
                    os.replace(partial, path)
            except (TongxinError, OSError) as exc:  # shown under the field, not as a crash
                return done, exc
            finally:
                partial.unlink(missing_ok=True)
            return done, path

        def saved(outcome: tuple[Shown, Path | TongxinError | OSError]) -> None:
            done, written = outcome
            if not reuse:
                self.show(done)
            if isinstance(written, Path):
                self.saved = written
                self.app.notify(_("Saved {path}").format(path=written), timeout=6)
            elif isinstance(written, OSError):
                self.show_errors(
                    [
                        (
                            "path",
                            _("cannot write {path}: {reason}").format(
                                path=path, reason=written.strerror or written
                            ),
                        )
                    ]
                )
            else:
                self.show_errors([("path", error_text(written))])

        self._start(job.doing, save, saved, "report-save", job=job)
