"""Run the app under gunicorn in a subprocess, with production settings, for process-level tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import servertools
from servertools import ROOT, free_port

__all__ = ["Answer", "fetch", "free_port", "gunicorn", "manage", "served", "server_env"]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings on plain loopback HTTP (no TLS proxy in front in tests)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pnetsite.test_settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DATABASE_URL=database_url,
        GUNICORN_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=300)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def fetch(url: str, *, data: bytes | None = None, content_type: str = "application/json") -> Answer:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int = 2, ready_path: str = "/static/pathways/app.js"
) -> Iterator[str]:
    """Start gunicorn on a free loopback port; yield its base URL; stop it (always)."""
    port = free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    # Any answer will do: with its database down the app answers 503, and that is what some tests want.
    ready = servertools.answers(ready_path, ok=lambda status: True)
    with servertools.gunicorn(port=port, env=env, ready=ready) as server:
        yield server.url


@contextmanager
def served(env: dict[str, str], runtime: str, *, workers: int = 2) -> Iterator[str]:
    """Start the stack as `make serve` does (nginx in front of gunicorn); yield its URL; stop it."""
    port = free_port()
    env = {
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "SERVE_RUNTIME_DIR": runtime,
    }
    with servertools.serve(
        [sys.executable, "deploy/serve.py"],
        port=port,
        env=env,
        ready=servertools.answers("/static/pathways/app.js"),  # nginx answers 502 until gunicorn is up
        name="make serve's stack",
        stop_timeout=45,
    ) as server:
        yield server.url
