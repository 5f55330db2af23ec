"""Configuration: shipped defaults as data, overridden by the office's own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.config import ConfigError, load_config


def test_defaults_ship_as_package_data() -> None:
    config = load_config()
    assert config.timezone == "Asia/Shanghai" and config.language == "zh"
    assert config.vocab["regions"].resolve("高邮市").code == "gaoyou"  # type: ignore[union-attr]
    assert config.vocab["parties"].resolve("九三学社").code == "jiusan"  # type: ignore[union-attr]
    assert len(config.vocab["sectors"]) >= 30
    liaison = [t.code for t in config.categories if t.extra.get("liaison_required")]
    assert liaison == ["non_party_intellectual", "private_economy", "new_social_stratum"]
    assert {s["code"] for s in config.series} >= {"mid_autumn_gathering", "yangzhou_forum"}


def test_a_county_overrides_adds_and_removes_entries(tmp_path: Path) -> None:
    cfg = tmp_path / "baoying.toml"
    cfg.write_text(
        """
[settings]
language = "en"
db = "postgresql://office@server/tongxin"

[[regions]]
code = "baoying"
zh = "宝应县"
en = "Baoying"

[[regions]]
code = "gaoyou"
enabled = false

[[regions]]
code = "liuzhuang"
zh = "柳堡镇"

[[categories]]
code = "private_economy"
max_days = 60
""",
        "utf-8",
    )
    config = load_config(cfg)
    regions = config.vocab["regions"]
    assert "gaoyou" not in regions and regions.get("liuzhuang").zh == "柳堡镇"  # type: ignore[union-attr]
    assert regions.get("baoying").en == "Baoying"  # type: ignore[union-attr]
    pe = config.categories.get("private_economy")
    assert pe is not None and pe.extra["max_days"] == 60 and pe.zh == "非公有制经济人士"
    assert config.language == "en" and config.db_url == "postgresql://office@server/tongxin"


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[settings]\ndb = "a.db"\nlanguage = "zh"\n', "utf-8")
    monkeypatch.setenv("TONGXIN_DB", "b.db")
    monkeypatch.setenv("TONGXIN_LANG", "en")
    config = load_config(cfg)
    assert (config.db_url, config.language) == ("b.db", "en")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '[settings]\ntimezone = "Mars/Olympus"\n',
            "c.toml: [settings] timezone = 'Mars/Olympus': unknown time zone",
        ),
        ('[[regions]]\nzh = "无代码"\n', "c.toml: [[regions]] entry 1 has no code"),
        ('[[regions]]\ncode = "x"\n', 'c.toml: [[regions]] code="x" zh: missing'),
        ("[settings\n", "c.toml"),
    ],
)
def test_bad_config_says_what_and_where(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(content, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert message in str(info.value)
