"""Who is trying to sign in, as the login lockout (django-axes) records it.

The address trusts X-Forwarded-For only as far as the configured proxies reach; the user name is
bounded so that any submitted text can be recorded.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """Return the client address for ``request``.

    With ``TRUSTED_PROXY_COUNT = n`` (n > 0), each of the n proxies appends the address it saw, so
    the client is the n-th entry from the right; entries further left were written by the client
    and are ignored. With n = 0 the header is ignored and ``REMOTE_ADDR`` is the client. A request
    that did not pass through all n proxies falls back to ``REMOTE_ADDR``.
    """
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote


USERNAME_MAX_LENGTH = 150  # Django's user name length; no real account has a longer one.


def client_username(request: HttpRequest, credentials: dict[str, object] | None = None) -> str | None:
    """Return the submitted user name, cut to a length the lockout table can store.

    Django's login form does not enforce the user name's length before authenticating, and the
    lockout table holds 255 characters: on PostgreSQL a longer name would fail the insert.
    """
    raw = credentials.get("username") if credentials else getattr(request, "POST", {}).get("username")
    if raw is None:
        return None
    return str(raw).replace("\x00", "")[:USERNAME_MAX_LENGTH]
