"""Drive a pathway walk in the browser the way a clinician does, through the web contract only.

The contract fixes the names used here: each step is a ``form[data-step]`` whose inputs are
named by the variable keys, submitted with its ``button[type=submit]``; the trail marks each
answer with ``data-change="<key>"``; a result shows ``data-outcome`` and one ``data-code`` per
recommendation. The same helper works with JavaScript on (htmx swaps ``#walk``) and off (full
pages): before acting it marks the shown ``#walk`` as stale and then waits for a fresh one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Locator, Page, Request, Response, expect

STEP_FORM = "form[data-step]"
SUBMIT = f"{STEP_FORM} button[type=submit]"
CONTROL_FIELDS = frozenset({"csrfmiddlewaretoken", "revision"})
MAX_STEPS = 30
HTMX_BUSY = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"


@dataclass(frozen=True)
class Step:
    url: str
    title: str
    fields: tuple[str, ...]
    codes: frozenset[str]


@dataclass
class Traffic:
    """Requests the page sent to the wizard's step and walk URLs, with their answers."""

    exchanges: list[tuple[str, str, bool, int]] = field(default_factory=list)

    def record(self, response: Response) -> None:
        request: Request = response.request
        if "/walks/" not in request.url and request.method != "POST":
            return
        htmx = request.headers.get("hx-request") == "true"
        self.exchanges.append((request.method, request.url, htmx, response.status))

    def posts(self) -> list[tuple[str, str, bool, int]]:
        return [exchange for exchange in self.exchanges if exchange[0] == "POST"]


class Wizard:
    def __init__(self, page: Page, slug: str = "pnet") -> None:
        self.page = page
        self.slug = slug
        self.traffic = Traffic()
        page.on("response", self.traffic.record)

    # -- reading the page -------------------------------------------------------------------

    @property
    def form(self) -> Locator:
        return self.page.locator(STEP_FORM)

    def title(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def field_names(self) -> list[str]:
        """The variable keys the shown step asks for, in page order."""
        pairs = self.form.locator("input[name], select[name], textarea[name]").evaluate_all(
            "elements => elements.map(element => [element.name, element.type])"
        )
        names: list[str] = []
        for name, kind in pairs:
            if name not in CONTROL_FIELDS and kind != "hidden" and name not in names:
                names.append(name)
        return names

    def field(self, key: str) -> Locator:
        return self.form.locator(f'[name="{key}"]')

    def codes(self) -> frozenset[str]:
        """Recommendation codes visible on the page (a folded one shows its title)."""
        return frozenset(
            self.page.locator("[data-code]:visible").evaluate_all(
                "elements => elements.map(element => element.dataset.code)"
            )
        )

    def trail_keys(self) -> list[str]:
        return self.page.locator("[data-change]").evaluate_all(
            "elements => elements.map(element => element.dataset.change)"
        )

    def trail_entry(self, key: str) -> Locator:
        """The trail entry holding the answer to ``key`` (the parent of its Change link)."""
        return self.page.locator(f'[data-change="{key}"]').locator("xpath=..")

    def outcome(self) -> str | None:
        marker = self.page.locator("[data-outcome]")
        if marker.count() == 0:
            return None
        expect(marker).to_be_visible()
        return marker.get_attribute("data-outcome")

    def described_by(self, key: str) -> list[str]:
        """Visible texts linked to the field with ``aria-describedby`` (help and error)."""
        ids = (self.field(key).first.get_attribute("aria-describedby") or "").split()
        texts = []
        for element_id in ids:
            element = self.page.locator(f'[id="{element_id}"]')
            if element.count() and element.is_visible():
                texts.append(" ".join(element.inner_text().split()))
        return texts

    def step(self) -> Step:
        return Step(self.page.url, self.title(), tuple(self.field_names()), self.codes())

    # -- acting -----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the pathway and press Start on its introduction."""
        self.page.goto(f"/pathways/{self.slug}/")
        expect(self.form).to_have_count(1)
        assert self.field_names() == [], "the introduction's form should have only a Start button"
        self.page.locator(SUBMIT).click()
        self.page.locator(f"#walk {STEP_FORM}").wait_for()
        self.settle()

    def fill(self, answers: Mapping[str, Any]) -> None:
        for key, value in answers.items():
            self._set(key, value)

    def submit(self) -> None:
        self._act(lambda: self.page.locator(SUBMIT).click())

    def answer(self, **answers: Any) -> None:
        """Answer the shown step with exactly these values and continue."""
        asked = self.field_names()
        assert set(answers) <= set(asked), f"step {self.title()!r} asks {asked}, not {sorted(answers)}"
        self.fill(answers)
        self.submit()

    def change(self, key: str) -> None:
        """Follow the trail's Change link of ``key``."""
        self._act(lambda: self.page.locator(f'[data-change="{key}"]').click())

    def back(self) -> None:
        """Press the browser's Back button and wait for the page it shows to be fresh.

        htmx answers a history move either by reloading the page or by fetching it, after the
        address bar has already changed: waiting for the URL alone would race the reload.
        """
        self._act(lambda: self.page.go_back())

    def forward(self) -> None:
        self._act(lambda: self.page.go_forward())

    def walk_case(self, case: Mapping[str, Any]) -> list[Step]:
        """Answer every step from ``case`` until a result shows; return the steps seen.

        Keys the walk never asks are simply not used; a step asking only for keys the case
        lacks, or a step that does not move on, fails the walk with what the page says.
        """
        seen: list[Step] = []
        for _ in range(MAX_STEPS):
            if self.outcome() is not None:
                return seen
            step = self.step()
            seen.append(step)
            given = {key: case[key] for key in step.fields if key in case}
            if step.fields and not given:
                raise AssertionError(f"step {step.title!r} asks {list(step.fields)}; the case gives none")
            self.fill(given)
            self.submit()
            if self.outcome() is None and (self.page.url, self.title()) == (step.url, step.title):
                raise AssertionError(f"step {step.title!r} did not move on: {self.alerts()}")
        raise AssertionError(f"no result after {MAX_STEPS} steps")

    def alerts(self) -> list[str]:
        return [" ".join(text.split()) for text in self.page.locator("[role=alert]").all_inner_texts()]

    def settle(self) -> None:
        """Wait until htmx has finished swapping and settling (no-op without JavaScript)."""
        busy = self.page.locator(HTMX_BUSY)
        expect(busy).to_have_count(0)

    # -- internals --------------------------------------------------------------------------

    def _act(self, action: Any) -> None:
        self.page.evaluate("document.getElementById('walk')?.setAttribute('data-e2e-stale', '')")
        action()
        self.page.locator("#walk:not([data-e2e-stale])").wait_for(state="attached")
        self.settle()

    def _set(self, key: str, value: Any) -> None:
        text = _as_text(value)
        target = self.field(key)
        expect(target.first).to_be_attached()
        if self.form.locator(f'select[name="{key}"]').count():
            target.select_option(text)
        elif target.first.get_attribute("type") in {"radio", "checkbox"}:
            self.form.locator(f'input[name="{key}"][value="{text}"]').check()
        else:
            target.fill(text)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def step_path(url: str) -> str:
    """The path of a URL, for comparing pages across hosts."""
    return re.sub(r"^https?://[^/]+", "", url)
