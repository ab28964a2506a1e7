"""Editing in clinical words: values with the controls of their questions (no JSON), rules as
sentences and found by recommendation title, fixed contract codes, the version overview's queries,
the audit trail and the front page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pathways import authoring
from pathways.models import (
    EdgeCondition,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    SafetyRule,
    Variable,
)
from tests.conftest import EDITORS, logged_in, make_user
from tests.test_admin import change_url, form_data
from tests.test_admin_forms import as_post, parse_form

pytestmark = pytest.mark.django_db

FORMAL = "Formal resection for a nonfunctioning tumour over 2 cm"


@pytest.fixture
def admin(superuser_client: Client) -> Client:
    return superuser_client


@pytest.fixture
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


def size_condition(draft: PathwayVersion) -> EdgeCondition:
    return EdgeCondition.objects.get(
        edge__version=draft, edge__source__slug="nf_differentiation", variable__key="tumor_size_cm", op="gt"
    )


def prefix_of(data: dict[str, Any], condition: EdgeCondition) -> str:
    return next(
        key[: -len("-id")] for key, value in data.items() if key.endswith("-id") and value == condition.pk
    )


def post_condition(admin: Client, condition: EdgeCondition, **changes: Any) -> Any:
    url = change_url(condition.edge)
    data = form_data(admin.get(url))
    prefix = prefix_of(data, condition)
    for name, value in changes.items():
        data[f"{prefix}-{name}"] = value
    return admin.post(url, data)


def test_number_condition_shows_its_unit_and_only_the_operators_of_numbers(
    admin: Client, draft: PathwayVersion
) -> None:
    page = admin.get(change_url(size_condition(draft).edge)).content.decode()
    assert 'class="pathway-number"' in page and 'value="2.0"' in page
    assert '<span class="pathway-unit">cm</span>' in page
    assert '<option value="gt" selected data-kinds="number">over (&gt;)</option>' in page
    assert '<option value="in" data-kinds="choice" hidden>' in page
    assert "pathways/values.js" in page


def test_a_number_typed_with_a_decimal_comma_and_unit_is_stored_as_a_number(
    admin: Client, draft: PathwayVersion
) -> None:
    condition = size_condition(draft)
    assert post_condition(admin, condition, value="2,5 cm").status_code == 302
    condition.refresh_from_db()
    assert condition.value == 2.5 and isinstance(condition.value, float)


def test_an_unchanged_form_keeps_the_stored_number_and_its_type(admin: Client, draft: PathwayVersion) -> None:
    condition = size_condition(draft)
    assert post_condition(admin, condition).status_code == 302
    condition.refresh_from_db()
    assert condition.value == 2.0 and isinstance(condition.value, float)


def test_a_word_for_a_number_is_refused_with_what_to_type(admin: Client, draft: PathwayVersion) -> None:
    response = post_condition(admin, size_condition(draft), value="two")
    assert response.status_code == 200
    assert "Enter a plain number" in response.content.decode()


def test_a_number_in_another_unit_is_refused_with_its_conversion_and_changes_nothing(
    admin: Client, draft: PathwayVersion
) -> None:
    # Converted, "25 mm" would be rounded: a rule's boundary must be what the editor typed.
    Variable.objects.filter(version=draft, key="tumor_size_cm").update(
        other_units=[{"unit": "mm", "factor": 0.1, "basis": "10 mm to the centimetre"}]
    )
    condition = size_condition(draft)
    response = post_condition(admin, condition, value="25 mm")
    assert response.status_code == 200
    assert (
        "Type it in cm, the unit Tumour size is kept in: 25 mm is 2.5 cm (1 mm = 0.1 cm; "
        "10 mm to the centimetre)." in response.content.decode()
    )
    condition.refresh_from_db()
    assert condition.value == 2.0
    assert post_condition(admin, condition, value="2.5 cm").status_code == 302


def test_yes_no_questions_take_yes_or_no_and_only_is_or_is_not(admin: Client, draft: PathwayVersion) -> None:
    condition = size_condition(draft)
    incidental = Variable.objects.get(version=draft, key="incidental")
    # Without the page's script the number control stays: the server says what to choose instead.
    response = post_condition(admin, condition, variable=incidental.pk, op="eq", value="2.0")
    page = response.content.decode()
    assert response.status_code == 200 and "Choose Yes or No for Found incidentally" in page
    assert 'type="radio"' in page and 'value="true"' in page  # redrawn for the question chosen
    response = post_condition(admin, condition, variable=incidental.pk, op="gt", value="true")
    assert "does not fit Found incidentally" in response.content.decode()
    assert post_condition(admin, condition, variable=incidental.pk, op="eq", value="true").status_code == 302
    condition.refresh_from_db()
    assert (condition.variable_id, condition.op, condition.value) == (incidental.pk, "eq", True)


def test_choices_are_offered_by_label_and_stored_by_value(admin: Client, draft: PathwayVersion) -> None:
    condition = EdgeCondition.objects.filter(edge__version=draft, op="in").select_related("variable").first()
    assert condition is not None
    page = admin.get(change_url(condition.edge)).content.decode()
    value, label = condition.variable.choices[0]
    assert f'value="{value}"' in page and f"> {label}</label>" in page
    response = post_condition(admin, condition, value=[value, "not-a-choice"])
    assert "has no answer “not-a-choice”" in response.content.decode()
    assert post_condition(admin, condition, value=[value]).status_code == 302
    condition.refresh_from_db()
    assert condition.value == [value]


def test_test_case_answers_are_edited_question_by_question(admin: Client, draft: PathwayVersion) -> None:
    case = PathwayTestCase.objects.filter(version=draft, case__has_key="tumor_size_cm").first()
    assert case is not None
    stored = dict(case.case)
    url = change_url(case)
    data = as_post(parse_form(admin.get(url).content.decode()).fields)  # as a browser posts it
    assert "case" not in data and data["case-tumor_size_cm"] == [str(stored["tumor_size_cm"])]
    data["case-tumor_size_cm"] = "abc"
    assert "Tumour size: Enter a plain number" in admin.post(url, data).content.decode()
    data["case-tumor_size_cm"] = "2.2"
    data["case-incidental"] = ""
    assert admin.post(url, data).status_code == 302
    case.refresh_from_db()
    expected = {**stored, "tumor_size_cm": 2.2}
    expected.pop("incidental", None)
    assert case.case == expected


def test_safety_rule_codes_are_chosen_by_title_and_keep_their_order(
    admin: Client, draft: PathwayVersion
) -> None:
    rule = SafetyRule.objects.get(version=draft, name="every-walk-baseline")
    page = admin.get(change_url(rule)).content.decode()
    assert "Multidisciplinary decision-making (general.multidisciplinary)" in page
    data = form_data(admin.get(change_url(rule)))
    assert admin.post(change_url(rule), data).status_code == 302
    rule.refresh_from_db()
    assert rule.must_include[0] == "general.multidisciplinary" and len(rule.must_include) == 5


def test_searching_formal_finds_the_rule_and_the_recommendation(admin: Client, draft: PathwayVersion) -> None:
    query = {"version__id__exact": draft.pk, "q": "formal"}
    rules = admin.get(reverse("admin:pathways_edge_changelist"), query).content.decode()
    assert f"Tumour size over 2 cm → {FORMAL}" in rules
    recs = admin.get(reverse("admin:pathways_recommendation_changelist"), query).content.decode()
    assert "Formal resection with lymph node dissection" in recs


def test_step_page_shows_its_rules_as_sentences(admin: Client, draft: PathwayVersion) -> None:
    node = size_condition(draft).edge.source
    page = admin.get(change_url(node)).content.decode()
    assert f"Tumour size over 2 cm → {FORMAL}" in page
    assert "Tumour size at most 2 cm → Resection for a nonfunctioning tumour of 2 cm or less" in page


def test_a_published_code_is_read_only_in_a_draft_and_a_new_one_is_not(
    admin: Client, draft: PathwayVersion
) -> None:
    published = Recommendation.objects.get(version=draft, code="nf.formal_resection_lnd")
    assert 'name="code"' not in admin.get(change_url(published)).content.decode()
    new = Recommendation.objects.create(
        version=draft, code="nf.new_code", section="general", title="T", text="T"
    )
    assert 'name="code"' in admin.get(change_url(new)).content.decode()


def test_version_overview_loads_with_a_bounded_number_of_queries(
    admin: Client, draft: PathwayVersion
) -> None:
    admin.get(change_url(draft))  # the gate's report for this content is kept
    with CaptureQueriesContext(connection) as queries:
        page = admin.get(change_url(draft)).content.decode()
    assert len(queries) <= 45, len(queries)
    assert f"Tumour size over 2 cm → {FORMAL}" in page and "[{" not in page
    assert "Preview this draft" in page and "opens in a new tab" in page


def test_audit_trail_groups_the_copy_and_names_each_edit_clinically(
    admin: Client, superuser: Any, draft: PathwayVersion
) -> None:
    editor = make_user("editor", EDITORS)
    condition = size_condition(draft)
    assert post_condition(logged_in(editor), condition, value="2.5").status_code == 302
    url = reverse("admin:pathways_pathwayversion_audit", args=[draft.pk])
    page = admin.get(url).content.decode()
    assert page.count("Draft copied from version 3") == 1 and "Created" not in page
    assert f"Changed rule “Tumour size over 2 cm → {FORMAL}” to “Tumour size over 2.5 cm”" in page
    mine = admin.get(url, {"person": superuser.pk}).content.decode()
    assert "Tumour size over 2.5 cm" not in mine
    theirs = admin.get(url, {"person": editor.pk}).content.decode()
    assert "Tumour size over 2.5 cm" in theirs and "Draft copied" not in theirs
    older = admin.get(url, {"version": draft.based_on_id}).content.decode()
    assert "Tumour size over 2.5 cm" not in older


def test_front_page_lists_pathways_and_versions_then_parts_in_workflow_order(
    admin: Client, draft: PathwayVersion
) -> None:
    page = admin.get(reverse("admin:index")).content.decode()
    assert f'href="{change_url(draft)}">Version {draft.number}</a>' in page
    order = ["Pathways and their versions", "Versions (drafts", "Steps:", "Rules:", "Questions&#x27; answers"]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)


def test_a_choice_questions_answers_are_edited_one_a_line(admin: Client, draft: PathwayVersion) -> None:
    variable = Variable.objects.get(version=draft, key="disease_extent")
    stored = list(variable.choices)
    url = change_url(variable)
    data = as_post(parse_form(admin.get(url).content.decode()).fields)
    assert data["choices"] == ["\n".join(f"{value} = {label}" for value, label in stored)]
    data["choices"] = ["localized Localized"]
    assert "Line 1: write the stored value" in admin.post(url, data).content.decode()
    data["choices"] = [data_line + "\n" for data_line in ["localized = Localized and resectable"]]
    assert admin.post(url, data).status_code == 302
    variable.refresh_from_db()
    assert variable.choices == [["localized", "Localized and resectable"]]


def test_a_numbers_other_units_are_edited_one_a_line(admin: Client, draft: PathwayVersion) -> None:
    variable = Variable.objects.get(version=draft, key="glucose_mg_dl")
    url = change_url(variable)
    page = admin.get(url).content.decode()
    assert "Also accepted in" in page
    data = as_post(parse_form(page).fields)
    assert data["other_units"] == [
        "mmol/L = 18.016; molar mass of glucose (C6H12O6) 180.16 g/mol, from the IUPAC standard "
        "atomic weights"
    ]
    data["other_units"] = ["mmol/L 18"]
    assert "Line 1: write the unit" in admin.post(url, data).content.decode()
    data["other_units"] = ["mmol/L = 18,02; rounded\n"]
    assert admin.post(url, data).status_code == 302
    variable.refresh_from_db()
    assert variable.other_units == [{"unit": "mmol/L", "factor": 18.02, "basis": "rounded"}]


def test_a_published_numbers_answers_and_other_units_read_as_lines_not_json(
    admin: Client, pnet_version: PathwayVersion
) -> None:
    for key, shown in (
        ("glucose_mg_dl", "mmol/L = 18.016; molar mass of glucose (C6H12O6) 180.16 g/mol"),
        ("disease_extent", "localized = Localized and resectable"),
    ):
        variable = Variable.objects.get(version=pnet_version, key=key)
        page = admin.get(change_url(variable)).content.decode()
        assert "Also accepted in" in page and "Answers" in page
        assert shown in page
        assert '"factor"' not in page and "&quot;factor&quot;" not in page and "[[" not in page
