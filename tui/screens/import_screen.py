"""导入名单 (Ctrl+O): a roster imported from the terminal UI, as `tongxin import` does it.

Pick the file (the folder tree or a typed path), see its first rows as they will be read
(a dry run), answer each value the config does not know (add it as a new entry, read it
as one or more existing entries, or leave its rows out), import, and read the result and
where the refused rows were written. The work is crm_core.importer's, the same the CLI
runs; the answers are saved in the office's config file there.
"""

from __future__ import annotations

import re
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

from crm_tui.common import displayable, guarded, plain, report
from crm_tui.screens.base import BaseScreen, FieldErrors
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DirectoryTree, Footer, Input, ProgressBar, Select, Static

from crm_core import importer
from crm_core.errors import TongxinError
from crm_core.i18n import N_, _
from crm_core.roster.unknowns import VOCAB_FIELDS
from crm_core.unit import Unit

SHOWN = ("name", "gender", "birth", "party", "sector", "region", "committees", "mobile")
_VOCAB = {"party": "parties", "sector": "sectors", "region": "regions", "committees": "committees"}


class ImportCancelled(Exception):
    """Raised in the import's worker at its next progress step once it was cancelled:
    it leaves the unit of work, which is rolled back whole."""


def errors_path(roster: Path) -> Path:
    """Where the refused rows of ``roster`` are written: beside it, ``NAME-errors.xlsx``."""
    return roster.with_name(_("{stem}-errors").format(stem=roster.stem) + ".xlsx")


class ImportScreen(FieldErrors, BaseScreen):
    """Import a roster: file, preview, the unknown values' answers, the result."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", N_("Import"), id="import.run"),
        # Esc cancels an import that runs (as 取消 does), else goes back.
        Binding("escape", "back", N_("Back"), id="import.back"),
    ]

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder or Path.home()
        self.report: importer.ImportReport | None = None
        self.unknown: list[importer.UnknownValue] = []
        self.cancel_asked: threading.Event | None = None  # set: the running import stops

    def compose(self) -> ComposeResult:
        yield Static(_("Import a roster"), classes="screen-title")
        with Horizontal():
            yield DirectoryTree(self.folder, id="import-tree")
            with Vertical():
                yield Input(
                    placeholder=_("The roster: .xlsx, .xls, .ods or .csv"), id="import-path"
                )
                yield Static("", id="error-path", classes="error")
                yield Static("", id="error-general", classes="error")
                with Horizontal(id="import-buttons"):
                    yield Button(_("Preview"), id="import-preview-button")
                    yield Button(_("Import"), id="import-run", variant="primary")
                    yield Button(_("Cancel"), id="import-cancel", variant="error")
                yield ProgressBar(total=None, show_eta=False, id="import-progress")
                yield Static("", id="import-doing", classes="status-line")
                with VerticalScroll(id="import-body"):
                    yield Static("", id="import-preview")
                    yield Vertical(id="import-unknowns")
                    yield Static("", id="import-result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_running(False)

    # -- the file ------------------------------------------------------------------

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#import-path", Input).value = str(event.path)
        self.action_preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "import-path":
            self.action_preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-preview-button":
            self.action_preview()
        elif event.button.id == "import-run":
            self.action_run()
        elif event.button.id == "import-cancel":
            self.action_cancel()

    def path(self) -> Path | None:
        """The file typed or picked, or None (said under the field)."""
        text = self.query_one("#import-path", Input).value.strip()
        path = Path(text).expanduser() if text else None
        if path is None or not path.is_file():
            self.show_errors([("path", _("choose a roster file (.xlsx, .xls, .ods or .csv)"))])
            return None
        return path

    # -- the preview (a dry run) ---------------------------------------------------------

    @guarded
    def action_preview(self) -> None:
        """Read the file as the import would, writing nothing."""
        self.clear_errors()
        path = self.path()
        if path is None:
            return

        def read(unit: Unit) -> importer.ImportReport | TongxinError:
            try:
                return importer.import_roster(unit, path, dry_run=True)
            except TongxinError as exc:  # said on the screen, not as a crash
                return exc

        self.load_in_thread(read, self.show_preview, group="import-preview")

    def show_preview(self, report: importer.ImportReport | TongxinError) -> None:
        """Show the first rows as read and a question per unknown value."""
        if isinstance(report, TongxinError):
            self.show_errors([("path", report.text)])
            return
        self.report = report
        table = Table(box=None, padding=(0, 1), expand=True)
        table.add_column(_("Row"), justify="right", no_wrap=True)
        for f in SHOWN:
            table.add_column(_(importer.FIELDS.get(f, f)), no_wrap=f != "committees")
        for row, values in report.preview:
            table.add_row(str(row), *(self._shown(f, values.get(f)) for f in SHOWN))
        preview = self.query_one("#import-preview", Static)
        preview.update(table)
        preview.border_title = _("First rows as they will be read")
        self.unknown = list(report.unknown_values)
        box = self.query_one("#import-unknowns", Vertical)
        box.remove_children()
        widgets: list[Any] = []
        if self.unknown:
            widgets.append(Static(_("Values not in the config") + ":", classes="section-title"))
        for i, uv in enumerate(self.unknown):
            line = _("{column} {value!r}, {rows} rows").format(
                column=uv.column, value=uv.value, rows=uv.rows
            )
            if uv.choice is not None and uv.choice.origin == "saved":
                saved = "、".join(self._label(uv.field, c) for c in uv.choice.codes) or _(
                    "its rows are left out"
                )
                shown = _("{value}: {answer} (saved answer)").format(value=line, answer=saved)
                widgets.append(Static(plain(shown)))
                continue
            widgets.append(
                Horizontal(
                    Static(plain(line), classes="import-value"),
                    Select(self._options(uv), prompt=_("Not answered"), id=f"choice-{i}"),
                    Input(placeholder=_("or codes, separated by commas"), id=f"codes-{i}"),
                    classes="import-question",
                )
            )
        box.mount_all(widgets)
        self.query_one("#import-result", Static).update(
            Text(
                _("Dry run: {totals}").format(totals=self._totals(report))
                + "\n"
                + _("Answer the values above, then Import (Ctrl+R)."),
                "dim",
            )
        )

    def _options(self, uv: importer.UnknownValue) -> list[tuple[str, str]]:
        options = [(_("Add as a new entry"), "add"), (_("Leave its rows out"), "leave_out")]
        for t in uv.suggestions:
            options.append((_("Read as {label}").format(label=t.zh), f"map:{t.code}"))
        if len(uv.suggestions) >= 2 and uv.field not in ("party", "sector", "region"):
            a, b = uv.suggestions[:2]
            options.append(
                (_("Read as {a} and {b}").format(a=a.zh, b=b.zh), f"map:{a.code},{b.code}")
            )
        return options

    def _label(self, f: str, code: Any) -> str:
        vocab = self.app.core.config.vocab.get(VOCAB_FIELDS.get(f, _VOCAB.get(f, "")))
        term = vocab.get(str(code)) if vocab is not None else None
        return term.zh if term is not None else str(code)

    def _shown(self, f: str, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, tuple | list):
            return "、".join(self._label(f, v) for v in value)
        return self._label(f, value) if f in _VOCAB else str(value)

    @staticmethod
    def _totals(report: importer.ImportReport) -> str:
        actions = {
            "create": _("created"),
            "update": _("updated"),
            "unchanged": _("unchanged"),
            "duplicate": _("repeated in the file"),
            "skip": _("skipped"),
            "refuse": _("refused"),
            "left_out": _("left out by choice"),
            "pending": _("waiting for an answer"),
        }
        return "；".join(f"{actions[a]} {n}" for a, n in report.totals.items() if n)

    # -- the import ----------------------------------------------------------------------

    def choices(self) -> dict[tuple[str, str], importer.Choice]:
        """The answers given on the screen, by unknown value."""
        out: dict[tuple[str, str], importer.Choice] = {}
        for i, uv in enumerate(self.unknown):
            if not self.query(f"#choice-{i}"):
                continue
            typed = self.query_one(f"#codes-{i}", Input).value
            codes = tuple(c for c in re.split(r"[,，、\s]+", typed) if c)
            value = self.query_one(f"#choice-{i}", Select).value
            if codes:
                out[uv.key] = importer.Choice("map", codes, "asked")
            elif isinstance(value, str) and value.startswith("map:"):
                out[uv.key] = importer.Choice("map", tuple(value[4:].split(",")), "asked")
            elif value in ("add", "leave_out"):
                out[uv.key] = importer.Choice(value, (), "asked")
        return out

    @property
    def running(self) -> bool:
        """An import runs now (in its worker)."""
        return self.cancel_asked is not None

    def _show_running(self, on: bool) -> None:
        self.query_one("#import-progress").display = on
        self.query_one("#import-cancel").display = on
        self.query_one("#import-doing").display = on
        self.query_one("#import-run", Button).disabled = on
        self.query_one("#import-preview-button", Button).disabled = on

    def action_back(self) -> None:
        """Esc: cancel the import that runs, or leave the screen."""
        if self.running:
            self.action_cancel()
        else:
            self.app.pop_screen()

    def action_cancel(self) -> None:
        """Stop the running import at its next step: its unit of work is rolled back,
        so nobody of the file is written."""
        if self.cancel_asked is not None:
            self.cancel_asked.set()
            self.query_one("#import-doing", Static).update(Text(_("Cancelling…"), "yellow"))

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if self.cancel_asked is None or self.cancel_asked.is_set():
            return
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=done)
        doing = _("Reading rows") if stage == "read" else _("Writing people")
        self.query_one("#import-doing", Static).update(
            Text(f"{doing}: {done} / {total}  " + _("(Esc: cancel)"), "dim")
        )

    @guarded
    def action_run(self) -> None:
        """Import the file with the answers given, in a worker with its progress shown;
        Esc or 取消 cancels it (rolled back whole). The refused rows are written beside
        the file."""
        if self.running:
            return
        self.clear_errors()
        path = self.path()
        if path is None:
            return
        chosen = self.choices()
        policy = importer.UnknownPolicy(ask=lambda uv: chosen.get(uv.key))
        target = errors_path(path)
        asked = self.cancel_asked = threading.Event()
        app = self.app

        def progress(stage: str, done: int, total: int) -> None:
            if asked.is_set():
                raise ImportCancelled
            with suppress(RuntimeError):  # the app is gone
                app.call_from_thread(self._progressed, stage, done, total)
            if asked.is_set():
                raise ImportCancelled

        def run(unit: Unit) -> tuple[importer.ImportReport, Path | str | None] | TongxinError:
            try:
                done = importer.import_roster(unit, path, unknowns=policy, progress=progress)
            except TongxinError as exc:
                return exc
            written: Path | str | None = None
            if done.raw_rows:
                try:
                    written = importer.write_errors(done, target)
                except OSError as exc:
                    written = _("cannot write {path}: {reason}").format(
                        path=target, reason=exc.strerror or exc
                    )
            return done, written

        def job() -> None:
            # ImportCancelled leaves core.run's unit of work: the import is rolled back.
            try:
                outcome: Any = displayable(app.core.run(run, actor=app.actor))
            except ImportCancelled:
                outcome = None
            except Exception as exc:
                with suppress(RuntimeError):
                    app.call_from_thread(report, app, exc)
                outcome = False
            with suppress(RuntimeError):
                app.call_from_thread(self._finished, asked, outcome)

        self._show_running(True)
        self.query_one("#import-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#import-doing", Static).update(
            Text(_("Importing {name} …").format(name=path.name) + "  " + _("(Esc: cancel)"))
        )
        self.run_worker(job, thread=True, group="import-run", exit_on_error=False)

    def _finished(self, asked: threading.Event, outcome: Any) -> None:
        if self.cancel_asked is asked:
            self.cancel_asked = None
            self._show_running(False)
        if outcome is None:  # cancelled
            result = self.query_one("#import-result", Static)
            result.update(Text(_("Import cancelled: nothing was written."), "yellow"))
            result.border_title = _("Result")
            self.app.notify(_("Import cancelled: nothing was written."), timeout=6)
        elif outcome is not False:
            self.show_result(outcome)

    def show_result(
        self, outcome: tuple[importer.ImportReport, Path | str | None] | TongxinError
    ) -> None:
        """The totals, the refused rows, the config file written and the errors file."""
        if isinstance(outcome, TongxinError):
            self.show_errors([("general", outcome.text)])
            return
        report, written = outcome
        lines = [_("Imported: {totals}").format(totals=self._totals(report))]
        for e in report.errors[:20]:
            lines.append(
                _("row {row}, {column} {value!r}: {reason}").format(
                    row=e.row, column=e.column, value=e.value, reason=e.reason
                )
            )
        waiting = [uv for uv in report.unknown_values if uv.choice is None]
        for uv in waiting:
            lines.append(
                _("{column} {value!r}: not answered, its {rows} rows were not imported").format(
                    column=uv.column, value=uv.value, rows=uv.rows
                )
            )
        if report.config_written:
            saved = _("The answers were saved in {path}: the next import asks no more.")
            lines.append(saved.format(path=report.config_written))
        if isinstance(written, Path):
            lines.append(
                _("The refused rows are in {path}: correct them there and import that file.")
                .format(path=written)
            )  # fmt: skip
        elif written:
            lines.append(written)
        result = self.query_one("#import-result", Static)
        result.update(plain("\n".join(lines)))
        result.border_title = _("Result")
        self.query_one("#import-unknowns", Vertical).remove_children()
        self.unknown = []
        self.app.notify(lines[0], timeout=6)
