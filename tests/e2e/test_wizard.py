"""A clinician's walks through the PNET wizard in Chromium, with JavaScript on and off."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from pathways import engine

from .wizard import Wizard, step_path

pytestmark = pytest.mark.e2e

WALK_URL = re.compile(r"/pathways/pnet/walks/[0-9a-f-]{36}/$")
STEP_URL = re.compile(r"/pathways/pnet/walks/[0-9a-f-]{36}/steps/[\w-]+/$")

# Contract, section 2: given on every complete walk.
EVERY_COMPLETE_WALK = frozenset(
    {"general.multidisciplinary", "workup.cga_5hiaa", "imaging.ct_mri", "imaging.sstr_pet", "imaging.eus"}
)


@dataclass(frozen=True)
class Case:
    answers: dict[str, Any]
    includes: frozenset[str]
    excludes: frozenset[str] = field(default_factory=frozenset)


# Included and excluded codes follow the contract's examples, code table and safety invariants.
WALKS = {
    "incidental-0.9cm-body-observation": Case(
        {
            "suspected_syndrome": "none",
            "functional_status": "nonfunctioning",
            "disease_extent": "localized",
            "tumor_size_cm": 0.9,
            "ki67_known": False,
            "incidental": True,
            "tumor_location": "body",
        },
        includes=frozenset({"nf.observation", "nf.imaging_6_months"}),
        excludes=frozenset(
            {
                "nf.resection_consider_lnd",
                "nf.formal_resection_lnd",
                "followup.post_treatment",
                "followup.advanced_restaging",
                "caution.high_grade_localized",
                "special.splenectomy_vaccination",
            }
        ),
    ),
    "duodenal-gastrinoma-0.6cm": Case(
        {
            "suspected_syndrome": "gastrinoma",
            "functional_status": "gastrinoma",
            "disease_extent": "localized",
            "tumor_size_cm": 0.6,
            "tumor_location": "duodenum",
        },
        includes=frozenset(
            {
                "workup.gastrin",
                "fx.resection_regardless_of_size",
                "fx.preop_symptom_control",
                "fx.gastrinoma_ppi",
                "fx.ssa_symptom_control",
                "surgery.duodenotomy_local_resection",
                "followup.post_treatment",
            }
        ),
        excludes=frozenset(
            {
                "nf.observation",
                "caution.lymph_node_sampling",
                "caution.ssa_insulinoma",
                "special.splenectomy_vaccination",
            }
        ),
    ),
    "metastatic-nonfunctioning-ki67-21-well": Case(
        {
            "suspected_syndrome": "none",
            "functional_status": "nonfunctioning",
            "disease_extent": "metastatic",
            "ki67_percent": 21,
            "differentiation": "well",
            "liver_metastases": "unresectable",
        },
        includes=frozenset(
            {"adv.chemotherapy_g3", "adv.targeted_therapy_wd_g3", "followup.advanced_restaging"}
        ),
        excludes=frozenset(
            {"adv.ssa", "nf.observation", "fx.ssa_symptom_control", "followup.post_treatment"}
        ),
    ),
    "metastatic-insulinoma-sstr-negative": Case(
        {
            "suspected_syndrome": "insulinoma",
            "functional_status": "insulinoma",
            "sstr_status": "negative",
            "disease_extent": "metastatic",
            "ki67_percent": 10,
            "liver_metastases": "unresectable",
            "progressive": False,
        },
        includes=frozenset(
            {
                "workup.insulinoma_panel",
                "fx.insulinoma_glucose_control",
                "caution.ssa_insulinoma",
                "caution.ssa_insulinoma_sstr_negative",
                "followup.advanced_restaging",
            }
        ),
        excludes=frozenset(
            {"adv.ssa", "fx.ssa_symptom_control", "nf.observation", "followup.post_treatment"}
        ),
    ),
}


def expected(snapshot: engine.Snapshot, answers: dict[str, Any]) -> engine.Evaluation:
    """What the engine gives for the same case: the page must show exactly this."""
    typed, errors = engine.validate_case(snapshot, answers)
    assert not errors
    return engine.evaluate(snapshot, typed)


def assert_result(wizard: Wizard, snapshot: engine.Snapshot, case: Case) -> None:
    evaluation = expected(snapshot, case.answers)
    assert evaluation.complete
    page = wizard.page
    expect(page).to_have_url(WALK_URL)
    expect(page.locator("[data-outcome]")).to_have_attribute("data-outcome", evaluation.outcome or "")
    expect(page.locator("[data-outcome]")).to_be_visible()
    assert wizard.codes() == set(evaluation.codes)  # the folded workup and imaging included
    for code in sorted(case.includes | EVERY_COMPLETE_WALK):
        expect(page.locator(f'[data-code="{code}"]')).to_be_visible()
    for code in sorted(case.excludes):
        expect(page.locator(f'[data-code="{code}"]')).to_have_count(0)
    for code in evaluation.codes:
        expect(page.locator(f'[data-code="{code}"]'), f"{code} shown once").to_have_count(1)
    assert wizard.codes() == set(evaluation.codes)


@pytest.mark.parametrize("name", list(WALKS))
def test_complete_walk_reaches_its_outcome_with_its_recommendations(
    page: Page, v2_snapshot: engine.Snapshot, name: str
) -> None:
    case = WALKS[name]
    wizard = Wizard(page)
    wizard.start()
    steps = wizard.walk_case(case.answers)

    assert_result(wizard, v2_snapshot, case)
    final = wizard.codes()
    for step in steps:
        assert step.codes <= final, f"{step.title!r} showed codes the walk does not give"
    answered = [key for step in steps for key in step.fields if key in case.answers]
    # First appearances: a variable asked twice on one path is covered by its own test below.
    assert list(dict.fromkeys(wizard.trail_keys())) == answered
    posts = wizard.traffic.posts()
    assert posts[0][2] is False, "Start is a plain form post"
    assert [(htmx, status) for _, _, htmx, status in posts[1:]] == [(True, 200)] * len(steps)


def test_changing_an_earlier_answer_reroutes_and_drops_answers_off_the_path(
    page: Page, v2_snapshot: engine.Snapshot
) -> None:
    before = {
        "suspected_syndrome": "none",
        "functional_status": "nonfunctioning",
        "disease_extent": "localized",
        "tumor_size_cm": 1.5,
        "ki67_known": False,
        "tumor_location": "tail",
    }
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(before)
    expect(page.locator('[data-code="special.splenectomy_vaccination"]')).to_be_visible()
    assert {"tumor_size_cm", "tumor_location"} <= set(wizard.trail_keys())
    result_url = page.url

    wizard.change("disease_extent")
    expect(page).to_have_url(STEP_URL)
    expect(wizard.form.locator("input[name=disease_extent][value=localized]")).to_be_checked()
    wizard.answer(disease_extent="metastatic")

    assert page.url != result_url
    changed = page.locator("[data-changed]")
    expect(changed).to_contain_text("Disease extent changed from Localized and resectable to Metastatic.")
    expect(changed).to_contain_text(
        "Outcome before: Resection of a pancreatic body or tail tumour. Now: not reached"
    )
    # In the order the walk had asked them.
    expect(changed).to_contain_text(
        "Answers dropped, no longer on the path: Tumour size (1.5 cm); Ki-67 index available (No); "
        "Tumour location (Pancreatic tail)."
    )
    assert wizard.trail_keys() == ["suspected_syndrome", "functional_status", "disease_extent"]
    expect(wizard.trail_entry("disease_extent")).to_contain_text("Metastatic")
    expect(page.locator("[data-outcome]")).to_have_count(0)
    expect(page.locator('[data-code="special.splenectomy_vaccination"]')).to_have_count(0)
    expect(page.locator('[data-code="nf.resection_consider_lnd"]')).to_have_count(0)

    after = Case(
        {
            "suspected_syndrome": "none",
            "functional_status": "nonfunctioning",
            "disease_extent": "metastatic",
            "ki67_percent": 8,
            "liver_metastases": "resectable",
            "tumor_location": "head",
            "sstr_status": "positive",
            "progressive": False,
        },
        includes=frozenset(
            {"adv.ssa", "adv.cytoreductive_surgery", "adv.liver_locoregional", "followup.advanced_restaging"}
        ),
        excludes=frozenset(
            {
                "nf.observation",
                "nf.resection_consider_lnd",
                "caution.small_tumor_malignant_potential",
                "special.splenectomy_vaccination",
                "surgery.location_appropriate",
                "followup.post_treatment",
            }
        ),
    )
    wizard.answer(ki67_percent="8")
    wizard.answer(liver_metastases="resectable")
    # Cytoreductive surgery asks the location again: the dropped answer (tail) is not kept.
    assert wizard.field_names() == ["tumor_location"]
    expect(wizard.form.locator("input[name=tumor_location]:checked")).to_have_count(0)
    wizard.walk_case(after.answers)
    assert_result(wizard, v2_snapshot, after)
    assert "tumor_size_cm" not in wizard.trail_keys()
    expect(wizard.trail_entry("tumor_location")).to_contain_text("head")


def test_back_button_shows_the_previous_step_with_its_answer_and_the_walk_goes_on(
    page: Page, v2_snapshot: engine.Snapshot
) -> None:
    wizard = Wizard(page)
    wizard.start()
    first_url = page.url
    wizard.answer(suspected_syndrome="gastrinoma")
    second_url = page.url
    second_title = wizard.title()
    wizard.answer(functional_status="gastrinoma")
    third_url = page.url
    assert len({first_url, second_url, third_url}) == 3, "each step has its own URL"

    assert all(htmx for _, _, htmx, _ in wizard.traffic.posts()[1:]), "the steps were htmx swaps"

    wizard.back()
    expect(page).to_have_url(second_url)
    expect(page.locator("h1").first).to_have_text(second_title)
    expect(wizard.form.locator("input[name=functional_status][value=gastrinoma]")).to_be_checked()
    assert wizard.trail_keys() == ["suspected_syndrome", "functional_status"]

    wizard.back()
    expect(page).to_have_url(first_url)
    expect(wizard.form.locator("input[name=suspected_syndrome][value=gastrinoma]")).to_be_checked()

    wizard.forward()
    expect(page).to_have_url(second_url)
    wizard.submit()
    expect(page).to_have_url(third_url)
    assert wizard.trail_keys() == ["suspected_syndrome", "functional_status"]

    case = Case(
        {
            "suspected_syndrome": "gastrinoma",
            "functional_status": "gastrinoma",
            "disease_extent": "localized",
            "tumor_size_cm": 1.8,
            "tumor_location": "head",
            "gastrinoma_head_type": "exophytic",
        },
        includes=frozenset(
            {"surgery.enucleation_periduodenal_nodes", "caution.lymph_node_sampling", "fx.gastrinoma_ppi"}
        ),
        excludes=frozenset({"surgery.pancreatoduodenectomy", "surgery.duodenotomy_local_resection"}),
    )
    wizard.walk_case(case.answers)
    assert_result(wizard, v2_snapshot, case)


def test_walk_without_javascript_posts_plain_forms_and_reaches_a_result(
    js_disabled_page: Page, v2_snapshot: engine.Snapshot
) -> None:
    page = js_disabled_page
    case = Case(
        {
            "suspected_syndrome": "vipoma",
            "functional_status": "vipoma",
            "disease_extent": "locally_advanced",
            "ki67_percent": 5,
            "sstr_status": "not_done",
            "progressive": True,
        },
        includes=frozenset(
            {
                "workup.vip_panel",
                "fx.vipoma_electrolytes",
                "fx.ssa_symptom_control",
                "adv.obtain_sstr_imaging",
                "adv.everolimus_or_sunitinib",
                "followup.advanced_restaging",
            }
        ),
        excludes=frozenset(
            {"adv.ssa", "nf.observation", "adv.cytoreductive_surgery", "followup.post_treatment"}
        ),
    )
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(case.answers)
    assert_result(wizard, v2_snapshot, case)

    wizard.change("progressive")
    expect(page).to_have_url(STEP_URL)
    wizard.answer(progressive=False)
    assert_result(
        wizard,
        v2_snapshot,
        Case({**case.answers, "progressive": False}, includes=frozenset({"adv.obtain_sstr_imaging"})),
    )
    expect(page.locator('[data-code="adv.everolimus_or_sunitinib"]')).to_have_count(0)

    posts = wizard.traffic.posts()
    assert posts, "the walk posted its answers"
    assert all(not htmx and status == 303 for _, _, htmx, status in posts), posts


def test_bad_sizes_are_rejected_at_the_field_and_leave_the_walk_unchanged(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    wizard.answer(disease_extent="localized")
    assert wizard.field_names() == ["tumor_size_cm"]
    step_url = page.url
    trail = wizard.trail_keys()
    help_texts = wizard.described_by("tumor_size_cm")

    # An exponent is refused even though it is a valid number to the browser; 31 is above 30 cm.
    for bad, clear in [("1e3", re.compile(r"number", re.I)), ("31", re.compile(r"\b30\b"))]:
        wizard.answer(tumor_size_cm=bad)

        expect(page).to_have_url(step_url)
        size = wizard.field("tumor_size_cm")
        expect(size).to_have_attribute("aria-invalid", "true")
        expect(size).to_have_value(bad)
        messages = [text for text in wizard.described_by("tumor_size_cm") if text not in help_texts]
        assert messages, f"no error message is linked to the size field after {bad!r}"
        assert any(clear.search(message) for message in messages), messages
        assert wizard.trail_keys() == trail
        expect(page.locator('[data-change="tumor_size_cm"]')).to_have_count(0)

    page.reload()
    expect(page).to_have_url(step_url)
    assert wizard.trail_keys() == trail
    expect(wizard.field("tumor_size_cm")).to_have_value("")

    wizard.answer(tumor_size_cm="2.5")
    assert page.url != step_url
    assert wizard.trail_keys() == [*trail, "tumor_size_cm"]
    expect(wizard.trail_entry("tumor_size_cm")).to_contain_text("2.5")
    wizard.answer(ki67_known="false")
    expect(page.locator('[data-code="nf.formal_resection_lnd"]')).to_be_visible()


def test_refreshing_a_step_and_reopening_a_finished_walk_show_the_same_state(
    page: Page, new_context: Callable[..., BrowserContext], v2_snapshot: engine.Snapshot
) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    wizard.answer(functional_status="nonfunctioning")
    wizard.answer(disease_extent="localized")
    step = wizard.step()

    page.reload()
    assert wizard.step() == step
    assert wizard.trail_keys() == ["suspected_syndrome", "functional_status", "disease_extent"]

    # The start page offers the unfinished case (it never reopens it by itself); resuming it
    # lands on the same step.
    page.goto("/pathways/pnet/")
    expect(page.locator("[data-unfinished]")).to_contain_text("3 answers")
    page.get_by_role("link", name="Resume that case").click()
    expect(page).to_have_url(step.url)

    case = Case(
        {
            "suspected_syndrome": "none",
            "functional_status": "nonfunctioning",
            "disease_extent": "localized",
            "tumor_size_cm": 1.2,
            "ki67_known": False,
            "incidental": False,
            "tumor_location": "head",
        },
        includes=frozenset(
            {
                "nf.resection_consider_lnd",
                "caution.small_tumor_malignant_potential",
                "surgery.location_appropriate",
            }
        ),
        excludes=frozenset(
            {"nf.observation", "special.splenectomy_vaccination", "caution.lymph_node_sampling"}
        ),
    )
    wizard.walk_case(case.answers)
    assert_result(wizard, v2_snapshot, case)
    result_url = page.url
    shown = (wizard.outcome(), wizard.codes(), wizard.trail_keys())

    page.reload()
    expect(page).to_have_url(result_url)
    assert (wizard.outcome(), wizard.codes(), wizard.trail_keys()) == shown

    elsewhere = new_context().new_page()
    elsewhere.goto(step_path(result_url))
    reopened = Wizard(elsewhere)
    expect(elsewhere).to_have_url(result_url)
    assert (reopened.outcome(), reopened.codes(), reopened.trail_keys()) == shown


def test_an_answer_asked_twice_on_the_path_appears_once_in_the_trail(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="insulinoma")
    wizard.answer(functional_status="insulinoma")
    wizard.answer(sstr_status="negative")
    wizard.answer(disease_extent="metastatic")
    wizard.answer(ki67_percent="10")
    wizard.answer(liver_metastases="unresectable")
    assert wizard.field_names() == ["progressive"], "SSTR status, already answered, is not asked again"
    keys = wizard.trail_keys()
    assert keys.count("sstr_status") == 1, keys


def test_the_tab_title_names_the_step_shown_after_an_htmx_swap(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    expect(page).to_have_title(re.compile(re.escape(wizard.title())))
    wizard.answer(suspected_syndrome="none")
    expect(page).to_have_title(re.compile(re.escape(wizard.title())))


def test_changing_an_answer_from_the_result_shows_the_question_on_screen(page: Page) -> None:
    wizard = Wizard(page)
    wizard.start()
    wizard.walk_case(WALKS["incidental-0.9cm-body-observation"].answers)
    page.locator('[data-change="tumor_size_cm"]').scroll_into_view_if_needed()

    wizard.change("tumor_size_cm")

    expect(page.locator("h1").first).to_be_focused()
    expect(page.locator("h1").first).to_be_in_viewport()
    expect(wizard.field("tumor_size_cm")).to_be_in_viewport()


def test_a_case_reopened_after_a_pause_says_so_and_offers_a_new_one(page: Page) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from pathways.models import Walk

    wizard = Wizard(page)
    wizard.start()
    wizard.answer(suspected_syndrome="none")
    expect(page.locator("[data-resumed]")).to_have_count(0)
    walk = Walk.objects.get()
    Walk.objects.filter(pk=walk.pk).update(updated_at=timezone.now() - timedelta(hours=3))
    page.reload()
    banner = page.locator("[data-resumed]")
    expect(banner).to_contain_text("You are reopening a case")
    expect(banner).to_contain_text(timezone.localtime(walk.created_at).strftime("%H:%M"))
    banner.get_by_role("link", name="Start a new case instead").click()
    expect(page.locator("[data-unfinished]")).to_have_count(0)
    expect(page.get_by_role("button", name="Start a new case")).to_be_visible()


def test_an_answer_sent_the_moment_its_step_appears_still_goes_through_htmx(page: Page) -> None:
    """A quick keyboard user can answer a swapped step at once: htmx must have wired its form up
    by then, or the answer leaves as a plain post and the page reloads (losing the focus)."""
    wizard = Wizard(page)
    wizard.start()
    page.evaluate(
        """() => {
          window.e2eSameDocument = true;
          document.addEventListener("htmx:afterSwap", (event) => {
            if (event.detail.target.id !== "walk" || window.e2eAnswered) { return; }
            window.e2eAnswered = true;
            setTimeout(() => {  // the next task after the swap: no human is quicker
              document.querySelector("#walk form[data-step] [name=functional_status]").checked = true;
              document.querySelector("#walk form[data-step] button[type=submit]").click();
            }, 0);
          });
        }"""
    )
    wizard.fill({"suspected_syndrome": "none"})
    page.locator("#walk form[data-step] button[type=submit]").click()
    expect(page.locator("[name=disease_extent]").first).to_be_attached()
    assert page.evaluate("window.e2eSameDocument === true"), "the quick answer reloaded the page"
    posts = wizard.traffic.posts()
    assert [htmx for _method, _url, htmx, _status in posts[-2:]] == [True, True], posts
    expect(page.locator("#step-title")).to_be_focused()
