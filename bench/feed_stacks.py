"""Benchmark: which HTTP stack serves the feed fastest (issue 16 item 5)?

    python -m bench.feed_stacks [--users 50] [--seconds 5] [--interactions 10000]

The same answer (:func:`crm_core.calendar.feeds.answer_cached`, the cached feed: one
statement, then a header compare; a cache miss builds it once with
:func:`~crm_core.calendar.feeds.answer`) behind each candidate, in its own process on
127.0.0.1, then wrk for 304s (If-None-Match) and 200s (full, cached calendar):

- ``stdlib``: `tongxin serve` itself (the standard library's ThreadingHTTPServer);
- ``starlette-uvicorn``: a Starlette route on uvicorn (httptools, uvloop), one worker,
  the answer computed in the event loop (no thread hop: the fastest it can be);
- ``starlette-uvicorn-threads``: the same with the answer in Starlette's thread pool
  (what a blocking database call needs on PostgreSQL).

Needs wrk and ``pip install uvicorn httptools uvloop`` (benchmark only: not a
dependency of tongxin). Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from typing import Any

from bench.feed_server import NOW, _free_port, dataset, run_wrk
from crm_core import clock

STACKS = ("stdlib", "starlette-uvicorn", "starlette-uvicorn-threads")


def asgi_app(db: str, threads: bool) -> Any:
    """A Starlette app answering /cal/<token>.ics like `tongxin serve`."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from crm_core.app import Tongxin
    from crm_core.calendar import feeds
    from crm_core.config import load_config
    from crm_core.plugins import PluginHost

    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(), db_url=db, plugins=host)
    cache = feeds.FeedCache()
    prober = feeds.Prober(app.engine, app.config.tz)

    def answer(method: str, path: str, headers: dict[str, str]) -> feeds.Answer:
        quick = feeds.answer_cached(prober, app.plugins, method, path, headers, cache)
        if quick is not None:
            return quick
        with app.unit() as unit:
            return feeds.answer(unit, method, path, headers, cache=cache)

    async def feed(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items()}
        args = (request.method, request.url.path, headers)
        result = await run_in_threadpool(answer, *args) if threads else answer(*args)
        out = Response(result.body, status_code=result.status)
        for name, value in result.headers:
            out.headers[name] = value
        return out

    return Starlette(routes=[Route("/cal/{name}", feed, methods=["GET", "HEAD"])])


def start(stack: str, db: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TONGXIN_NOW": NOW.isoformat(), "TONGXIN_LOAD_PLUGINS": ""}
    if stack == "stdlib":
        cmd = [sys.executable, "-m", "crm_cli.main", "--db", db, "serve", "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "bench.feed_stacks", "--serve", stack, "--db", db,
               "--port", str(port)]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)


def prime(port: int, paths: list[str]) -> list[str]:
    """Fetch every feed once (so it is cached) and return the ETags."""
    etags = []
    deadline = time.monotonic() + 60
    for path in paths:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                break
            except (ConnectionRefusedError, http.client.RemoteDisconnected):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert response.status == 200, response.status
        etags.append(response.getheader("ETag") or "")
        conn.close()
    return etags


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--stacks", default=",".join(STACKS))
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        import uvicorn

        clock.freeze(NOW)
        app = asgi_app(args.db, threads=args.serve.endswith("threads"))
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                    access_log=False, http="httptools", loop="uvloop")  # fmt: skip
        return
    clock.freeze(NOW)
    db, tokens = dataset(args.interactions, args.users, args.rebuild)
    paths = [f"/cal/{t}.ics" for t in tokens]
    print("| stack | 304 requests/s | 304 p99 | 200 (cached) requests/s | 200 p99 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    cmd = ""
    for stack in args.stacks.split(","):
        port = _free_port()
        server = start(stack, db, port)
        try:
            etags = prime(port, paths)
            not_modified = run_wrk(port, paths, etags, True, args)
            full = run_wrk(port, paths, etags, False, args)
            cmd = not_modified["cmd"]
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(
            f"| {stack} | {not_modified.get('rps')} | {not_modified.get('p99')} | "
            f"{full.get('rps')} | {full.get('p99')} |"
        )
    print()
    print(f"wrk command (per run): {cmd}")


if __name__ == "__main__":
    main()
