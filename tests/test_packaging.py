"""Packaging: optional parts stay optional, and a feature without its part names it."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crm_core.extras import EXIT_MISSING_EXTRA

OPTIONAL = {"caldav": "caldav", "apprise": "notify", "textual-serve": "web", "psycopg": "postgres"}


def _blocking(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment whose Python cannot import ``modules`` (as if not installed)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            for name in {list(modules)!r}:
                sys.modules[name] = None  # import raises ImportError
            """
        )
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim), env.get("PYTHONPATH", "")])
    env["TONGXIN_LANG"] = "en"
    return env


def _tongxin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_requires_keeps_heavy_parts_in_extras() -> None:
    requires = importlib.metadata.requires("tongxin") or []
    for package, extra in OPTIONAL.items():
        lines = [r for r in requires if r.lower().startswith(package)]
        assert lines, f"{package} is declared nowhere"
        for line in lines:
            assert "extra ==" in line, f"{package} is a hard dependency: {line}"
        assert any(f'extra == "{extra}"' in line for line in lines), (package, lines)


def test_web_without_its_extra_names_it(tmp_path: Path) -> None:
    env = _blocking(tmp_path, "textual_serve", "textual_serve.server")
    result = _tongxin(env, "--db", str(tmp_path / "t.db"), "web")
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert "pip install 'tongxin[web]'" in result.stderr


def test_postgresql_url_without_psycopg_names_it(tmp_path: Path) -> None:
    env = _blocking(tmp_path, "psycopg")
    result = _tongxin(env, "--db", "postgresql://nobody@127.0.0.1:1/none", "db", "upgrade")
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert "tongxin[postgres]" in result.stderr


def test_require_names_the_extra_in_chinese() -> None:
    from crm_core.extras import MissingExtra, require
    from crm_core.i18n import N_, set_language

    sys.modules["tongxin_no_such_part"] = None  # type: ignore[assignment]  # blocks it
    try:
        with pytest.raises(MissingExtra) as caught:
            require("tongxin_no_such_part", extra="caldav", feature=N_("CalDAV sync"))
    finally:
        del sys.modules["tongxin_no_such_part"]
    assert caught.value.extra == "caldav"
    assert "tongxin[caldav]" in str(caught.value)
    set_language("zh")
    try:
        assert "tongxin[caldav]" in caught.value.text
    finally:
        set_language("en")


def test_caldav_sync_without_its_extra_names_it(tmp_path: Path) -> None:
    env = _blocking(tmp_path, "caldav")
    db = str(tmp_path / "t.db")
    assert _tongxin(env, "--db", db, "db", "upgrade").returncode == 0
    result = _tongxin(
        env, "--db", db, "sync", "caldav", "--url", "http://127.0.0.1:1/", "--user", "x"
    )
    assert result.returncode == EXIT_MISSING_EXTRA, result.stderr
    assert "pip install 'tongxin[caldav]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_notifications_without_their_extra_are_a_failed_delivery_naming_it(
    tmp_path: Path,
) -> None:
    """A reminder to an apprise URL with apprise missing fails as a delivery (the service
    logs it and the other channels still deliver), and the failure names the extra."""
    script = textwrap.dedent(
        """
        from crm_core.reminders.channels import DeliveryFailed, Message, send_apprise
        try:
            message = Message(key="k", username="wangzx", display_name="王", title="t", body="b")
            send_apprise(message, ("json://127.0.0.1:1/notify",))
        except DeliveryFailed as exc:
            print(exc)
        else:
            print("delivered?")
        """
    )
    env = _blocking(tmp_path, "apprise")
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'tongxin[notify]'" in result.stdout


def test_every_package_folder_is_in_the_wheel() -> None:
    # setuptools installs only the packages pyproject.toml lists: a new folder left out
    # works in an editable checkout and fails on every real install (crm_core.exchange
    # once did, in CI's non-editable install).
    import tomllib

    root = Path(__file__).resolve().parents[1]
    setup = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = set()
    for name, folder in setup["package-dir"].items():
        for init in (root / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(root / folder).parts
            found.add(".".join((name, *parts)))
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - found == set(), "listed but not in the tree"
