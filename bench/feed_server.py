"""Benchmark: the phone feed server (`tongxin serve`) under wrk on the loopback.

    python -m bench.feed_server [--users 50] [--seconds 5] [--threads 2] [--connections 10]
                                [--interactions 10000] [--rebuild]

Needs ``wrk`` (Debian: ``apt-get install wrk``; .ci/run installs it, since
tests/test_bench.py runs every benchmark at a small size). The dataset is the demo
(core kinds) in ``bench/data/feeds-<interactions>.db``; ``--users`` accounts
(the demo's, plus accounts linked to demo people when there are fewer) each get a feed
token. ``tongxin serve`` runs in its own process on 127.0.0.1 (a free port); wrk then
fetches the 50 users' feeds in turn for a bounded time, twice:

- 200: plain GETs, every answer the full calendar;
- 304: GETs with each feed's ETag in If-None-Match, every answer "Not Modified".

It prints requests/s, latency and the answer sizes as a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from crm_core import clock, demo
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.config import load_config
from crm_core.models import Account, Interaction, InteractionParticipant, Person
from crm_core.plugins import PluginHost
from crm_core.services import accounts

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
TODAY = date(2026, 9, 1)
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dataset(interactions: int, users: int, rebuild: bool) -> tuple[str, list[str]]:
    """The database file and one feed token per user (tokens are made anew each run)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"feeds-{interactions}.db"
    if rebuild:
        path.unlink(missing_ok=True)
    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(), db_url=str(path), plugins=host)
    with app.unit() as unit:
        have = unit.session.scalar(select(func.count()).select_from(Interaction)) or 0
    if have == 0:
        demo.generate(app, contacts=1000, interactions=interactions, today=TODAY)
    with app.unit() as unit:
        mine = list(accounts.list_accounts(unit))
        if len(mine) < users:
            # More users: accounts for the people who take part in the most work.
            busy = unit.session.execute(
                select(InteractionParticipant.person_id, func.count())
                .where(InteractionParticipant.person_id.is_not(None))  # type: ignore[union-attr]
                .group_by(InteractionParticipant.person_id)
                .order_by(func.count().desc())
                .limit(users * 2)
            ).all()
            taken = {a.person_id for a in mine}
            for person_id, _n in busy:
                if len(mine) >= users:
                    break
                if person_id in taken:
                    continue
                person = unit.session.get(Person, person_id)
                assert person is not None
                mine.append(
                    accounts.create_account(
                        unit,
                        username=f"bench{len(mine)}",
                        display_name=person.name,
                        person_id=person_id,
                    )
                )
        tokens = []
        for account in sorted(mine, key=lambda a: a.username)[:users]:
            _row, token = feeds.create_token(unit, account=account, name="bench")
            tokens.append(token)
        assert unit.session.scalar(select(func.count()).select_from(Account)) >= users
    app.close()
    return str(path), tokens


LUA = """
paths = {%(paths)s}
etags = {%(etags)s}
conditional = %(conditional)s
counter = 0
function setup(thread)
  thread:set("offset", math.random(0, #paths))
end
request = function()
  counter = counter + 1
  local i = ((counter + offset) %% #paths) + 1
  if conditional then
    return wrk.format("GET", paths[i], {["If-None-Match"] = etags[i]})
  end
  return wrk.format("GET", paths[i])
end
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def run_wrk(
    port: int, paths: list[str], etags: list[str], conditional: bool, args: argparse.Namespace
) -> dict[str, str]:
    script = Path(tempfile.mkdtemp()) / "feeds.lua"
    script.write_text(
        LUA
        % {
            "paths": ", ".join(f'"{p}"' for p in paths),
            "etags": ", ".join("'" + e + "'" for e in etags),
            "conditional": "true" if conditional else "false",
        },
        "utf-8",
    )
    cmd = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
        "--latency", "-s", str(script), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.seconds + 60, check=True
    ).stdout
    result = {"cmd": " ".join(cmd)}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = m.group(1)
    dist = out.split("Latency Distribution", 1)[-1]
    if m := re.search(r"50%\s+(\S+)", dist):
        result["p50"] = m.group(1)
    if m := re.search(r"99%\s+(\S+)", dist):
        result["p99"] = m.group(1)
    if m := re.search(r"(\d+) requests in", out):
        result["requests"] = m.group(1)
    result["errors"] = "0"
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        result["errors"] = m.group(1)
    if m := re.search(r"Socket errors: (.*)", out):
        result["socket"] = m.group(1)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    clock.freeze(NOW)
    db, tokens = dataset(args.interactions, args.users, args.rebuild)
    rows = []
    for cache in (True, False):
        sizes, ok, not_modified = measure(db, tokens, cache, args)
        label = "" if cache else ", --no-cache"
        rows.append((f"200 (full calendar){label}", ok))
        rows.append((f"304 (If-None-Match){label}", not_modified))
    print(
        f"{len(tokens)} users' feeds, {min(sizes) / 1000:.0f}–{max(sizes) / 1000:.0f} kB "
        f"(mean {sum(sizes) / len(sizes) / 1000:.0f} kB); wrk {args.threads} threads, "
        f"{args.connections} connections, {args.seconds} s each; server and wrk on the same "
        f"{os.cpu_count()}-core machine"
    )
    print()
    print("| answer | requests/s | p50 | p99 | requests | non-2xx/3xx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(
            f"| {name} | {r.get('rps')} | {r.get('p50')} | {r.get('p99')} | "
            f"{r.get('requests')} | {r.get('errors')} |"
        )
    print()
    print(f"wrk command: {rows[0][1]['cmd']}")


def measure(
    db: str, tokens: list[str], cache: bool, args: argparse.Namespace
) -> tuple[list[int], dict[str, str], dict[str, str]]:
    """Start `tongxin serve` (with or without its cache), check every feed answers 200
    then 304, then run wrk for 200s and for 304s."""
    port = _free_port()
    env = {**os.environ, "TONGXIN_NOW": NOW.isoformat(), "TONGXIN_LOAD_PLUGINS": ""}
    command = [sys.executable, "-m", "crm_cli.main", "--db", db, "serve", "--port", str(port)]
    server = subprocess.Popen(
        command + ([] if cache else ["--no-cache"]), env=env, stderr=subprocess.DEVNULL
    )
    try:
        paths = [f"/cal/{t}.ics" for t in tokens]
        etags, sizes = [], []
        deadline = time.monotonic() + 60
        for path in paths:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("GET", path)
                    response = conn.getresponse()
                    body = response.read()
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            assert response.status == 200, response.status
            etags.append(response.getheader("ETag") or "")
            sizes.append(len(body))
            conn.request("GET", path, headers={"If-None-Match": etags[-1]})
            again = conn.getresponse()
            again.read()
            assert again.status == 304, again.status
            conn.close()
        ok = run_wrk(port, paths, etags, False, args)
        not_modified = run_wrk(port, paths, etags, True, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return sizes, ok, not_modified


if __name__ == "__main__":
    main()
