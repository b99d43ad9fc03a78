"""The all-in-one main job, end to end: `schemashift serve` learning and replaying real events.

The set-up of ``shared/findings/throughput-profile-2026-12.md``: one ``schemashift serve``
process (SQLite, the in-process bus, one worker) on a loopback port; every file of
``shared/corpus`` is one subject (``corpus/<family>-<file stem>``); the payloads are posted
as JSON arrays of up to 200 to ``POST /v1/events?subject=…`` from 4 client threads, each file
in its own order.

* **learning** — the first pass: the time from the first POST until every event is settled
  (conformed, dead-lettered or parked), against the time the posting itself took. Target:
  settled within 2× the posting time.
* **steady state** — the same payloads posted ``--replays`` (3) more times: events settled per
  second, from the first POST of the replay to the last event settled. Anchor, same run, same
  client: a bare FastAPI endpoint (its own uvicorn process) that only parses the same batches
  (``orjson.loads``) and answers 202. Target: ≥ 0.3× the anchor.
* the same two figures for the **generated** demo stream (``--demo N`` events, CloudEvents
  batches of 200), for comparison.

Progress is read from the server's ``/metrics`` (conformed, dead-lettered and parked counters)
every 50 ms.

    python bench/bench_serve.py              # corpus + demo, ~1 min
    python bench/bench_serve.py --no-demo
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.environment import corpus_files  # noqa: E402

BATCH = 200
THREADS = 4
_COUNTER = re.compile(
    rb"^schemashift_events_(?:conformed|dead_lettered|parked)_total\{[^}]*\}\s+([0-9.eE+]+)$",
    re.M,
)

BARE_APP = textwrap.dedent(
    """
    import orjson
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.post("/v1/events", status_code=202)
    async def events(request: Request) -> JSONResponse:
        value = orjson.loads(await request.body())
        n = len(value) if isinstance(value, list) else 1
        return JSONResponse({"accepted": n, "rejected": []}, status_code=202)
    """
)


class Process:
    """A server in a subprocess on a free loopback port (its address read from its log)."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(rb"(http://127\.0\.0\.1:\d+)", log.read_bytes())
            if found:
                self.url = found.group(1).decode()
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"did not start: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def settled(client: httpx.Client) -> int:
    return int(sum(float(v) for v in _COUNTER.findall(client.get("/metrics").content)))


def bodies_of_corpus() -> list[tuple[dict[str, str], list[bytes]]]:
    """Per file: the query of its subject and its POST bodies, in order."""
    out = []
    for path in corpus_files():
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        bodies = [
            b"[" + b",".join(lines[i : i + BATCH]) + b"]" for i in range(0, len(lines), BATCH)
        ]
        out.append(({"subject": f"corpus/{path.parent.name}-{path.stem}"}, bodies))
    return out


def bodies_of_demo(n: int) -> list[tuple[dict[str, str], list[bytes]]]:
    import itertools

    from schemashift.server.demo_producer import demo_events

    events = list(itertools.islice(demo_events(7, cycle=max(n, 1600)), n))
    bodies = [orjson.dumps(events[i : i + BATCH]) for i in range(0, n, BATCH)]
    # one stream, in order, split over the threads by batch (subjects interleave as in the demo)
    return [({}, bodies[t::THREADS]) for t in range(THREADS)]


def post_all(url: str, work: list[tuple[dict[str, str], list[bytes]]], content_type: str) -> float:
    """Post every body — each group (a file, or a share of the demo stream) in order, the groups
    taken by 4 threads with one kept-alive client each; seconds taken."""
    import queue

    groups: queue.SimpleQueue[tuple[dict[str, str], list[bytes]]] = queue.SimpleQueue()
    for group in work:
        groups.put(group)

    def drain() -> None:
        with httpx.Client(base_url=url, timeout=120, trust_env=False) as http:
            while True:
                try:
                    params, bodies = groups.get_nowait()
                except queue.Empty:
                    return
                for body in bodies:
                    answer = http.post(
                        "/v1/events", params=params, content=body,
                        headers={"Content-Type": content_type},
                    )  # fmt: skip
                    if answer.status_code != 202:
                        raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(drain) for _ in range(THREADS)]:
            future.result()
    return time.perf_counter() - started


def run_pass(
    url: str, work: list[tuple[dict[str, str], list[bytes]]], content_type: str, total: int
) -> tuple[float, float]:
    """(posting seconds, seconds until every event of this pass settled)."""
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        before = settled(client)
        started = time.perf_counter()
        posting = post_all(url, work, content_type)
        while settled(client) - before < total:
            if time.perf_counter() - started > 300:
                raise RuntimeError(
                    f"only {settled(client) - before:,} of {total:,} settled after 300 s"
                )
            time.sleep(0.05)
        return posting, time.perf_counter() - started


def scenario(
    name: str,
    work: list[tuple[dict[str, str], list[bytes]]],
    content_type: str,
    replays: int,
    tmp: Path,
) -> None:
    total = sum(len(orjson.loads(body)) for _, bodies in work for body in bodies)
    exe = Path(sys.executable).with_name("schemashift")
    db = f"sqlite:///{tmp / (name + '.db')}"
    serve = Process(
        [str(exe), "serve", "--db", db, "--port", "0", "--log-level", "WARNING"],
        tmp / f"{name}-serve.log",
    )
    try:
        posting, settle = run_pass(serve.url, work, content_type, total)
        print(f"{name}: {total:,} events posted", flush=True)
        print(
            f"{name}: learning pass of {total:,} events: posted in {posting:.2f} s, settled in"
            f" {settle:.2f} s = {settle / posting:.2f}× the posting time (target ≤ 2×)"
        )
        rates = []
        for _ in range(replays):
            _, seconds = run_pass(serve.url, work, content_type, total)
            rates.append(total / seconds)
    except RuntimeError:
        print(serve.log.read_text()[-3000:])
        raise
    finally:
        serve.stop()
    app = tmp / "bare_app.py"
    app.write_text(BARE_APP)
    bare = Process(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(tmp), "--port", "0",
         "--log-level", "info", "--no-access-log"],
        tmp / f"{name}-bare.log",
    )  # fmt: skip
    try:
        anchors = [total / post_all(bare.url, work, content_type) for _ in range(replays)]
    finally:
        bare.stop()
    best, anchor = max(rates), max(anchors)
    print(
        f"{name}: steady state (replays, best of {replays}): {best:,.0f} events/s settled"
        f" (rounds {', '.join(f'{r:,.0f}' for r in rates)}); bare parse endpoint"
        f" {anchor:,.0f} events/s; ratio {best / anchor:.2f} (target ≥ 0.3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replays", type=int, default=3)
    parser.add_argument("--demo", type=int, default=10_000, help="events of the demo stream")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schemashift-bench-serve-") as name:
        tmp = Path(name)
        scenario("corpus", bodies_of_corpus(), "application/json", args.replays, tmp)
        if not args.no_demo:
            demo = bodies_of_demo(args.demo)
            scenario("demo", demo, "application/cloudevents-batch+json", args.replays, tmp)


if __name__ == "__main__":
    main()
