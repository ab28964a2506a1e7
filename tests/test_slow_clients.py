"""Slow clients cannot starve the server: the stack `make serve` runs answers while they trickle.

Twelve connections each send a partial request header one byte at a time. Behind nginx (which
reads whole requests before passing them on) a normal page still answers at once; against bare sync
gunicorn the same clients hold every worker, and the page waits until gunicorn's worker timeout.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import gunicorn, manage, served, server_env

SLOW_CLIENTS = 12
WORKERS = 2
BOUND_SECONDS = 10


@contextmanager
def slow_clients(url: str, count: int = SLOW_CLIENTS) -> Iterator[None]:
    """Hold ``count`` connections that send a request header one byte every half second."""
    host, port = url.removeprefix("http://").split(":")
    header = (
        f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: slow\r\nX-Padding: ".encode() + b"a" * 1000
    )
    sockets = [socket.create_connection((host, int(port)), timeout=5) for _ in range(count)]
    stop = threading.Event()

    def trickle() -> None:
        for index in range(len(header)):
            for sock in sockets:
                with contextlib.suppress(OSError):  # the server may give up on one: allowed
                    sock.send(header[index : index + 1])
            if stop.wait(0.5):
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        time.sleep(1.5)  # let every slow connection be accepted and start its header
        yield
    finally:
        stop.set()
        sender.join(timeout=5)
        for sock in sockets:
            sock.close()


def page_answers_within(url: str, seconds: float) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/", timeout=seconds) as response:  # noqa: S310 - loopback only
            response.read()
            return response.status, time.monotonic() - started
    except TimeoutError:
        return None, time.monotonic() - started


@pytest.fixture
def runtime() -> Iterator[str]:
    """A short path: the unix socket's path must fit in about 100 characters."""
    with tempfile.TemporaryDirectory(prefix="pnet-serve-") as path:
        yield path


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, str]:
    database = tmp_path_factory.mktemp("slow") / "db.sqlite3"
    env = server_env(f"sqlite:///{database}")
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


def test_a_page_answers_while_a_dozen_slow_clients_trickle_their_headers(
    env: dict[str, str], runtime: str
) -> None:
    with served(env, runtime, workers=WORKERS) as url, slow_clients(url):
        status, elapsed = page_answers_within(url, BOUND_SECONDS)
    assert status == 200, f"no answer within {BOUND_SECONDS} s"
    assert elapsed < BOUND_SECONDS


def test_bare_sync_gunicorn_is_held_by_the_same_slow_clients(env: dict[str, str]) -> None:
    """Why nginx is in front: without it the page waits for a worker that a slow client holds."""
    with gunicorn(env, workers=WORKERS) as url, slow_clients(url):
        status, elapsed = page_answers_within(url, 5)
    assert status is None, f"bare gunicorn answered in {elapsed:.1f} s"


def test_a_40_mb_upload_is_refused_by_nginx_from_its_length(env: dict[str, str], runtime: str) -> None:
    with served(env, runtime) as url:
        host, port = url.removeprefix("http://").split(":")
        head = (
            f"POST /pathways/pnet/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {40 * 1024 * 1024}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(head + b"x" * 16 * 1024)
            sock.settimeout(5)
            answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"does not accept files" in answer


def status_of(url: str, **headers: str) -> int:
    request = urllib.request.Request(url + "/", headers=headers)  # noqa: S310 - loopback only
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_nginx_passes_the_scheme_only_from_trusted_proxies(env: dict[str, str], runtime: str) -> None:
    behind = {**env, "DJANGO_BEHIND_PROXY": "1", "DJANGO_SECURE_SSL_REDIRECT": "1"}
    with served(behind, runtime) as url:
        assert status_of(url) == 301  # plain HTTP from the (trusted) local proxy: to https
        assert status_of(url, **{"X-Forwarded-Proto": "https"}) == 200
        assert status_of(url, **{"X-Forwarded-Ssl": "on"}) == 301  # gunicorn's other headers are dropped
    untrusted = {**behind, "FORWARDED_ALLOW_IPS": "192.0.2.1"}
    with served(untrusted, runtime) as url:
        assert status_of(url, **{"X-Forwarded-Proto": "https"}) == 301
