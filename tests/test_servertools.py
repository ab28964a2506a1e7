"""The server toolkit shared by the benchmark, the load test and the process-level tests."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import servertools

ROOT = Path(__file__).resolve().parent.parent


def test_the_web_app_never_imports_the_toolkit() -> None:
    for package in ("pathways", "pnetsite"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                assert not any(name.split(".")[0] == "servertools" for name in names), path


def test_a_server_that_exits_at_once_reports_its_log(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('no such setting', file=sys.stderr); sys.exit(3)"]
    log = tmp_path / "server.log"
    starting = servertools.serve(command, port=servertools.free_port(), log=log)
    with pytest.raises(RuntimeError, match=r"exited with status 3: no such setting"), starting:
        pass
    assert "no such setting" in log.read_text()


def test_serve_waits_until_ready_and_stops_the_server() -> None:
    port = servertools.free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with servertools.serve(command, port=port, ready=servertools.answers("/")) as server:
        client = servertools.Client(server.url)
        assert client.request("GET", "/README.md").status == 200
        assert client.request("GET", "/no-such-file").status == 404  # reconnects: HTTP/1.0 closes
        client.close()
    assert server.process.returncode is not None
    assert not servertools.listening(server.url)
