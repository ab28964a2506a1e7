"""Run simulated clinicians doing full walks and print throughput, latency percentiles and errors.

    python -m loadtest --url http://127.0.0.1:8000 --clinicians 50 --duration 60
    python -m loadtest --serve --clinicians 50 --duration 60     # starts gunicorn itself

With ``--serve`` the database is ``DATABASE_URL`` (PostgreSQL for real figures; SQLite in a
temporary folder when unset): it is migrated, static files are collected into a temporary
folder and gunicorn is started with production settings on a free loopback port, then stopped.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import servertools

from .client import Sample, Session, WalkError, walk

ROOT = Path(__file__).resolve().parent.parent
STEP_KINDS = ("step GET", "step POST")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


class Recorder:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.measure_from = 0.0
        self.warmup = 0
        self.walks = 0
        self.walk_errors: list[str] = []
        self.outcomes: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def record(self, sample: Sample) -> None:
        with self._lock:
            if sample.ok and time.monotonic() < self.measure_from:
                self.warmup += 1  # latency while workers fill their caches is not counted
                return
            self.samples.append(sample)

    def finished(self, outcome: str) -> None:
        with self._lock:
            self.walks += 1
            self.outcomes[outcome] += 1

    def failed(self, message: str) -> None:
        with self._lock:
            self.walk_errors.append(message)


def clinician(index: int, args: argparse.Namespace, recorder: Recorder, deadline: float) -> None:
    rng = random.Random(args.seed * 1000 + index)  # noqa: S311 - varied answers, not secrets

    def think() -> None:
        if args.think > 0:
            time.sleep(rng.uniform(0.5, 1.5) * args.think)

    # Stagger the start so the clinicians do not arrive in lockstep.
    time.sleep(rng.uniform(0, min(2.0, args.think or 0.2)))
    while time.monotonic() < deadline:
        session = Session(args.url, timeout=args.timeout, record=recorder.record)
        try:
            recorder.finished(walk(session, args.pathway, rng, think))
        except WalkError as error:
            recorder.failed(str(error))
            time.sleep(0.2)
        finally:
            session.close()


def report(recorder: Recorder, elapsed: float, args: argparse.Namespace) -> bool:
    samples = recorder.samples
    errors = [s for s in samples if not s.ok]
    print(
        f"\n{args.clinicians} clinicians, {elapsed:.1f} s, think time {args.think:g} s per step, {args.url}"
    )
    print(f"warm-up: {args.warmup:g} s ({recorder.warmup} requests not timed; their errors count)")
    print(f"walks completed: {recorder.walks}  walk errors: {len(recorder.walk_errors)}")
    print(f"requests: {len(samples)}  requests/s: {len(samples) / elapsed:.1f}  errors: {len(errors)}")
    print(f"{'kind':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    kinds = ["intro", "start", *STEP_KINDS, "result"]
    groups = {kind: sorted(s.seconds * 1000 for s in samples if s.kind == kind) for kind in kinds}
    groups["steps"] = sorted(s.seconds * 1000 for s in samples if s.kind in STEP_KINDS)
    groups["all"] = sorted(s.seconds * 1000 for s in samples)
    for kind, values in groups.items():
        if values:
            p50, p95, p99 = (percentile(values, f) for f in (0.50, 0.95, 0.99))
            print(f"{kind:<10} {len(values):>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {values[-1]:>8.1f}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"load generator CPU: {cpu:.1f} s ({cpu / elapsed:.0%} of one core); machine load average: {_load()}"
    )
    for message in recorder.walk_errors[:10]:
        print(f"  error: {message}")
    step_p95 = percentile(groups["steps"], 0.95)
    ok = not errors and not recorder.walk_errors and recorder.walks > 0
    if args.p95_budget_ms and not step_p95 <= args.p95_budget_ms:
        print(f"FAIL: p95 of a step {step_p95:.1f} ms is over the budget of {args.p95_budget_ms:g} ms")
        ok = False
    print("PASS" if ok else "FAIL")
    return ok


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by process ``pid`` and its children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return None
    return total


@contextmanager
def served(args: argparse.Namespace) -> Iterator[str]:
    """Migrate, collect static files and run gunicorn with production settings; yield its URL."""
    with tempfile.TemporaryDirectory(prefix="pnet-load-") as tmp:
        port = servertools.free_port()
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="pnetsite.settings",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on loopback: no TLS in front of gunicorn here.
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_SECURE_COOKIES="0",
            DJANGO_STATIC_ROOT=str(Path(tmp) / "static"),
            DATABASE_URL=env.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'load.sqlite3'}",
            HOST="127.0.0.1",
            PORT=str(port),
            GUNICORN_LOG_LEVEL="warning",
        )
        if args.workers:
            env["WEB_CONCURRENCY"] = str(args.workers)
        python = sys.executable
        for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
            subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True)  # noqa: S603
        log = Path(tmp) / "gunicorn.log"
        ready = servertools.answers("/", ok=lambda status: status == 200)
        with servertools.gunicorn(port=port, env=env, ready=ready, log=log) as server:
            database = env["DATABASE_URL"].split("@")[-1]
            print(f"gunicorn (pid {server.process.pid}) on {server.url}, database {database}")
            args.server_pid = server.process.pid
            try:
                yield server.url
            finally:
                tail = server.log_tail(4000).strip()  # what the workers logged (level warning)
                if tail:
                    print(f"gunicorn log (end):\n{tail}")


def run(args: argparse.Namespace) -> bool:
    recorder = Recorder()
    started = time.monotonic()
    recorder.measure_from = started + args.warmup
    deadline = recorder.measure_from + args.duration
    threads = [
        threading.Thread(target=clinician, args=(index, args, recorder, deadline), daemon=True)
        for index in range(args.clinicians)
    ]
    cpu: list[float | None] = []
    pid = getattr(args, "server_pid", None)
    timer = threading.Timer(args.warmup, lambda: cpu.append(server_cpu_seconds(pid) if pid else None))
    timer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        # A walk in progress at the deadline finishes; the timeout bounds a stuck one.
        thread.join(timeout=args.duration + args.timeout + 60)
    timer.join()
    elapsed = time.monotonic() - recorder.measure_from
    if pid and cpu and cpu[0] is not None:
        after = server_cpu_seconds(pid)
        if after is not None and recorder.samples:
            per_request = (after - cpu[0]) / len(recorder.samples)
            cores = os.cpu_count() or 1
            print(
                f"server CPU: {per_request * 1000:.1f} ms per request (gunicorn master and workers);"
                f" {cores} cores would serve about {cores / per_request:.0f} requests/s if nothing else ran"
            )
    return report(recorder, elapsed, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="server to load (loopback only)")
    parser.add_argument("--serve", action="store_true", help="start gunicorn (production settings) first")
    parser.add_argument("--clinicians", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds; walks in progress finish")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds a clinician reads a step")
    parser.add_argument("--pathway", default="pnet")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers with --serve (default: config)"
    )
    parser.add_argument("--p95-budget-ms", type=float, default=0, help="fail when a step's p95 is over this")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds run first, not timed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    host = args.url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if not args.serve and host not in {"127.0.0.1", "localhost", "[::1]"}:
        parser.error("--url must be a loopback address")
    if args.serve:
        with served(args) as url:
            args.url = url
            return 0 if run(args) else 1
    return 0 if run(args) else 1


if __name__ == "__main__":
    sys.exit(main())
