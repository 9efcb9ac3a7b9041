#!/usr/bin/env python3
"""The seed experiment's client in Python, written for fleetbench.

Five ways to make N requests GET /multiply?number=i (i = 0 .. N-1), as the
original requests-vs-aiohttp experiment did them:

  threads-recreate  a new ThreadPoolExecutor(C) per chunk of C numbers
  threads-reuse     one ThreadPoolExecutor(C); a chunk, wait, the next chunk
  threads-map       ThreadPoolExecutor(max_workers=N).map over all N
  async-for         one aiohttp session (C connections), create_task in a for loop
  async-map         the same, the tasks made by map() -- and made eagerly
                    (list(...)) so every task exists before gather, as
                    async-for's do; a lazy map handed on one at a time would
                    run them one after another

Every answer is checked (status 200, JSON, result == 2i); a failed request
makes the exit code 2, as `agent run` does. The target comes from
BENCHMARK_SERVER_HOST / BENCHMARK_SERVER_PORT (default 127.0.0.1:8080).

    python3 benchmark.py threads-recreate -r 100 -c 100

Runs on Debian's python3-requests and python3-aiohttp.
"""

import argparse
import asyncio
import concurrent.futures
import os
import sys
import threading

import aiohttp
import requests

STRATEGIES = ("threads-recreate", "threads-reuse", "threads-map", "async-for", "async-map")


def base_url():
    host = os.environ.get("BENCHMARK_SERVER_HOST", "127.0.0.1")
    port = os.environ.get("BENCHMARK_SERVER_PORT", "8080")
    return f"http://{host}:{port}/multiply"


# ---- threads: requests + ThreadPoolExecutor ----------------------------------

class ThreadClient:
    """One requests.Session per thread: Session is not thread-safe, and
    keep-alive within the run is what the seed's clients had."""

    def __init__(self, url):
        self.url = url
        self.local = threading.local()
        self.sessions = []

    def session(self):
        s = getattr(self.local, "s", None)
        if s is None:
            s = self.local.s = requests.Session()
            s.trust_env = False  # straight to the target, whatever http_proxy says
            self.sessions.append(s)
        return s

    def get(self, i):
        try:
            r = self.session().get(self.url, params={"number": i}, timeout=10)
            return r.status_code == 200 and r.json().get("result") == 2 * i
        except (requests.RequestException, ValueError):
            return False

    def close(self):
        for s in self.sessions:
            s.close()


def chunks(n, c):
    for start in range(0, n, c):
        yield range(start, min(start + c, n))


def threads_recreate(n, c, url):
    client = ThreadClient(url)
    ok = 0
    for chunk in chunks(n, c):
        with concurrent.futures.ThreadPoolExecutor(max_workers=c) as pool:
            futures = [pool.submit(client.get, i) for i in chunk]
        ok += sum(f.result() for f in futures)
    client.close()
    return ok


def threads_reuse(n, c, url):
    client = ThreadClient(url)
    ok = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=c) as pool:
        for chunk in chunks(n, c):
            futures = [pool.submit(client.get, i) for i in chunk]
            ok += sum(f.result() for f in concurrent.futures.as_completed(futures))
    client.close()
    return ok


def threads_map(n, c, url):
    client = ThreadClient(url)
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        ok = sum(pool.map(client.get, range(n)))
    client.close()
    return ok


# ---- async: asyncio + aiohttp ------------------------------------------------

async def fetch(session, url, i):
    try:
        async with session.get(url, params={"number": str(i)}) as r:
            if r.status != 200:
                return False
            body = await r.json(content_type=None)
            return body.get("result") == 2 * i
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False


def async_session(c):
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=c),
        timeout=aiohttp.ClientTimeout(total=10),
        trust_env=False,
    )


async def async_for(n, c, url):
    async with async_session(c) as session:
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(fetch(session, url, i)))
        return sum(await asyncio.gather(*tasks))


async def async_map(n, c, url):
    async with async_session(c) as session:
        tasks = list(map(lambda i: asyncio.create_task(fetch(session, url, i)), range(n)))
        return sum(await asyncio.gather(*tasks))


def main(argv=None):
    p = argparse.ArgumentParser(description="The seed's Python client (requests vs aiohttp).")
    p.add_argument("strategy", choices=STRATEGIES)
    p.add_argument("-r", "--requests", type=int, default=100)
    p.add_argument("-c", "--chunk", type=int, default=100,
                   help="threads: workers per chunk; async: connection limit")
    a = p.parse_args(argv)
    if a.requests < 1 or a.chunk < 1:
        p.error("-r and -c must be at least 1")
    url = base_url()
    run = {
        "threads-recreate": lambda: threads_recreate(a.requests, a.chunk, url),
        "threads-reuse": lambda: threads_reuse(a.requests, a.chunk, url),
        "threads-map": lambda: threads_map(a.requests, a.chunk, url),
        "async-for": lambda: asyncio.run(async_for(a.requests, a.chunk, url)),
        "async-map": lambda: asyncio.run(async_map(a.requests, a.chunk, url)),
    }[a.strategy]
    ok = run()
    failed = a.requests - ok
    print(f"{a.strategy}: {ok} ok, {failed} failed of {a.requests}")
    return 0 if failed == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
