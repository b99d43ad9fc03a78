"""Soak test of the all-in-one server: ``make run`` fed N events (default 1,000,000).

    python bench/bench_soak.py                  # 1,000,000 events (several minutes)
    python bench/bench_soak.py --events 50000   # a quick check that it works

The server is started exactly as ``make run`` composes it — ``schemashift run`` on a SQLite
file (in a temporary directory), the in-process memory bus, one worker, the outbox relay and
the UI — but with the demo producer off, in its own process so that its resident memory is the
server's alone. The demo's subject configuration (:func:`prepare_demo`: FULL payments, a
consumer of the signups' ``email``) is applied first, so the generator's forbidden drift is
quarantined along the way as in ``make run``.

This process feeds realistic CloudEvents from ``schemashift.demo.generator`` (its drift
schedule repeating every ``--cycle`` events, so versions and quarantines happen throughout)
through the real ``POST /v1/events`` as CloudEvents batches (200 a POST by default: ingest
reads a batch as one JSON document under the reader's 10,000-key limit, which 500 demo
events exceed), with back-pressure: when the
worker is more than ``--max-lag`` events behind the sender, it waits. Every ``--every``
events it samples the server's RSS (``/proc/<pid>/status`` VmRSS) and the conformed,
dead-lettered and parked counters of ``/metrics``, and prints a row.

The verdict: RSS growth from the sample at 20 % of the run (warm: the schemas are learned,
the caches filled) to the end is "flat" when within 10 % or 20 MB, and conformed + dead
letters still dead + parked == accepted once the worker has drained (every event in exactly
one final place; an outlier re-driven and conformed counts once, as conformed — the dead
letters' own counts come from the registry, ``/v1/dead-letters/counts``).
There is no anchor to compare with: the question is whether memory stays flat, and
events/s (per interval, and end to end) is the pipeline's rate under that back-pressure.
Note that the in-process bus keeps a bounded log of the last 10,000 messages per stream
(raw, conformed, dead letters, parked), so RSS legitimately rises until those logs are full.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
_URL = re.compile(rb'"url":\s*"(http://127\.0\.0\.1:\d+)"')
_SAMPLE = re.compile(
    rb"^(schemashift_events_(?:conformed|dead_lettered|parked)_total)\{[^}]*\}\s+([0-9.eE+]+)$",
    re.M,
)
FLAT_RATIO = 0.10
FLAT_MB = 20.0


@dataclass(frozen=True)
class Sample:
    sent: int
    conformed: int
    dead: int
    parked: int
    rss_mb: float
    rate: float


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB, from /proc (no psutil)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


def counters(client: httpx.Client) -> tuple[int, int, int]:
    """(conformed, dead-lettered, parked) outputs, summed over subjects and reasons. A
    re-driven dead letter (an outlier whose change gained support) counts once dead and once
    conformed: see :func:`settled`."""
    body = client.get("/metrics").content
    totals = {
        b"schemashift_events_conformed_total": 0.0,
        b"schemashift_events_dead_lettered_total": 0.0,
        b"schemashift_events_parked_total": 0.0,
    }
    for name, value in _SAMPLE.findall(body):
        totals[name] += float(value)
    return (
        int(totals[b"schemashift_events_conformed_total"]),
        int(totals[b"schemashift_events_dead_lettered_total"]),
        int(totals[b"schemashift_events_parked_total"]),
    )


def settled(client: httpx.Client) -> tuple[int, int, int]:
    """(conformed, dead letters still dead, parked): each event's one final place, from the
    registry's dead-letter counts (a re-driven one is ``replayed``, not dead)."""
    conformed, _, _ = counters(client)
    counts = client.get("/v1/dead-letters/counts").json()["counts"]
    return (
        conformed,
        sum(counts.get("dead", {}).values()),
        sum(counts.get("parked", {}).values()),
    )


def dead_by_reason(client: httpx.Client) -> dict[str, int]:
    """Dead-lettered events per reason, summed over subjects."""
    totals: dict[str, int] = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("schemashift_events_dead_lettered_total{"):
            found = re.search(r'reason="([^"]*)"', line)
            reason = found.group(1) if found else "?"
            totals[reason] = totals.get(reason, 0) + int(float(line.rsplit(" ", 1)[1]))
    return totals


def prepare(db_url: str) -> None:
    """Apply the demo's subject configuration, as ``make run`` does at start."""
    from schemashift.registry.service import Registry
    from schemashift.server.demo_producer import prepare_demo

    registry = Registry.from_url(db_url)
    try:
        prepare_demo(registry)
    finally:
        registry.close()


class Server:
    """``schemashift run --no-demo`` in a subprocess on a free port; logs go to a file."""

    def __init__(self, workdir: Path) -> None:
        self.db_url = f"sqlite:///{workdir}/soak.db"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> None:
        prepare(self.db_url)
        exe = Path(sys.executable).with_name("schemashift")
        command = [str(exe), "run", "--no-demo", "--db", self.db_url, "--port", "0"]
        command += ["--workers", "1", "--log-format", "json", "--log-level", "WARNING"]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _URL.search(self.log_path.read_bytes()) or re.search(
                rb"(http://127\.0\.0\.1:\d+)", self.log_path.read_bytes()
            )
            if found:
                self.url = found.group(1).decode()
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start: {self.log_path.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def report_failure(self) -> None:
        """Print whether the server process is alive, its RSS and the tail of its log."""
        assert self.process is not None
        code = self.process.poll()
        state = (
            f"exited with {code}" if code is not None else f"alive, RSS {rss_mb(self.pid):.1f} MB"
        )
        print(f"server process {self.pid}: {state}; last lines of its log:")
        lines = self.log_path.read_text(errors="replace").splitlines()
        print("\n".join(line[:400] for line in lines[-30:]))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def events(seed: int, cycle: int) -> Iterator[Mapping[str, Any]]:
    from schemashift.server.demo_producer import demo_events

    return demo_events(seed, cycle=cycle)


class Feeder(threading.Thread):
    """Sends ``total`` events in batches; waits while the worker lags more than ``max_lag``."""

    def __init__(self, url: str, total: int, batch: int, max_lag: int, cycle: int) -> None:
        super().__init__(name="feeder", daemon=True)
        self.url, self.total, self.batch, self.max_lag, self.cycle = (
            url,
            total,
            batch,
            max_lag,
            cycle,
        )
        self.sent = 0  # accepted by ingest
        self.rejected = 0
        self.error: BaseException | None = None
        self.stalled_s = 0.0

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _run(self) -> None:
        source = events(7, self.cycle)
        headers = {"content-type": BATCH_CONTENT_TYPE}
        with httpx.Client(base_url=self.url, timeout=60.0) as client:
            offered = 0
            while offered < self.total:
                size = min(self.batch, self.total - offered)
                chunk = [next(source) for _ in range(size)]
                response = client.post("/v1/events", content=orjson.dumps(chunk), headers=headers)
                if response.status_code != 202:
                    raise RuntimeError(f"ingest answered {response.status_code}: {response.text}")
                answer = response.json()
                offered += size
                self.rejected += len(answer["rejected"])
                self.sent += int(answer["accepted"])
                self._throttle(client)

    def _throttle(self, client: httpx.Client) -> None:
        started = time.monotonic()
        while True:
            conformed, dead, parked = counters(client)
            if self.sent - conformed - dead - parked <= self.max_lag:
                break
            time.sleep(0.05)
        self.stalled_s += time.monotonic() - started


def drain(client: httpx.Client, sent: int, timeout: float) -> tuple[int, int, int]:
    deadline = time.monotonic() + timeout
    conformed, dead, parked = settled(client)
    while conformed + dead + parked < sent and time.monotonic() < deadline:
        time.sleep(0.25)
        conformed, dead, parked = settled(client)
    return conformed, dead, parked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to send")
    parser.add_argument("--batch", type=int, default=200, help="CloudEvents per POST")
    parser.add_argument("--every", type=int, default=50_000, help="events between samples")
    parser.add_argument("--cycle", type=int, default=20_000, help="events per drift cycle")
    parser.add_argument("--max-lag", type=int, default=5_000, help="events the worker may lag")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="schemashift-soak-") as tmp:
        server = Server(Path(tmp))
        server.start()
        try:
            return soak(server, args)
        finally:
            server.stop()


def soak(server: Server, args: argparse.Namespace) -> int:
    print(f"server pid {server.pid} at {server.url}; {args.events:,} events, batch {args.batch}")
    samples: list[Sample] = []
    base_rss = rss_mb(server.pid)
    print(f"RSS at start (idle): {base_rss:.1f} MB")
    header = (
        f"{'sent':>10} {'conformed':>10} {'dead':>8} {'parked':>8} {'RSS MB':>8} {'events/s':>9}"
    )
    print(header)
    print("-" * len(header), flush=True)
    feeder = Feeder(server.url, args.events, args.batch, args.max_lag, args.cycle)
    started = last_t = time.monotonic()
    last_sent = 0
    next_mark = args.every
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        feeder.start()

        def take() -> None:
            nonlocal last_t, last_sent
            now, sent = time.monotonic(), feeder.sent
            conformed, dead, parked = counters(client)
            rate = (sent - last_sent) / max(now - last_t, 1e-9)
            sample = Sample(sent, conformed, dead, parked, rss_mb(server.pid), rate)
            samples.append(sample)
            print(
                f"{sample.sent:>10,} {sample.conformed:>10,} {sample.dead:>8,} "
                f"{sample.parked:>8,} {sample.rss_mb:>8.1f} {sample.rate:>9,.0f}",
                flush=True,
            )
            last_t, last_sent = now, sent

        while feeder.is_alive():
            if feeder.sent >= next_mark:
                take()
                while next_mark <= last_sent:
                    next_mark += args.every
            time.sleep(0.05)
        if feeder.sent > last_sent:
            take()
        feeder.join()
        if feeder.error is not None:
            print(f"FAILED: the feeder stopped: {feeder.error!r}")
            server.report_failure()
            return 1
        elapsed = time.monotonic() - started
        conformed, dead, parked = drain(client, feeder.sent, timeout=180.0)
        end_rss = rss_mb(server.pid)
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(dead_by_reason(client).items()))
        print(f"dead letters by reason: {reasons or 'none'}")
    return verdict(args, samples, feeder, (conformed, dead, parked), end_rss, elapsed)


def verdict(
    args: argparse.Namespace,
    samples: list[Sample],
    feeder: Feeder,
    fates: tuple[int, int, int],
    end_rss: float,
    elapsed: float,
) -> int:
    conformed, dead, parked = fates
    total = conformed + dead + parked
    print(
        f"drained: conformed {conformed:,} + dead letters {dead:,} + parked {parked:,} = "
        f"{total:,} of {feeder.sent:,} accepted ({feeder.rejected} rejected at ingest); "
        f"RSS after drain {end_rss:.1f} MB"
    )
    print(
        f"{feeder.sent:,} events in {elapsed:.0f} s = {feeder.sent / elapsed:,.0f} events/s "
        f"end to end ({feeder.stalled_s:.0f} s waiting on the worker)"
    )
    warm_at = args.events * 0.2
    warm = next((s for s in samples if s.sent >= warm_at), samples[0])
    growth = end_rss - warm.rss_mb
    flat = growth <= max(FLAT_MB, FLAT_RATIO * warm.rss_mb)
    exact = total == feeder.sent and feeder.rejected == 0
    print(
        f"VERDICT memory: RSS {warm.rss_mb:.1f} MB at {warm.sent:,} -> {end_rss:.1f} MB at end: "
        f"{growth:+.1f} MB ({100 * growth / warm.rss_mb:+.1f} %) -> "
        f"{'FLAT' if flat else 'GROWING'} (limit {FLAT_RATIO:.0%} or {FLAT_MB:.0f} MB)"
    )
    print(
        f"VERDICT outputs: conformed + dead + parked {'==' if exact else '!='} sent "
        f"({total:,} vs {feeder.sent:,}) -> {'OK' if exact else 'MISMATCH'}"
    )
    return 0 if flat and exact else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
