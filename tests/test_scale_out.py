"""Scale-out: stateless app servers on one PostgreSQL see the same published version."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.db import connection

from loadtest.client import Session
from pathways.content_io import import_document, load_bundled
from tests.conftest import ensure_pnet_published
from tests.servers import fetch, gunicorn, server_env

NEW_TITLE = "Which hormonal syndrome is suspected? (revised)"


def database_url() -> str:
    """The URL of the database this test run uses (the test database, not the configured one)."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


def evaluate(url: str) -> dict:
    answer = fetch(url + "/api/pathways/pnet/evaluate", data=b'{"suspected_syndrome": "none"}')
    assert answer.status == 200, answer.body
    return json.loads(answer.body)


def first_step_title(url: str) -> str:
    session = Session(url)
    try:
        intro = session.request("intro", "GET", "/pathways/pnet/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', intro.body).group(1)
        started = session.request("start", "POST", "/pathways/pnet/", {"csrfmiddlewaretoken": token})
        step = session.request("step", "GET", started.headers["location"])
        return re.search(r'<h1 id="step-title"[^>]*>(.*?)</h1>', step.body, re.S).group(1).strip()
    finally:
        session.close()


@pytest.mark.django_db(transaction=True)
def test_a_version_published_through_one_server_is_served_by_the_other():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite is one file on one host, not scale-out")
    old = ensure_pnet_published()
    env = server_env(database_url(), DJANGO_CONN_MAX_AGE="60")
    with gunicorn(env, workers=1) as first, gunicorn(env, workers=1) as second:
        # Both servers have built and cached the snapshot of the current version.
        assert evaluate(first)["version"] == evaluate(second)["version"] == old.number
        old_title = first_step_title(second)
        assert old_title != NEW_TITLE

        # An old walk is open on the first server when the new version is published.
        session = Session(first)
        intro = session.request("intro", "GET", "/pathways/pnet/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', intro.body).group(1)
        open_walk = session.request("start", "POST", "/pathways/pnet/", {"csrfmiddlewaretoken": token})
        step_path = open_walk.headers["location"]

        document = copy.deepcopy(load_bundled("pnet"))
        start = next(node for node in document["nodes"] if node.get("start"))
        start["title"] = NEW_TITLE
        new = import_document(document, status="published")
        assert new.number == old.number + 1

        # Neither server was told: each reads the published version per request and builds the
        # new snapshot on first use (cached per process by version id and content hash).
        assert evaluate(second)["version"] == new.number
        assert first_step_title(second) == NEW_TITLE
        assert evaluate(first)["version"] == new.number
        assert first_step_title(first) == NEW_TITLE

        # The walk opened before the change stays on its own version, on either server.
        second_session = Session(second)
        second_session.cookies.update(session.cookies)
        page = second_session.request("step", "GET", step_path)
        assert old_title in page.body and NEW_TITLE not in page.body
        session.close()
        second_session.close()
