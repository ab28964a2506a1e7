"""Run the app's servers in subprocesses and talk to them over loopback HTTP.

Shared by the benchmark (``bench/``), the load test (``loadtest/``) and the process-level tests
(``tests/servers.py``); the web app itself never imports it. Standard library only.

- ``free_port()``: a free loopback TCP port.
- ``serve(command, port=...)``: start any server command, wait until ``ready`` says it answers,
  yield a ``Server``; always stop it (SIGTERM, then SIGKILL). Its output goes to ``log``.
- ``gunicorn(port=...)``: ``serve`` for the app under gunicorn with ``gunicorn.conf.py``.
- ``Client``: one keep-alive connection with a cookie jar.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
LOOPBACK = "127.0.0.1"

Ready = Callable[[str], bool]


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers(path: str = "/", *, ok: Callable[[int], bool] = lambda status: status < 500) -> Ready:
    """Ready when a GET of ``path`` answers with a status ``ok`` accepts (default: below 500,
    since a proxy answers 502 until the app behind it is up)."""

    def check(url: str) -> bool:
        client = Client(url, timeout=5)
        try:
            return ok(client.request("GET", path).status)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            client.close()

    return check


def listening(url: str) -> bool:
    """Ready when the port accepts a connection."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or LOOPBACK, parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@contextmanager
def serve(
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str] | None = None,
    ready: Ready = listening,
    log: Path | None = None,
    name: str = "server",
    start_timeout: float = 30,
    stop_timeout: float = 30,
) -> Iterator[Server]:
    """Run ``command`` (from the project root) listening on loopback ``port``; yield it once ready.

    stdout and stderr go to ``log`` (a temporary file, removed afterwards, when not given); a
    server that exits or does not get ready raises ``RuntimeError`` with the end of its log.
    """
    with tempfile.TemporaryDirectory(prefix="pnet-server-") as tmp:
        log_path = log or Path(tmp) / f"{name}.log"
        with log_path.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own server commands
                list(command),
                cwd=ROOT,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://{LOOPBACK}:{port}", port, process, log_path)
        try:
            _wait_until_ready(server, ready, name, start_timeout)
            yield server
        finally:
            stop(process, timeout=stop_timeout)


def _wait_until_ready(server: Server, ready: Ready, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {server.process.returncode}: {server.log_tail()}")
        if ready(server.url):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} was not ready within {timeout:g} s: {server.log_tail()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """SIGTERM (a graceful shutdown), then SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def gunicorn(
    *,
    port: int,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    ready: Ready = listening,
    log: Path | None = None,
    start_timeout: float = 30,
    stop_timeout: float = 30,
) -> AbstractContextManager[Server]:
    """``serve`` the app under gunicorn with ``gunicorn.conf.py`` (it reads HOST, PORT,
    WEB_CONCURRENCY...; ``args`` override it, e.g. ``["--bind", f"127.0.0.1:{port}"]``)."""
    command = [str(GUNICORN), "pnetsite.wsgi:application", "-c", "gunicorn.conf.py", *args]
    return serve(
        command,
        port=port,
        env=env,
        ready=ready,
        log=log,
        name="gunicorn",
        start_timeout=start_timeout,
        stop_timeout=stop_timeout,
    )


# ------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """One keep-alive connection with a minimal cookie jar (one host, no paths or expiry).

    A connection the server closed between two requests is reopened once.
    """

    base_url: str
    timeout: float = 30.0
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.host = parts.hostname or LOOPBACK
        self.port = parts.port or 80
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._connection.request(method, path, body=body, headers=sent)
                raw = self._connection.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.split(";", 1)[0].partition("=")
                    self.cookies[key.strip()] = rest.strip()
            if raw.will_close:
                self.close()
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
        raise AssertionError("unreachable")
