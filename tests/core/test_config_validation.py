"""The one config loader: a key tongxin does not know, or a value of the wrong type, is
refused with a message naming the file, the key and the value; the office's file merges
into the shipped defaults by one rule; the plugins' own tables pass through; every
sample config of the repository loads."""

from __future__ import annotations

import re
import textwrap
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from crm_cli.main import run

from crm_core.config import ConfigError, Layer, load_config, validate
from crm_core.config_models import ConfigFile
from crm_core.i18n import set_language

ROOT = Path(__file__).resolve().parents[2]


def _refused(tmp_path: Path, content: str, name: str = "office.toml") -> str:
    cfg = tmp_path / name
    cfg.write_text(content, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    return str(info.value)


def test_an_unknown_key_in_a_section_names_file_key_and_the_near_one(tmp_path: Path) -> None:
    message = _refused(tmp_path, '[settings]\noffice_timzone = "Asia/Urumqi"\n', "tongxin.toml")
    assert message == (
        f"{tmp_path / 'tongxin.toml'}: [settings] office_timzone: unknown key "
        "(did you mean office_timezone?)"
    )


def test_an_unknown_table_at_the_top_level_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, '[settngs]\nlanguage = "en"\n')
    assert message.endswith("office.toml: [settngs]: unknown key (did you mean settings?)")
    message = _refused(tmp_path, "colour = 3\n")
    assert "office.toml: colour: unknown key (the keys here: settings, plugins, " in message
    assert "did you mean" not in message  # nothing near: no guess, the keys instead


def test_an_unknown_key_inside_an_array_of_tables_entry_names_the_entry(tmp_path: Path) -> None:
    message = _refused(tmp_path, '[[series]]\ncode = "theory_study_monthly"\nlocaton = "三楼"\n')
    assert message.endswith(
        'office.toml: [[series]] code="theory_study_monthly" locaton: unknown key '
        "(did you mean location?)"
    )
    message = _refused(tmp_path, '[[regions]]\ncode = "baoying"\nideal_days = 30\n')
    assert message.endswith(
        'office.toml: [[regions]] code="baoying" ideal_days: unknown key '
        "(the keys here: code, zh, en, enabled, aliases)"
    )


def test_an_unknown_key_in_a_nested_table_and_under_plugins(tmp_path: Path) -> None:
    message = _refused(tmp_path, "[reminders.kindz]\nvisit = [60]\n")
    assert message.endswith("office.toml: [reminders.kindz]: unknown key (did you mean kinds?)")
    message = _refused(tmp_path, '[plugins]\ndisbled = ["union_liaison"]\n')
    assert message.endswith("office.toml: [plugins] disbled: unknown key (did you mean disabled?)")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '[settings]\nfollow_up_days = "30"\n',
            "[settings] follow_up_days = '30': not a whole number",
        ),
        ("[settings]\nlanguage = 1\n", "[settings] language = 1: must be one of 'zh' or 'en'"),
        ("[import]\nmax_rows = 0\n", "[import] max_rows = 0: must be at least 1"),
        (
            '[reminders.kinds]\ncall = [5, "ten"]\n',
            "[reminders.kinds] call[2] = 'ten': not a whole number",
        ),
        (
            '[reminders]\nchannels = ["log", "sms"]\n',
            "[reminders] channels[2] = 'sms': must be one of 'log', 'email' or 'apprise'",
        ),
        (
            '[reminders]\ndigest_time = "8 点"\n',
            "[reminders] digest_time = '8 点': not a time of day as HH:MM, e.g. 08:00",
        ),
        ('[smtp]\nstarttls = "yes"\n', "[smtp] starttls = 'yes': not true or false"),
        ("[notify.urls]\nwangzx = 3\n", "[notify.urls] wangzx = 3: not an address or a list"),
        ("[feed]\npublic_url = 8808\n", "[feed] public_url = 8808: not a text"),
        ("feed = 1\n", "feed = 1: not a table"),
        (
            '[[series]]\ncode = "new"\nrrule = "FREQ=YEARLY"\nstart = 2026\n',
            '[[series]] code="new" start = 2026: not a date (2026-06-08) or a local time',
        ),
        ('[[categories]]\ncode = "private_economy"\nmax_days = "60"\n', "max_days = '60'"),
        ('[settings]\ntimezone = "Mars/Olympus"\n', "timezone = 'Mars/Olympus': unknown time zone"),
    ],
)
def test_a_wrong_type_names_the_key_and_the_value(
    tmp_path: Path, content: str, expected: str
) -> None:
    message = _refused(tmp_path, content)
    assert message.startswith(f"{tmp_path / 'office.toml'}: ")
    assert expected in message


def test_a_new_entry_without_a_label_says_which_key_is_missing(tmp_path: Path) -> None:
    message = _refused(tmp_path, '[[regions]]\ncode = "liubao"\n')
    assert message.endswith('office.toml: [[regions]] code="liubao" zh: missing (it is required)')


def test_the_error_blames_the_file_the_bad_value_came_from() -> None:
    defaults = {"settings": {"language": "zh"}, "regions": [{"code": "a", "zh": "甲", "x": 1}]}
    office = {"settings": {"language": "en"}, "regions": [{"code": "b", "zh": "乙"}]}
    with pytest.raises(ConfigError) as info:
        validate([Layer("defaults.toml", defaults), Layer("office.toml", office)])
    assert str(info.value).startswith('defaults.toml: [[regions]] code="a" x: unknown key')
    office["regions"].append({"code": "a", "x": 2})  # now the office's entry holds it
    with pytest.raises(ConfigError) as info:
        validate([Layer("defaults.toml", defaults), Layer("office.toml", office)])
    assert str(info.value).startswith("office.toml: ")


def test_the_message_is_translated(tmp_path: Path) -> None:
    cfg = tmp_path / "office.toml"
    cfg.write_text('[settings]\nfollow_up_days = "30"\n', "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    set_language("zh")
    assert info.value.text == f"{cfg}：[settings] follow_up_days = '30'：不是整数"


def test_the_office_file_overrides_a_default_and_keeps_the_rest(tmp_path: Path) -> None:
    cfg = tmp_path / "office.toml"
    cfg.write_text(
        textwrap.dedent(
            """
            [settings]
            follow_up_days = 14

            [reminders]
            channels = ["log"]

            [reminders.kinds]
            call = [5]

            [feed]
            public_url = "https://rili.zxyz.gov.cn"

            [[series]]
            code = "theory_study_monthly"
            location = "宝应县政协三楼"

            [[series]]
            code = "brainstorm_yearly"
            enabled = false
            """
        ),
        "utf-8",
    )
    config = load_config(cfg)
    assert config.follow_up_days == 14 and config.timezone == "Asia/Shanghai"
    reminders = config.section("reminders")
    assert reminders["kinds"]["call"] == [5]  # the office's key …
    assert reminders["kinds"]["visit"] == [1440, 60]  # … beside the defaults' other kinds
    assert reminders["channels"] == ["log"]  # a plain array is replaced whole
    assert reminders["digest_time"] == "08:00"
    assert config.sections.feed.public_url == "https://rili.zxyz.gov.cn"
    assert config.sections.feed.calendar_name == "同心 · {name}"
    series = {s["code"]: s for s in config.series}
    monthly = series["theory_study_monthly"]
    assert monthly["location"] == "宝应县政协三楼"
    assert monthly["rrule"] == "FREQ=MONTHLY;BYDAY=-1TH"  # the entry merged key by key
    assert "brainstorm_yearly" not in series and "yangzhou_forum" in series


def test_a_plugin_section_is_passed_through(tmp_path: Path) -> None:
    cfg = tmp_path / "office.toml"
    cfg.write_text(
        textwrap.dedent(
            """
            [plugins]
            disabled = ["visits"]

            [plugins.heart_talks]
            yearly_target = 12
            anything = { goes = ["here"] }
            """
        ),
        "utf-8",
    )
    config = load_config(cfg)
    assert config.plugins == {"heart_talks": {"yearly_target": 12, "anything": {"goes": ["here"]}}}
    assert config.plugins_disabled == ["visits"]
    assert _refused(tmp_path, "[plugins]\nheart_talks = 12\n").endswith(
        "office.toml: [plugins] heart_talks: unknown key (the keys here: disabled, folders)"
    )


def test_the_shipped_defaults_validate_and_agree_with_the_models() -> None:
    text = resources.files("crm_config").joinpath("defaults.toml").read_text("utf-8")
    shipped = tomllib.loads(text)
    ConfigFile.model_validate(shipped)
    # A section the defaults file leaves out gets the models' defaults: they must be the
    # same values, or a key would change meaning when a county deletes it from its file.
    bare = ConfigFile()
    for name, table in shipped.items():
        if isinstance(table, dict):
            given = {k: v for k, v in table.items() if not isinstance(v, dict)}
            modelled = {k: v for k, v in bare.section(name).items() if k in given}
            assert modelled == given, name


def _toml_blocks(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    blocks = re.findall(r"^( *)```toml\n(.*?)^\1```", text, re.M | re.S)
    bodies = [textwrap.dedent(body) for _indent, body in blocks]
    # A plugin's pyproject.toml ([project.entry-points…]) is not a config file.
    return [b for b in bodies if not b.lstrip().startswith("[project")]


SAMPLES = [
    *[(f"{p.name}#{i + 1}", b) for p in ROOT.glob("*.md") for i, b in enumerate(_toml_blocks(p))],
    *[
        (f"docs/{p.name}#{i + 1}", b)
        for p in sorted((ROOT / "docs").glob("*.md"))
        for i, b in enumerate(_toml_blocks(p))
    ],
    *[
        (str(p.relative_to(ROOT)), p.read_text("utf-8"))
        for p in (ROOT / "tests/data").glob("*.toml")
    ],
]


def test_the_samples_are_found() -> None:
    names = [n for n, _b in SAMPLES]
    assert {"README.md#1", "docs/calendar.md#1", "tests/data/office-config.toml"} <= set(names)


@pytest.mark.parametrize(("name", "body"), SAMPLES, ids=[n for n, _b in SAMPLES])
def test_every_sample_config_loads(tmp_path: Path, name: str, body: str) -> None:
    cfg = tmp_path / "sample.toml"
    cfg.write_text(body, "utf-8")
    load_config(cfg)


def test_the_cli_prints_a_config_error_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "tongxin.toml"
    cfg.write_text('[settings]\noffice_timzone = "Asia/Urumqi"\n', "utf-8")
    monkeypatch.setenv("TONGXIN_CONFIG", str(cfg))
    code = run(["--db", str(tmp_path / "t.db"), "--lang", "en", "contacts", "list"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert "[settings] office_timzone: unknown key (did you mean office_timezone?)" in err
    assert str(cfg) in err.replace("\n", "")
