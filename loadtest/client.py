"""One simulated clinician: a cookie-keeping HTTP session that walks a pathway as a browser would.

It uses only the web contract: the step is the ``form[data-step]``; radio inputs are choices,
``inputmode="decimal"`` inputs are numbers within their ``data-min`` and ``data-max``; hidden
inputs (revision, CSRF token) are sent back as they are. Plain form posts answered by 303
redirects, exactly as with JavaScript off.
"""

from __future__ import annotations

import html
import http.client
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import servertools

FORM = re.compile(r"<form\b[^>]*\bdata-step\b[^>]*>(.*?)</form>", re.S)
FORM_ACTION = re.compile(r"<form\b[^>]*\bdata-step\b[^>]*\baction=\"([^\"]*)\"", re.S)
# The box that confirms a number far beyond the thresholds: its name and the value it confirms.
CONFIRM = re.compile(r'<input\b[^>]*\bname="(confirm_[a-z0-9_]+)"[^>]*\bvalue="([^"]*)"', re.S)
INPUT = re.compile(r"<input\b[^>]*>", re.S)
ATTR = re.compile(r"([a-zA-Z_:-]+)(?:=\"([^\"]*)\")?")
OUTCOME = re.compile(r"data-outcome=\"([^\"]+)\"")
MAX_STEPS = 40


class WalkError(Exception):
    """The server answered something a browser walking the pathway would not expect."""


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Session:
    """A keep-alive connection with a minimal cookie jar that times each request."""

    base_url: str
    timeout: float = 30.0
    record: Callable[[Sample], None] | None = None

    def __post_init__(self) -> None:
        self.client = servertools.Client(self.base_url, timeout=self.timeout)
        self.origin = self.client.origin
        self.cookies = self.client.cookies

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        expected: tuple[int, ...] = (),
    ) -> Response:
        headers = {"Accept": "text/html", "User-Agent": "pnet-loadtest"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        started = time.perf_counter()
        try:
            answer = self.client.request(method, path, body=body, headers=headers)
        except (OSError, http.client.HTTPException) as error:
            self._sample(kind, started, ok=False, detail=f"{type(error).__name__}: {error}")
            self.close()
            raise WalkError(f"{method} {path}: {error}") from error
        response = Response(answer.status, answer.headers, answer.text)
        ok = response.status < 400 or response.status in expected
        self._sample(kind, started, ok=ok, detail=str(response.status))
        if not ok:
            raise WalkError(f"{method} {path}: HTTP {response.status}")
        return response

    def _sample(self, kind: str, started: float, *, ok: bool, detail: str) -> None:
        if self.record is not None:
            self.record(Sample(kind, time.perf_counter() - started, ok, detail))


def _attrs(tag: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value or "") for name, value in ATTR.findall(tag[len("<input") :])}


def answer_form(page: str, rng: random.Random, *, fill_optional: float = 0.2) -> tuple[str, dict[str, str]]:
    """The action and the fields a clinician would send for the step form on ``page``."""
    action_match = FORM_ACTION.search(page)
    form_match = FORM.search(page)
    if not action_match or not form_match:
        raise WalkError("no step form on the page")
    fields: dict[str, str] = {}
    radios: dict[str, list[str]] = {}
    for tag in INPUT.findall(form_match.group(1)):
        attrs = _attrs(tag)
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name:
            continue
        if kind == "hidden":
            fields[name] = attrs.get("value", "")
        elif kind == "radio":
            radios.setdefault(name, []).append(attrs.get("value", ""))
        elif attrs.get("inputmode") == "decimal":
            if "required" not in attrs and rng.random() > fill_optional:
                continue
            low = float(attrs.get("data-min") or 0)
            high = float(attrs.get("data-max") or 100)
            fields[name] = f"{rng.uniform(low, high) or high:.1f}"
            if float(fields[name]) <= low:
                fields[name] = f"{high:.1f}"
    for name, values in radios.items():
        fields[name] = rng.choice(values)
    return html.unescape(action_match.group(1)), fields


def walk(session: Session, slug: str, rng: random.Random, think: Callable[[], None]) -> str:
    """Walk pathway ``slug`` from its introduction to a result; return the outcome slug."""
    intro = session.request("intro", "GET", f"/pathways/{slug}/")
    if intro.status == 302:  # a walk is still open on the resume cookie: start afresh anyway
        intro = session.request("intro", "GET", intro.headers["location"])
    action, fields = answer_form(intro.body, rng)
    response = session.request("start", "POST", action, fields)
    for _ in range(MAX_STEPS):
        if response.status != 303:
            raise WalkError(f"expected a redirect after a post, got HTTP {response.status}")
        location = urlsplit(response.headers["location"]).path
        if "/steps/" not in location:
            result = session.request("result", "GET", location)
            outcome = OUTCOME.search(result.body)
            if not outcome:
                raise WalkError(f"{location}: no outcome on the result page")
            return outcome.group(1)
        page = session.request("step GET", "GET", location)
        think()
        action, fields = answer_form(page.body, rng)
        # A number far beyond the pathway's thresholds is asked again (422 with a box to confirm
        # it): the clinician meant it and confirms it; any other 422 is an error.
        response = session.request("step POST", "POST", action, fields, expected=(422,))
        if response.status == 422:
            if not CONFIRM.search(response.body):
                raise WalkError(f"POST {action}: HTTP 422")
            fields.update(CONFIRM.findall(response.body))
            response = session.request("step POST", "POST", action, fields)
    raise WalkError(f"no result after {MAX_STEPS} steps")
