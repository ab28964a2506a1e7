from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pathways import engine
from pathways.document import snapshot_from_document

CONTENT = Path(__file__).resolve().parent.parent / "pathways" / "content" / "pnet.json"
# Fixtures through which a test reaches the database (directly or through the live server).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``PNET_TESTS=database`` keeps only the tests that use the database.

    CI runs the whole suite on SQLite and, beside it, these on PostgreSQL: the others (the pure
    engine, the gate, the sanitiser) import no database code and would prove nothing twice.
    """
    if os.environ.get("PNET_TESTS", "") != "database":
        return
    kept = [item for item in items if uses_database(item)]
    config.hook.pytest_deselected(items=[item for item in items if not uses_database(item)])
    items[:] = kept


CONTENT_V2 = CONTENT.with_name("pnet-v2.json")
CONTENT_V3 = CONTENT.with_name("pnet-v3.json")

# Personas: every test that needs an account takes one of these (one password for all).
PASSWORD = "a-long-password-1"
EDITORS = "Pathway editors"
PUBLISHERS = "Pathway publishers"


@pytest.fixture(scope="session")
def pnet_document() -> dict[str, Any]:
    return json.loads(CONTENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def snapshot(pnet_document: dict[str, Any]) -> engine.Snapshot:
    """The PNET pathway as the engine sees it, built without a database."""
    return snapshot_from_document(pnet_document)


@pytest.fixture(scope="session")
def pnet_v2_document() -> dict[str, Any]:
    return json.loads(CONTENT_V2.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def v2_snapshot(pnet_v2_document: dict[str, Any]) -> engine.Snapshot:
    """Version 2 of the PNET pathway as the engine sees it (version 3 routes exactly as it)."""
    return snapshot_from_document(pnet_v2_document)


@pytest.fixture(scope="session")
def v3_snapshot() -> engine.Snapshot:
    """Version 3 of the PNET pathway (the published one) as the engine sees it."""
    return snapshot_from_document(json.loads(CONTENT_V3.read_text(encoding="utf-8")))


@pytest.fixture
def pnet_version(db: Any) -> Any:
    """The published PNET version, 3 (loaded by the data migrations, reloaded after a flush)."""
    return ensure_pnet_published()


def ensure_pnet_published() -> Any:
    from pathways.content_io import import_document, load_bundled
    from pathways.models import PathwayVersion
    from pathways.selectors import clear_snapshot_cache

    version = PathwayVersion.objects.filter(pathway__slug="pnet", status="published").first()
    if version is None:
        clear_snapshot_cache()
        # As the data migrations leave it: versions 1 and 2 retired, version 3 published.
        import_document(load_bundled("pnet"), status="published")
        import_document(load_bundled("pnet-v2"), status="published")
        version = import_document(load_bundled("pnet-v3"), status="published")
    return version


def make_user(username: str, *groups: str, staff: bool = True, superuser: bool = False) -> Any:
    """An account with ``PASSWORD`` in ``groups`` (made by the data migrations)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    model = get_user_model()
    if superuser:
        user = model.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    else:
        user = model.objects.create_user(username, password=PASSWORD, is_staff=staff)
    if Group.objects.filter(name__in=groups).count() < len(groups):
        restore_groups()
    user.groups.add(*Group.objects.filter(name__in=groups))
    assert user.groups.count() == len(groups), f"missing group among {groups}"
    return user


def restore_groups() -> None:
    """The authoring groups as the data migrations make them (a browser test's live server flushes
    the database after each test, and the groups with it)."""
    import importlib

    from django.apps import apps

    config = apps.get_app_config("pathways")
    models_module = config.models_module
    try:
        for name, function in (
            ("0005_authoring_groups", "create_groups"),
            ("0006_guidance_notes", "grant_authors"),
        ):
            getattr(importlib.import_module(f"pathways.migrations.{name}"), function)(apps, None)
    finally:
        config.models_module = models_module  # the migrations' functions reset it for their registry


def logged_in(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db: Any) -> Any:
    return make_user("root", superuser=True)


@pytest.fixture
def editor(db: Any) -> Any:
    return make_user("editor", EDITORS)


@pytest.fixture
def publisher(db: Any) -> Any:
    return make_user("publisher", PUBLISHERS)


@pytest.fixture
def staff_viewer(db: Any) -> Any:
    """Staff with no group and no permission: signs in, sees no model."""
    return make_user("viewer")


@pytest.fixture
def superuser_client(superuser: Any) -> Any:
    return logged_in(superuser)


@pytest.fixture
def editor_client(editor: Any) -> Any:
    return logged_in(editor)


@pytest.fixture
def publisher_client(publisher: Any) -> Any:
    return logged_in(publisher)


@pytest.fixture
def staff_viewer_client(staff_viewer: Any) -> Any:
    return logged_in(staff_viewer)
