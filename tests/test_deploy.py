"""Production configuration: Django's deployment checks and the settings a deployment relies on."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process: debug off, real key, hosts, no test overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pnetsite.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="pathways.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://pathways.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_checks_pass_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path, DJANGO_DEBUG="0")
    del env["DJANGO_SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_the_wsgi_application_refuses_to_load_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import pnetsite.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_manage_py_on_an_unconfigured_checkout_runs_as_development(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    assert manage(env, "migrate", "-v0").returncode == 0
    case = tmp_path / "case.json"
    case.write_text('{"suspected_syndrome": "none"}')
    result = manage(env, "evaluate_pathway", "pnet", str(case))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["missing"] == ["functional_status"]


def test_bad_boolean_or_number_in_the_environment_fails_loudly(tmp_path):
    assert manage(production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="maybe"), "check").returncode != 0
    assert manage(production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT="two"), "check").returncode != 0


PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "static": settings.STORAGES["staticfiles"]["BACKEND"],
    "engine": db["ENGINE"],
    "health_checks": db["CONN_HEALTH_CHECKS"],
    "conn_max_age": db["CONN_MAX_AGE"],
    "axes": "axes.middleware.AxesMiddleware" == settings.MIDDLEWARE[-1],
    "proxies": settings.TRUSTED_PROXY_COUNT,
    "cookie_names": [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME],
    "proxy_ssl": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
}))
"""


def production_settings(env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_secure(tmp_path):
    values = production_settings(production_env(tmp_path))
    assert values["debug"] is False
    assert values["session_secure"] and values["csrf_secure"] and values["session_httponly"]
    assert values["ssl_redirect"] is True
    assert values["hsts"] >= 31536000
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["axes"] is True
    assert values["cookie_names"] == ["__Host-sessionid", "__Host-csrftoken"]


def test_postgresql_url_gets_connection_health_checks(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://pnet:secret@db.example.org:5432/pnet")
    values = production_settings(env)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["health_checks"] is True
    assert values["conn_max_age"] == 60


def test_collectstatic_writes_compressed_hashed_files(tmp_path):
    env = production_env(tmp_path)
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")
    result = manage(env, "collectstatic", "--noinput", "-v", "0")
    assert result.returncode == 0, result.stderr
    collected = {path.name for path in (tmp_path / "static").rglob("*")}
    assert any(name.startswith("app.") and name.endswith(".js.gz") for name in collected)
    assert "staticfiles.json" in collected


def test_no_proxy_is_trusted_unless_configured(tmp_path):
    values = production_settings(production_env(tmp_path))
    assert values["proxies"] == 0 and values["proxy_ssl"] is None


def test_behind_a_proxy_one_hop_is_trusted_by_default(tmp_path):
    values = production_settings(production_env(tmp_path, DJANGO_BEHIND_PROXY="1"))
    assert values["proxies"] == 1
    assert values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    two = production_settings(
        production_env(tmp_path, DJANGO_BEHIND_PROXY="1", DJANGO_TRUSTED_PROXY_COUNT="2")
    )
    assert two["proxies"] == 2
