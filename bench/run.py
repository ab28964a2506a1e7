"""Benchmark the wizard: step cost against a bare view, queries, engine scaling, page weight.

Run with ``make bench`` (or ``python -m bench.run [--small]``). Prints one ``name value unit`` line
per figure, then a short table. Everything runs on loopback against a temporary database (a SQLite
file, or a throwaway PostgreSQL database next to ``DATABASE_URL`` when that is set), migrated for
the run and removed afterwards; the server is gunicorn with the production settings plus a bare
view (``bench/urls.py``).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import servertools

ROOT = Path(__file__).resolve().parent.parent
NAMES = (
    ("step_vs_bare_ratio", "x"),
    ("queries_first_step", "queries"),
    ("queries_deepest_step", "queries"),
    ("queries_per_step", "queries"),
    ("engine_eval_us_pnet", "us"),
    ("engine_eval_us_10k", "us"),
    ("snapshot_build_ms_pnet", "ms"),
    ("snapshot_build_ms_10k", "ms"),
    ("first_load_kb", "KB"),
    ("step_swap_kb", "KB"),
    ("validate_ms_pnet", "ms"),
    ("validate_ms_10k", "ms"),
)
GOALS = {
    "step_vs_bare_ratio": ">= 0.5",
    "queries_per_step": "<= 4, first = deepest",
    "engine_eval_us_10k": "< 1000, flat in graph size",
    "first_load_kb": "<= 80",
    "step_swap_kb": "<= 10",
}
KB = 1024
FORM_ENCODED = "application/x-www-form-urlencoded"  # what htmx sends a form as
ASSETS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


@dataclass
class Options:
    small: bool
    requests: int
    seconds: float
    burst: int
    workers: int
    threads: int
    nodes: int
    depth: int
    profile: int | None = None
    worker_class: str = "gthread"


@dataclass
class Report:
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any) -> None:
        self.figures[name] = value


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a quick run (CI): few requests, short timings")
    parser.add_argument("--requests", type=int, help="step requests to time (the bare view gets as many)")
    parser.add_argument("--seconds", type=float, help="stop the HTTP measurement after this long")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (default 1)")
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=("gthread", "sync"),
        help="gthread keeps connections alive (default); sync is what gunicorn.conf.py serves with",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="only profile N in-process step requests with cProfile and print where the time goes",
    )
    parser.add_argument("--nodes", type=int, default=10_000, help="nodes of the generated pathway")
    parser.add_argument("--depth", type=int, default=40, help="path length of the generated pathway")
    args = parser.parse_args(argv)
    requests = args.requests or (200 if args.small else 3000)
    seconds = args.seconds or (10.0 if args.small else 60.0)
    return Options(
        small=args.small,
        requests=requests,
        seconds=seconds,
        burst=min(100, requests),
        workers=args.workers,
        threads=args.threads,
        nodes=args.nodes,
        depth=args.depth,
        profile=args.profile,
        worker_class=args.worker_class,
    )


# --------------------------------------------------------------------------------------------
# Environment: a throwaway database and static root, production settings on plain loopback HTTP.


@contextmanager
def bench_environment(tmp: Path) -> Iterator[dict[str, str]]:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_LOG_LEVEL": "ERROR",
        "BENCH_STATIC_ROOT": str(tmp / "static"),
    }
    drop: Callable[[], None] | None = None
    source = os.environ.get("DATABASE_URL", "")
    if source.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"], drop = _postgres_database(source)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.update(env)
    try:
        yield env
    finally:
        if drop is not None:
            drop()


def _postgres_database(source: str) -> tuple[str, Callable[[], None]]:
    """Create ``<name>_bench_<pid>`` on the same server; never touch the configured database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(source)
    name = f"{parts.path.lstrip('/') or 'pnet'}_bench_{os.getpid()}"
    admin = parts._replace(path="/postgres").geturl()

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return parts._replace(path=f"/{name}").geturl(), drop


def setup_django() -> None:
    import django
    from django.core.management import call_command

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


# --------------------------------------------------------------------------------------------
# Cases: the deepest walk of the PNET pathway, as form posts.


@dataclass(frozen=True)
class Step:
    node: str
    data: dict[str, str]


def form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def steps_for(snapshot: Any, answers: dict[str, Any]) -> list[Step]:
    """The posts that walk ``answers`` from the start, one per question on the path."""
    from pathways import engine

    result = engine.evaluate(snapshot, answers)
    steps = []
    for slug in result.path:
        node = snapshot.nodes[slug]
        if node.kind != engine.QUESTION:
            continue
        steps.append(
            Step(slug, {key: form_value(answers[key]) if key in answers else "" for key in node.fields})
        )
    return steps


def deepest_case(snapshot: Any) -> dict[str, Any]:
    from pathways import engine

    best: dict[str, Any] = {}
    best_length = -1
    for answers, result in engine.enumerate_cases(snapshot):
        if len(result.path) > best_length:
            best, best_length = answers, len(result.path)
    return best


def toggle_for(snapshot: Any, answers: dict[str, Any], steps: list[Step]) -> tuple[Step, Step]:
    """Two posts to an earlier question that both leave the walk at the same current step.

    Alternating them answers a question on every request (each post is valid for the walk's
    revision) and renders the same next step, so the loop measures one kind of request.
    """
    from pathways import engine

    last_fields = snapshot.nodes[steps[-1].node].fields
    partial = {key: value for key, value in answers.items() if key not in last_fields}
    base = engine.evaluate(snapshot, partial)
    cuts = engine.thresholds(snapshot)
    for step in reversed(steps[:-1]):
        node = snapshot.nodes[step.node]
        for key in node.fields:
            variable = snapshot.variables[key]
            for value in engine.representatives(variable, cuts.get(key, [])):
                if key not in partial or value == partial[key]:
                    continue
                _, changed = engine.prune(snapshot, {**partial, key: value})
                if changed.current == base.current and changed.path == base.path:
                    other = Step(step.node, {**step.data, key: form_value(value)})
                    return other, step
    raise RuntimeError("no earlier answer can change without re-routing the walk")


# --------------------------------------------------------------------------------------------
# In-process figures: engine, snapshots, queries, validation.


def best_us(func: Callable[[], Any], *, budget: float) -> float:
    """Per-call time in microseconds: the best of five runs sized to fit ``budget`` seconds.

    The best run is the least disturbed by other processes (timeit's advice); the spread between
    runs is noise, not the code.
    """
    once = timeit.timeit(func, number=1)
    number = max(1, int(budget / 5 / max(once, 1e-7)))
    runs = timeit.repeat(func, number=number, repeat=5)
    return min(runs) / number * 1e6


def measure_engine(report: Report, options: Options) -> dict[str, Any]:
    from bench import generate
    from pathways import engine
    from pathways.content_io import load_bundled
    from pathways.document import snapshot_from_document

    budget = 0.2 if options.small else 1.0
    pnet = snapshot_from_document(load_bundled("pnet"))
    case = deepest_case(pnet)
    report.set("engine_eval_us_pnet", best_us(lambda: engine.evaluate(pnet, case), budget=budget))
    report.notes.append(f"PNET deepest walk: {len(engine.evaluate(pnet, case).path)} nodes")

    document = generate.generate(options.nodes, options.depth)
    started = time.perf_counter()
    big = snapshot_from_document(document)
    build_ms = (time.perf_counter() - started) * 1e3
    big_case = generate.complete_case(document)
    result = engine.evaluate(big, big_case)
    if not result.complete or len(result.path) != options.depth:
        raise RuntimeError(f"generated walk is {len(result.path)} nodes, expected {options.depth}")
    report.set("engine_eval_us_10k", best_us(lambda: engine.evaluate(big, big_case), budget=budget))
    # The cost should follow the path, not the graph: the same depth on a tenth of the nodes,
    # and the same nodes with half the depth.
    variants = {}
    for nodes, depth in (
        (max(options.depth, options.nodes // 10), options.depth),
        (options.nodes, options.depth // 2),
    ):
        doc = generate.generate(nodes, depth)
        snap = snapshot_from_document(doc)
        answers = generate.complete_case(doc)
        variants[(nodes, depth)] = best_us(partial(engine.evaluate, snap, answers), budget=budget)
    shown = "; ".join(f"{nodes} nodes, depth {depth}: {us:.0f} us" for (nodes, depth), us in variants.items())
    report.notes.append(
        f"generated pathway: {len(document['nodes'])} nodes, {len(document['edges'])} edges, "
        f"depth {options.depth}; evaluate on {shown}"
    )
    return {"document": document, "build_ms": build_ms, "pnet_case": case}


def measure_snapshots(report: Report, options: Options, generated: dict[str, Any]) -> None:
    """A cache miss in production: read the version's rows and build the snapshot."""
    from pathways import selectors
    from pathways.document import snapshot_from_document
    from pathways.models import PathwayVersion

    version = PathwayVersion.objects.select_related("pathway").get(pathway__slug="pnet", status="published")
    timings = []
    for _ in range(3 if options.small else 10):
        selectors.clear_snapshot_cache()
        started = time.perf_counter()
        selectors.snapshot_for(version)
        timings.append((time.perf_counter() - started) * 1e3)
    report.set("snapshot_build_ms_pnet", statistics.median(timings))

    document = generated["document"]
    started = time.perf_counter()
    snapshot_from_document(json.loads(json.dumps(document)))
    pure_ms = (time.perf_counter() - started) * 1e3
    report.set("snapshot_build_ms_10k", pure_ms)
    report.notes.append(
        "snapshot_build_ms_pnet: database read + build (selectors.snapshot_for, cache cleared); "
        "snapshot_build_ms_10k: build from the document only"
    )


def measure_queries(report: Report, case: dict[str, Any]) -> dict[str, Any]:
    """Queries of one htmx step POST, in process, for the first step and the deepest one."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from pathways import selectors
    from pathways.models import PathwayVersion

    version = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    snapshot = selectors.snapshot_for(version)
    steps = steps_for(snapshot, case)
    client = Client(HTTP_HX_REQUEST="true")
    started = client.post("/pathways/pnet/")
    url = started["HX-Push-Url"]
    counts = []
    for revision, step in enumerate(steps):
        step_url = url.rsplit("/steps/", 1)[0] + f"/steps/{step.node}/"
        with CaptureQueriesContext(connection) as captured:
            response = client.post(step_url, {**step.data, "revision": revision})
        if response.status_code != 200:
            raise RuntimeError(f"step {step.node}: HTTP {response.status_code}")
        counts.append(len(captured.captured_queries))
        url = response["HX-Push-Url"]
    report.set("queries_first_step", counts[0])
    report.set("queries_deepest_step", counts[-1])
    report.set("queries_per_step", max(counts[0], counts[-1]))
    report.notes.append(f"queries per step along the deepest walk: {counts}")
    return {"steps": steps}


def measure_validation(report: Report, options: Options, generated: dict[str, Any]) -> None:
    """The publish gate on the PNET document and on the generated one (one run each)."""
    if importlib.util.find_spec("pathways.validation") is None:
        report.set("validate_ms_pnet", "n/a")
        report.set("validate_ms_10k", "n/a")
        report.notes.append("validate_*: n/a, pathways.validation does not exist yet")
        return
    from pathways import validation
    from pathways.content_io import load_bundled

    documents = {"pnet": load_bundled("pnet")}
    if options.small:
        report.set("validate_ms_10k", "n/a")
        report.notes.append("validate_ms_10k: skipped with --small (it enumerates every class of walk)")
    else:
        documents["10k"] = generated["document"]
    for name, document in documents.items():
        started = time.perf_counter()
        checked = validation.check_document(document)
        report.set(f"validate_ms_{name}", (time.perf_counter() - started) * 1e3)
        report.notes.append(
            f"validate {name}: {getattr(checked, 'classes', '?')} classes of walk, "
            f"{len(getattr(checked, 'errors', ()))} errors, {len(getattr(checked, 'warnings', ()))} warnings"
        )


# --------------------------------------------------------------------------------------------
# The server: gunicorn on a free loopback port, a keep-alive client, interleaved bursts.


@contextmanager
def gunicorn(options: Options, tmp: Path) -> Iterator[int]:
    port = servertools.free_port()
    args = [
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        options.worker_class,
        "--threads",
        str(options.threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
    ]
    with servertools.gunicorn(port=port, args=args, log=tmp / "gunicorn.log", stop_timeout=15):
        yield port


class Browser:
    """One keep-alive connection with a cookie jar, sending what htmx would send."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.client = servertools.Client(f"http://127.0.0.1:{port}", timeout=10)
        self.origin = self.client.origin
        self.cookies = self.client.cookies
        self.form_token = ""  # the CSRF token of the last step form received

    def keep_form_token(self, body: bytes) -> None:
        token = _input_value(body, b"csrfmiddlewaretoken")
        if token is None:
            raise RuntimeError("the step response has no CSRF token in its form")
        self.form_token = token.decode()

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, Any] | None = None,
        htmx: bool = False,
        encoding: str = "identity",
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Encoding": encoding}
        body = None
        if method == "POST":
            headers["Origin"] = self.origin
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Content-Type"] = FORM_ENCODED
            body = urlencode(form or {}).encode()
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = self.origin + path
        response = self.client.request(method, path, body=body, headers=headers)
        return response.status, response.headers, response.body

    def close(self) -> None:
        self.client.close()


def step_path(walk_url: str, node: str) -> str:
    return walk_url.split("/steps/", 1)[0].rstrip("/") + f"/steps/{node}/"


def start_walk(browser: Browser) -> str:
    browser.cookies.pop("walk_pnet", None)  # else the intro page resumes the previous walk
    status, _, _ = browser.request("GET", "/pathways/pnet/")
    if status != 200 or "csrftoken" not in browser.cookies:
        raise RuntimeError(f"intro page: HTTP {status}, cookies {sorted(browser.cookies)}")
    status, headers, body = browser.request("POST", "/pathways/pnet/", htmx=True)
    if status != 200:
        raise RuntimeError(f"start: HTTP {status}")
    browser.keep_form_token(body)
    return urlsplit(headers["hx-push-url"]).path


def post_step(
    browser: Browser, walk_url: str, step: Step, revision: int
) -> tuple[int, dict[str, str], bytes]:
    # As htmx posts a form: its fields, the CSRF token among them.
    form = {**step.data, "revision": revision, "csrfmiddlewaretoken": browser.form_token}
    status, headers, body = browser.request("POST", step_path(walk_url, step.node), form=form, htmx=True)
    if status != 200:
        raise RuntimeError(f"step {step.node} at revision {revision}: HTTP {status}: {body[:300]!r}")
    browser.keep_form_token(body)
    return status, headers, body


def next_revision(body: bytes) -> int:
    revision = _input_value(body, b"revision")
    if revision is None or not revision.isdigit():
        raise RuntimeError("the step response has no revision field")
    return int(revision)


def _input_value(body: bytes, name: bytes) -> bytes | None:
    """The value of the input ``name`` as the templates write it (``name="..." value="..."``):
    found with ``bytes.find``, so that the client's reading costs the timed request little."""
    anchor = b'name="' + name + b'" value="'
    start = body.find(anchor)
    if start < 0:
        return None
    start += len(anchor)
    end = body.find(b'"', start)
    return body[start:end] if end >= 0 else None


def measure_http(
    report: Report, options: Options, port: int, steps: list[Step], snapshot: Any, case: Any
) -> None:
    browser = Browser(port)
    try:
        _page_weight(report, browser, steps)
        walk_url = start_walk(browser)
        revision = 0
        for step in steps[:-1]:
            _, _, body = post_step(browser, walk_url, step, revision)
            revision = next_revision(body)
        toggles = toggle_for(snapshot, case, steps)
        report.notes.append(
            f"step request: htmx POST at '{toggles[0].node}' (changing an earlier answer back and forth), "
            f"rendering the step '{steps[-1].node}' with {len(steps) - 1} answers in the trail"
        )
        state = {"revision": revision, "flip": 0}

        def step_request() -> None:
            _, _, body = post_step(browser, walk_url, toggles[state["flip"]], state["revision"])
            state["revision"] = next_revision(body)
            state["flip"] ^= 1

        def bare_request() -> None:
            status, _, _ = browser.request("POST", "/bench/bare/", form={"x": "1"})
            if status != 200:
                raise RuntimeError(f"bare view: HTTP {status}")

        for _ in range(min(50, options.burst)):  # warm both paths in the worker
            step_request()
            bare_request()
        totals = {"step": [0, 0.0], "bare": [0, 0.0]}
        deadline = time.monotonic() + options.seconds
        order = [("bare", bare_request), ("step", step_request)]
        while totals["step"][0] < options.requests and time.monotonic() < deadline:
            for name, func in order:
                started = time.perf_counter()
                for _ in range(options.burst):
                    func()
                totals[name][0] += options.burst
                totals[name][1] += time.perf_counter() - started
            order.reverse()
        step_rps = totals["step"][0] / totals["step"][1]
        bare_rps = totals["bare"][0] / totals["bare"][1]
        report.set("step_vs_bare_ratio", step_rps / bare_rps)
        report.notes.append(
            f"step {step_rps:.0f} req/s, bare {bare_rps:.0f} req/s "
            f"({totals['step'][0]} requests each, interleaved in bursts of {options.burst}; "
            f"gunicorn {options.worker_class}, {options.workers} worker x {options.threads} thread, "
            "one client)"
        )
    finally:
        browser.close()


def _page_weight(report: Report, browser: Browser, steps: list[Step]) -> None:
    """What a browser downloads for the first step (compressed as served) and for one swap."""
    walk_url = start_walk(browser)
    accept = "gzip, deflate, br"
    status, headers, html = browser.request("GET", step_path(walk_url, steps[0].node), encoding=accept)
    if status != 200:
        raise RuntimeError(f"first step page: HTTP {status}")
    sizes = {"html": len(html)}
    encodings = {"html": headers.get("content-encoding", "none")}
    page = _decoded(html, headers).decode()
    for asset in ASSETS.findall(page):
        status, headers, body = browser.request("GET", asset, encoding=accept)
        if status != 200:
            raise RuntimeError(f"{asset}: HTTP {status}")
        sizes[asset] = len(body)
        encodings[asset] = headers.get("content-encoding", "none")
    report.set("first_load_kb", sum(sizes.values()) / KB)
    shown = ", ".join(
        f"{Path(name).name} {size / KB:.1f} KB ({encodings[name]})" for name, size in sizes.items()
    )
    report.notes.append(f"first load: {shown}")

    _, headers, body = post_step(browser, walk_url, steps[0], 0)
    encoding = headers.get("content-encoding", "none")
    raw = _decoded(body, headers)
    report.set("step_swap_kb", len(body) / KB)
    report.notes.append(
        f"step swap: {len(body) / KB:.1f} KB as sent (content-encoding: {encoding}); "
        f"{len(gzip.compress(raw)) / KB:.1f} KB if gzipped"
    )


def _decoded(body: bytes, headers: dict[str, str]) -> bytes:
    return gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body


# --------------------------------------------------------------------------------------------


def render(report: Report) -> str:
    lines = []
    for name, unit in NAMES:
        value = report.figures.get(name, "n/a")
        lines.append(f"{name} {_fmt(value)} {unit}" if value != "n/a" else f"{name} n/a {unit}")
    lines.append("")
    width = max(len(name) for name, _ in NAMES)
    lines.append(f"{'figure':<{width}}  {'value':>10}  {'unit':<8} goal")
    lines.append(f"{'-' * width}  {'-' * 10}  {'-' * 8} {'-' * 28}")
    for name, unit in NAMES:
        value = report.figures.get(name, "n/a")
        lines.append(f"{name:<{width}}  {_fmt(value):>10}  {unit:<8} {GOALS.get(name, '')}")
    lines.append("")
    lines.extend(f"- {note}" for note in report.notes)
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def profile_steps(count: int) -> str:
    """cProfile ``count`` step requests (the benchmark's request, in process) and summarise."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    from pathways import selectors
    from pathways.models import PathwayVersion

    version = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
    snapshot = selectors.snapshot_for(version)
    case = deepest_case(snapshot)
    steps = steps_for(snapshot, case)
    # The HTTP measurement's request: CSRF checked, its token in the header and in the form, the
    # form encoded as htmx sends it (the test client's defaults, no check and multipart, would
    # profile a fresh token and a parser that no step request costs).
    client = Client(enforce_csrf_checks=True, HTTP_HX_REQUEST="true")
    client.get("/pathways/pnet/")
    header = {"X-CSRFToken": client.cookies["csrftoken"].value}
    response = client.post("/pathways/pnet/", headers=header)
    walk_url = response["HX-Push-Url"]
    token = [_input_value(response.content, b"csrfmiddlewaretoken") or b""]

    def post(step: Step, revision: int) -> int:
        form = {**step.data, "revision": revision, "csrfmiddlewaretoken": token[0].decode()}
        response = client.post(
            step_path(walk_url, step.node), urlencode(form), content_type=FORM_ENCODED, headers=header
        )
        if response.status_code != 200:
            raise RuntimeError(f"step {step.node} at revision {revision}: HTTP {response.status_code}")
        token[0] = _input_value(response.content, b"csrfmiddlewaretoken") or b""
        return next_revision(response.content)

    revision = 0
    for step in steps[:-1]:
        revision = post(step, revision)
    toggles = toggle_for(snapshot, case, steps)

    def requests(number: int, state: list[int]) -> None:
        for index in range(number):
            state[0] = post(toggles[index % 2], state[0])

    state = [revision]
    requests(20, state)  # warm the caches; an even count keeps the toggle in step
    profiler = cProfile.Profile()
    profiler.enable()
    requests(count - count % 2 or 2, state)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"pathways/|template_partials|crispy_forms_tags|views/decorators", 30
    )
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    report = Report()
    tmp = Path(tempfile.mkdtemp(prefix="pnet-bench-"))
    try:
        with bench_environment(tmp):
            setup_django()
            if options.profile:
                print(profile_steps(options.profile))
                return 0
            from pathways import selectors
            from pathways.models import PathwayVersion

            generated = measure_engine(report, options)
            measure_snapshots(report, options, generated)
            case = generated["pnet_case"]
            queries = measure_queries(report, case)
            measure_validation(report, options, generated)
            version = PathwayVersion.objects.get(pathway__slug="pnet", status="published")
            snapshot = selectors.snapshot_for(version)
            from django.db import connections

            connections.close_all()
            with gunicorn(options, tmp) as port:
                measure_http(report, options, port, queries["steps"], snapshot, case)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
