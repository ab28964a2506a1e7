"""Faults: the database down, failed writes, concurrent walks on SQLite, walk retention."""

from __future__ import annotations

import copy
import random
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.utils import timezone

from loadtest.client import Session, WalkError, walk
from pathways.content_io import import_document, load_bundled
from pathways.models import PathwayVersion, Walk
from tests.servers import fetch, free_port, gunicorn, manage, server_env
from tests.walking import walk_with

LEAKS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", "sqlite", 'File "')


def assert_static_503(response_status: int, headers: dict[str, str], body: str) -> None:
    assert response_status == 503
    assert headers["Retry-After"] == "30"
    assert "no-store" in headers["Cache-Control"]
    assert "Content-Security-Policy" in headers
    for leak in LEAKS:
        assert leak not in body, leak


class BrokenDatabaseMiddleware:
    """Fails the way session or auth middleware would if the database went away mid-request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise InterfaceError("connection already closed")


class BrokenEverythingMiddleware(BrokenDatabaseMiddleware):
    def __call__(self, request):
        raise RuntimeError("not a database problem")


# --- In process ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError("could not connect"), InterfaceError("closed")])
def test_database_failure_in_a_view_is_a_static_503(pnet_version, error):
    with mock.patch("pathways.selectors.published_pathways", side_effect=error):
        response = Client().get("/")
    assert_static_503(response.status_code, response, response.content.decode())
    assert "temporarily unavailable" in response.content.decode()


@pytest.mark.django_db
def test_database_failure_in_the_api_is_a_json_503(pnet_version):
    with mock.patch("pathways.selectors.published_version", side_effect=OperationalError("down")):
        response = Client().post("/api/pathways/pnet/evaluate", data={}, content_type="application/json")
    assert_static_503(response.status_code, response, response.content.decode())
    assert response.json() == {
        "errors": {"service": "The service is temporarily unavailable. Try again shortly."}
    }


@pytest.mark.django_db
def test_database_failure_outside_views_is_a_static_503(settings, pnet_version):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:4], "tests.test_faults.BrokenDatabaseMiddleware"]
    response = Client(raise_request_exception=False).get("/pathways/pnet/")
    assert_static_503(response.status_code, response, response.content.decode())


@pytest.mark.django_db
def test_other_failures_are_a_static_500_without_traceback(settings, pnet_version):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:4], "tests.test_faults.BrokenEverythingMiddleware"]
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "Traceback" not in body and "RuntimeError" not in body


@pytest.mark.django_db
def test_a_failed_import_leaves_no_half_written_version(pnet_version):
    document = copy.deepcopy(load_bundled("pnet"))
    document["edges"].append({"source": "syndrome", "target": "no-such-node", "order": 99})
    versions = PathwayVersion.objects.count()
    with pytest.raises(KeyError):
        import_document(document, status="published")
    assert PathwayVersion.objects.count() == versions
    pnet_version.refresh_from_db()
    assert pnet_version.status == "published"


@pytest.mark.django_db
def test_a_failed_step_write_changes_nothing(client, pnet_version):
    walk_row = walk_with(pnet_version, {})
    with mock.patch("pathways.services.engine.prune", side_effect=RuntimeError("boom")):
        response = Client(raise_request_exception=False).post(
            f"/pathways/pnet/walks/{walk_row.pk}/steps/syndrome/",
            {"revision": 0, "suspected_syndrome": "none"},
        )
    assert response.status_code == 500
    walk_row.refresh_from_db()
    assert walk_row.answers == {} and walk_row.revision == 0


# --- Retention --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_walks_deletes_only_walks_older_than_the_period(pnet_version, capsys):
    old, recent = walk_with(pnet_version, {}), walk_with(pnet_version, {})
    Walk.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=91))
    Walk.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - timedelta(days=89))
    call_command("purge_walks", "--older-than", "90d", "--dry-run")
    assert "1 walk(s)" in capsys.readouterr().out
    assert Walk.objects.count() == 2
    call_command("purge_walks", "--older-than", "90d")
    assert "Deleted 1 walk(s)" in capsys.readouterr().out
    assert list(Walk.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("age", ["90", "0d", "-5d", "90 days", "1.5d", "d", "99999999d"])
def test_purge_walks_refuses_an_unclear_period(pnet_version, age):
    walk_with(pnet_version, {})
    Walk.objects.update(updated_at=timezone.now() - timedelta(days=400))
    with pytest.raises(CommandError):
        call_command("purge_walks", "--older-than", age)
    assert Walk.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("age", "days"), [("12h", 0.5), ("4w", 28), ("90D", 90)])
def test_purge_walks_understands_hours_weeks_and_days(pnet_version, age, days):
    walk_with(pnet_version, {})
    Walk.objects.update(updated_at=timezone.now() - timedelta(days=days, minutes=5))
    call_command("purge_walks", "--older-than", age)
    assert not Walk.objects.exists()


# --- Real processes ------------------------------------------------------------------------------


def test_gunicorn_with_an_unreachable_postgresql_answers_503(tmp_path):
    dead = f"postgres://nobody:nothing@127.0.0.1:{free_port()}/nothing"
    with gunicorn(server_env(dead, DJANGO_CONN_MAX_AGE="0"), workers=1) as url:
        for path in ("/", "/pathways/pnet/"):
            answer = fetch(url + path)
            assert_static_503(answer.status, answer.headers, answer.body)
        api = fetch(url + "/api/pathways/pnet/evaluate", data=b"{}")
        assert_static_503(api.status, api.headers, api.body)
        assert "service" in api.body


def test_gunicorn_with_an_unopenable_sqlite_file_answers_503(tmp_path):
    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    with gunicorn(server_env(f"sqlite:///{missing}"), workers=1) as url:
        answer = fetch(url + "/")
        assert_static_503(answer.status, answer.headers, answer.body)


def test_concurrent_walks_on_a_sqlite_file_do_not_fail(tmp_path):
    """Several gunicorn processes write to one SQLite file at once: WAL, busy timeout and
    IMMEDIATE transactions mean no request fails with "database is locked"."""
    env = server_env(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    manage(env, "migrate", "--noinput", "-v", "0")
    errors: list[str] = []
    outcomes: list[str] = []
    with gunicorn(env, workers=4) as url:

        def clinician(index: int) -> None:
            rng = random.Random(index)  # noqa: S311
            for _ in range(2):
                session = Session(url)
                try:
                    outcomes.append(walk(session, "pnet", rng, think=lambda: None))
                except WalkError as error:
                    errors.append(str(error))
                finally:
                    session.close()

        threads = [threading.Thread(target=clinician, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
    assert errors == []
    assert len(outcomes) == 16


@pytest.mark.django_db(transaction=True)
def test_persistent_connections_survive_a_database_restart():
    """The database drops every connection (a restart or failover): the next request reconnects
    (connection health checks) instead of failing."""
    from django.db import connection

    from tests.conftest import ensure_pnet_published
    from tests.test_scale_out import database_url

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite has no server connections to drop")
    ensure_pnet_published()
    with gunicorn(server_env(database_url(), DJANGO_CONN_MAX_AGE="600"), workers=1) as url:
        api = url + "/api/pathways/pnet/evaluate"
        assert fetch(api, data=b'{"suspected_syndrome": "none"}').status == 200
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        for _ in range(3):
            answer = fetch(api, data=b'{"suspected_syndrome": "none"}')
            assert answer.status == 200, answer.body
