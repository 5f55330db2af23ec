"""What happens when a plugin fails (docs/plugins.md, "When a plugin fails"), shown with a
real installed plugin (a distribution with a `tongxin.plugins` entry point on sys.path)
through the `tongxin` command line, one run after another on the same data folder.

The plugin crashes in the hooks named in ``TX_HOMES_CRASH``, so a test can break it for
one run and mend it for the next, as a county engineer would.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import textwrap
from pathlib import Path

import icalendar
import platformdirs
import pytest
from crm_cli.main import run
from sqlalchemy import func, select

from crm_core.app import Tongxin
from crm_core.models import FollowUp, Interaction
from crm_core.plugin_status import default_status_path
from crm_core.services import contacts

PLUGIN = "tx_homes"

SOURCE = '''
"""委员活动之家: a county plugin, as its engineer wrote it from the docs."""
import os

from pydantic import BaseModel

from crm_core import hookimpl
from crm_core.kinds import FollowUpDraft, KindSpec

__version__ = "0.3"


def _crash(hook):
    if hook in os.environ.get("TX_HOMES_CRASH", "").split(","):
        raise RuntimeError(f"{hook} 崩溃了")


_crash("import")


class HomeFields(BaseModel):
    home: str | None = None


@hookimpl
def register_kinds(register):
    register(KindSpec("home_activity", "委员活动之家活动", "Home activity", HomeFields))
    _crash("register_kinds")


@hookimpl
def validate_interaction(unit, interaction, kind):
    _crash("validate_interaction")


@hookimpl
def collect_follow_ups(unit, interaction, kind):
    _crash("collect_follow_ups")
    return [FollowUpDraft("回访委员之家")] if kind.code == "home_activity" else None


@hookimpl
def decorate_event(event):
    # Half done, then the crash: the core must give back the event as it was.
    event.pop("CATEGORIES", None)
    _crash("decorate_event")
    event.add("categories", ["委员之家"])
'''


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The plugin installed as a distribution (dist-info with an entry point)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / f"{PLUGIN}.py").write_text(textwrap.dedent(SOURCE), "utf-8")
    info = site / f"{PLUGIN}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 0.3\n", "utf-8"
    )
    (info / "entry_points.txt").write_text(f"[tongxin.plugins]\n{PLUGIN} = {PLUGIN}\n", "utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", PLUGIN)
    monkeypatch.setenv("TONGXIN_NOW", "2026-11-27T02:00:00+00:00")
    monkeypatch.delenv("TX_HOMES_CRASH", raising=False)
    return site


@pytest.fixture
def tx(db_url: str, capsys: pytest.CaptureFixture[str], installed: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """Run `tongxin --db URL ARGS...` with the plugin crashing in ``crash`` (a fresh
    program each time, as from a shell); return (exit code, stdout, stderr)."""

    def call(*args: str, crash: str = "") -> tuple[int, str, str]:
        monkeypatch.setenv("TX_HOMES_CRASH", crash)
        # A new process imports the plugin again (a crash at import needs it).
        sys.modules.pop(PLUGIN, None)
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _plugin(tx, crash: str = "") -> dict:  # type: ignore[no-untyped-def,type-arg]
    code, out, _ = tx("plugins", "--json", crash=crash)
    assert code == 0
    return next(p for p in json.loads(out) if p["name"] == PLUGIN)  # type: ignore[no-any-return]


def _count(app: Tongxin, model: type) -> int:
    with app.unit() as unit:
        return int(unit.session.scalar(select(func.count()).select_from(model)) or 0)


def _categories(ics: str, text: str) -> list[str]:
    """The categories of the one event of ``ics`` whose description holds ``text``."""
    events = [
        e
        for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")
        if text in str(e.get("DESCRIPTION", ""))
    ]
    assert len(events) == 1
    lines = events[0].get("CATEGORIES")
    lines = lines if isinstance(lines, list) else [lines]
    return [str(c) for line in lines if line is not None for c in line.cats]


@pytest.fixture
def zhang(app: Tongxin) -> None:
    with app.unit() as unit:
        contacts.create_person(unit, name="张三")


def test_a_crashing_validator_refuses_the_write_and_names_the_plugin(
    tx, zhang, app: Tongxin
) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("log", "call", "--with", "张三", crash="validate_interaction")
    assert code == 1
    assert "插件 tx_homes 的 validate_interaction 出错" in err
    assert "validate_interaction 崩溃了" in err and "什么也没有写入" in err
    assert "Traceback" not in err
    assert _count(app, Interaction) == 0  # fail closed: nothing saved
    code, _, err = tx("--lang", "en", "log", "call", "--with", "张三", crash="validate_interaction")
    assert code == 1
    assert "plugin tx_homes failed in validate_interaction" in err and "nothing was written" in err
    assert _count(app, Interaction) == 0

    # Kept across runs: the next run (which calls no hook) still shows it, with its time.
    listed = _plugin(tx)
    assert listed["status"] == "failing"
    assert listed["last_error"] == "validate_interaction: RuntimeError: validate_interaction 崩溃了"
    assert listed["last_error_at"] is not None and listed["last_error_at"].endswith("+00:00")
    assert _plugin(tx)["last_error"] == listed["last_error"]

    # Mended: the record is saved and, the hook having run cleanly, the error is cleared.
    code, out, err = tx("log", "call", "--with", "张三")
    assert code == 0 and err == "" and "张三" in out
    assert _count(app, Interaction) == 1
    listed = _plugin(tx)
    assert (listed["status"], listed["last_error"], listed["last_error_at"]) == ("ok", None, None)


def test_a_crashing_decorator_is_skipped_with_a_warning_and_the_event_kept_whole(
    tx, zhang, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    assert tx("log", "call", "--with", "张三", "--summary", "电话问候")[0] == 0
    with caplog.at_level(logging.WARNING, logger="tongxin.plugins"):
        code, out, err = tx("export", "ics", crash="decorate_event")
    assert code == 0
    assert "警告" in err and "插件 tx_homes 的 decorate_event 出错，已跳过" in err
    assert "decorate_event 崩溃了" in err
    assert any(r.name == "tongxin.plugins" and "tx_homes" in r.getMessage() for r in caplog.records)
    assert _categories(out, "电话问候") == ["电话联系"]  # the core's, not dropped

    listed = _plugin(tx)
    assert listed["status"] == "failing" and "decorate_event" in listed["last_error"]
    # A run that does not call the hook leaves the failure standing …
    assert tx("log", "call", "--with", "张三")[0] == 0
    assert "decorate_event" in _plugin(tx)["last_error"]
    # … a clean export clears it.
    code, out, err = tx("export", "ics")
    assert code == 0 and err == ""
    assert _categories(out, "电话问候") == ["委员之家"]
    assert _plugin(tx)["status"] == "ok"


def test_a_crashing_collector_is_skipped_and_the_record_saved(tx, zhang, app: Tongxin) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("log", "home_activity", "--with", "张三", crash="collect_follow_ups")
    assert code == 0
    assert "插件 tx_homes 的 collect_follow_ups 出错，已跳过" in err
    assert (_count(app, Interaction), _count(app, FollowUp)) == (1, 0)
    assert tx("log", "home_activity", "--with", "张三")[0] == 0
    assert _count(app, FollowUp) == 1
    assert _plugin(tx)["status"] == "ok"


def test_a_failed_registration_marks_the_plugin_failed_and_its_kind_names_it(
    tx, zhang, app: Tongxin
) -> None:  # type: ignore[no-untyped-def]
    code, _, err = tx("log", "home_activity", "--with", "张三", crash="register_kinds")
    assert code == 1
    assert "插件 tx_homes 的 register_kinds 出错，已标记为失败" in err
    assert "类型 home_activity 来自插件 tx_homes，该插件加载失败" in err
    assert "register_kinds 崩溃了" in err and "未知" not in err
    assert _count(app, Interaction) == 0
    listed = _plugin(tx, crash="register_kinds")
    assert listed["status"] == "error" and "register_kinds" in listed["last_error"]

    # Once it has loaded cleanly, its kinds are remembered: even a plugin that cannot be
    # imported at all is named by a record of one of its kinds.
    code, out, _ = tx("kinds", "--json")
    assert "home_activity" in [k["code"] for k in json.loads(out)]
    code, _, err = tx("--lang", "en", "log", "home_activity", "--with", "张三", crash="import")
    assert code == 1
    assert "plugin tx_homes failed to load and is skipped" in err
    assert "kind home_activity comes from the plugin tx_homes, which failed to load" in err
    assert "import 崩溃了" in err
    listed = _plugin(tx, crash="import")
    assert listed["status"] == "error" and "import 崩溃了" in listed["last_error"]
    # A record already saved of that kind names the missing plugin too.
    assert tx("log", "home_activity", "--with", "张三", "--summary", "之家活动")[0] == 0
    code, out, _ = tx("contacts", "show", "张三", crash="import")
    assert code == 0 and "home_activity（插件 tx_homes 加载失败）" in out
    assert _plugin(tx)["status"] == "ok"


def test_the_status_file_is_private_and_beside_the_data(tx, zhang) -> None:  # type: ignore[no-untyped-def]
    tx("log", "call", "--with", "张三", crash="validate_interaction")
    path = default_status_path()
    assert path.parent == Path(platformdirs.user_data_dir("tongxin"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    kept = json.loads(path.read_text("utf-8"))["plugins"][PLUGIN]
    assert kept["failures"][0]["hook"] == "validate_interaction"
    assert kept["kinds"] == ["home_activity"]
    path.write_text("{not json", "utf-8")  # damaged: ignored, never in the way
    code, out, _ = tx("plugins", "--json")
    assert code == 0 and PLUGIN in out
