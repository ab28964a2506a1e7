"""No view accepts files: a file part or an oversized multipart body is refused before it is read."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pathways.models import Walk
from tests.servers import gunicorn, manage, server_env
from tests.walking import current_step, step_url, walk_with

API = "/api/pathways/pnet/evaluate"


def state(walk: Walk) -> tuple[dict[str, Any], int]:
    walk.refresh_from_db()
    return dict(walk.answers), walk.revision


@pytest.fixture
def first_walk(pnet_version: Any) -> Walk:
    walk = walk_with(pnet_version, {})
    assert current_step(walk) == "syndrome"
    return walk


def valid_answer(walk: Walk) -> dict[str, Any]:
    return {"revision": walk.revision, "suspected_syndrome": "none"}


@pytest.mark.django_db
def test_a_step_post_with_a_3_mb_file_part_beside_a_valid_answer_is_refused_and_saves_nothing(
    client: Client, first_walk: Walk
) -> None:
    before = state(first_walk)
    upload = SimpleUploadedFile("scan.pdf", b"%PDF" + b"x" * 3 * 1024 * 1024, content_type="application/pdf")
    response = client.post(step_url(first_walk), {**valid_answer(first_walk), "attachment": upload})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"does not accept files" in response.content
    assert state(first_walk) == before


@pytest.mark.django_db
def test_a_small_file_part_after_a_valid_answer_is_refused_and_saves_nothing(
    client: Client, first_walk: Walk
) -> None:
    before = state(first_walk)
    upload = SimpleUploadedFile("note.txt", b"hello", content_type="text/plain")
    response = client.post(step_url(first_walk), {**valid_answer(first_walk), "attachment": upload})
    assert response.status_code == 400
    assert b"does not accept files" in response.content
    assert state(first_walk) == before


@pytest.mark.django_db
def test_the_same_answer_without_a_file_is_still_saved(client: Client, first_walk: Walk) -> None:
    response = client.post(step_url(first_walk), valid_answer(first_walk))
    assert response.status_code == 303
    assert state(first_walk)[0] == {"suspected_syndrome": "none"}


@pytest.mark.django_db
def test_an_htmx_step_post_with_a_file_is_refused_with_the_page(client: Client, first_walk: Walk) -> None:
    upload = SimpleUploadedFile("x.html", b"<script>alert(1)</script>", content_type="text/html")
    response = client.post(
        step_url(first_walk), {**valid_answer(first_walk), "attachment": upload}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert b"<script>" not in response.content
    assert state(first_walk)[1] == 0


@pytest.mark.django_db
def test_an_oversized_multipart_body_to_the_api_is_refused_with_json(
    client: Client, pnet_version: Any
) -> None:
    response = client.post(API, {"case": "x" * 70_000})
    assert response.status_code == 413
    assert "case" in response.json()["errors"]


@pytest.mark.django_db
def test_a_file_sent_to_the_admin_login_is_refused(client: Client) -> None:
    upload = SimpleUploadedFile("a.txt", b"a", content_type="text/plain")
    response = client.post("/admin/login/", {"username": "x", "password": "y", "file": upload})
    assert response.status_code == 400


def first_answer_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sent before closing or before ``seconds`` passed (b"" if nothing)."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and b"\r\n\r\n" not in received:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    database = tmp_path_factory.mktemp("uploads") / "db.sqlite3"
    env = server_env(f"sqlite:///{database}")
    manage(env, "migrate", "--noinput", "-v", "0")
    with gunicorn(env, workers=1) as url:
        yield url


def test_a_40_mb_upload_is_answered_before_its_body_is_sent(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    boundary = "pnetboundary"
    head = (
        f"POST /pathways/pnet/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {40 * 1024 * 1024}\r\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b"x" * 16 * 1024)  # 16 KB of the announced 40 MB, then nothing
        started = time.monotonic()
        answer = first_answer_within(sock, 5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
