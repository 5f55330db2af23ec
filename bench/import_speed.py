"""Benchmark: importing a 100,000-row roster, as a ratio to the bare read of the file.

    /work/venv/bin/python -m bench.import_speed [--rows 100000] [--repeat 3]
        [--db postgresql://postgres@127.0.0.1:5432/bench_import]

The first run writes ``bench/data/roster-100000.xlsx`` (10 columns, realistic values,
every person distinct; git-ignored) and reuses it afterwards. Then, ``--repeat`` times,
the script times (1) the bare python-calamine read of the sheet (open, every row as
Python values; best of 3) and (2) the whole ``tongxin import`` of the same file into a
fresh, empty, migrated database (reading, header detection, parsing and validation of
every cell, duplicate detection, inserts with derived columns and the audit log,
commit), and prints both and their ratio for each round, then the medians. The
database is a new SQLite file, or with ``--db`` a PostgreSQL database of its own that
the script drops and creates again before each round.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新"
    "利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐"
    "绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽"
    "晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍"
    "红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧"
)
PARTIES = ["民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "无党派", "中共", "群众"]
SECTORS = ["经济界", "教育界", "科学技术界", "文化艺术界", "医药卫生界", "农业界", "特邀", "港澳"]
REGIONS = ["广陵区", "邗江区", "江都区", "宝应县", "仪征市", "高邮市", "市直"]
CATEGORIES = ["党外知识分子", "非公有制经济人士", "新的社会阶层人士", "宗教界人士", "港澳委员"]
EMPLOYERS = ["扬州大学", "扬州市第一人民医院", "江苏某某集团有限公司", "扬州中学", "某律师事务所"]
TITLES = ["教授", "主任医师", "董事长", "校长", "律师", "总经理"]
HEADERS = ["姓名", "性别", "出生年月", "民族", "党派", "界别", "工作单位及职务", "所在地", "手机",
           "联系对象类别"]  # fmt: skip


def roster_rows(count: int, seed: int = 2026) -> list[list[object]]:
    """``count`` distinct people as an office types them (birth months as 1965.03,
    phones with spaces, several categories in one cell)."""
    rnd = random.Random(seed)
    seen: set[tuple[str, str]] = set()
    rows: list[list[object]] = []
    while len(rows) < count:
        name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2, 2, 2))))
        birth = f"{rnd.randint(1945, 1995)}.{rnd.randint(1, 12):02d}"
        if (name, birth) in seen:
            continue
        seen.add((name, birth))
        mobile = f"1{rnd.choice('3589')}{len(rows):09d}"
        rows.append(
            [
                name,
                rnd.choice("男女"),
                birth,
                "汉族",
                rnd.choice(PARTIES),
                rnd.choice(SECTORS),
                f"{rnd.choice(EMPLOYERS)} {rnd.choice(TITLES)}",
                rnd.choice(REGIONS),
                f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                "、".join(rnd.sample(CATEGORIES, rnd.choice((1, 1, 2)))),
            ]
        )
    return rows


def roster_file(count: int) -> Path:
    """The cached benchmark sheet of ``count`` rows (written on first use)."""
    from openpyxl import Workbook

    path = DATA / f"roster-{count}.xlsx"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("委员名单")
    ws.append(HEADERS)
    for row in roster_rows(count):
        ws.append(row)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.rename(path)
    return path


def bare_read(path: Path) -> int:
    """The fastest reader's bare read: open the workbook, every row of the first sheet
    as Python values."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_index(0).to_python()
    return len(rows)


def _best(fn, runs: int = 1) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _fresh_database(url: str | None, folder: Path) -> str:
    """A URL of an empty database: a new SQLite file in ``folder``, or the PostgreSQL
    database ``url`` names, dropped and created again."""
    if url is None:
        return str(folder / "bench.db")
    import psycopg
    from sqlalchemy import make_url

    from crm_core.db import normalize_url

    parsed = make_url(normalize_url(url))
    name = parsed.database
    if parsed.get_backend_name() != "postgresql":
        sys.exit(f"--db must be a PostgreSQL URL: {url}")
    if name in (None, "postgres", "template0", "template1", "test", "tongxin"):
        sys.exit(f"refusing to drop the database {name!r}: name a database of its own")
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def time_import(path: Path, db: str | None = None, rows: int = 100_000):  # type: ignore[no-untyped-def]
    """Seconds for the whole import of ``path`` into a fresh, migrated database (SQLite,
    or the PostgreSQL database ``db``; created and migrated before the clock starts),
    the report, and when each stage began (seconds from the start)."""
    from crm_core.app import Tongxin
    from crm_core.config import load_config
    from crm_core.importer import import_roster
    from crm_core.plugins import PluginHost

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "config.toml"
        # The sheet's own rows, the header included, within the bound (the default
        # bound is 100,000 rows, which a 100,000-person sheet and its header pass).
        empty.write_text(f"[import]\nmax_rows = {rows + 1000}\n", "utf-8")
        host = PluginHost()
        host.load(entry_points_too=False)
        url = _fresh_database(db, Path(tmp))
        app = Tongxin(load_config(empty), db_url=url, plugins=host)
        marks: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            marks.setdefault(stage, time.perf_counter())  # first call of each stage

        t = time.perf_counter()
        with app.unit() as unit:
            report = import_roster(unit, path, progress=progress)
        elapsed = time.perf_counter() - t
        stages = {k: v - t for k, v in marks.items()}
        app.close()
    return elapsed, report, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds (medians are reported)")
    parser.add_argument(
        "--db", help="a PostgreSQL URL to import into (dropped and created each round)"
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = roster_file(args.rows)
    size = path.stat().st_size / 1e6
    print(f"file: {path} ({size:.1f} MB, ready in {time.perf_counter() - t0:.1f} s)")
    backend = "PostgreSQL" if args.db else "SQLite"
    reads: list[float] = []
    imports: list[float] = []
    for round_no in range(1, args.repeat + 1):
        read_s = _best(lambda: bare_read(path), runs=3)
        import_s, report, stages = time_import(path, args.db, args.rows)
        reads.append(read_s)
        imports.append(import_s)
        totals = report.totals
        if totals["create"] != args.rows:  # every row of the roster is a distinct person
            raise SystemExit(f"created {totals['create']} of {args.rows} rows: {totals}")
        first_write = stages.get("write", import_s)
        print(
            f"round {round_no}: bare python-calamine read (best of 3) {read_s:.2f} s; "
            f"whole import into a fresh {backend} database {import_s:.2f} s "
            f"(created {totals['create']}, refused {totals['refuse']}; reading, checking "
            f"and planning took {first_write:.2f} s up to the first batch written); "
            f"ratio {import_s / read_s:.1f}x"
        )
    read_m, import_m = statistics.median(reads), statistics.median(imports)
    print(f"median bare read: {read_m:.2f} s; median whole import ({backend}): {import_m:.2f} s")
    print(f"ratio: {import_m / read_m:.1f}x  ({args.rows / import_m:,.0f} rows/s)")
    # The Markdown table ``python -m bench`` copies into bench/RESULTS.md.
    print()
    print(
        "| rows | backend | bare read (s) | whole import (s) | import / read | rows/s "
        "| created | refused |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.rows} | {backend} | {read_m:.2f} | {import_m:.2f} | {import_m / read_m:.1f}x "
        f"| {args.rows / import_m:,.0f} | {totals['create']} | {totals['refuse']} |"
    )


if __name__ == "__main__":
    sys.exit(main())
