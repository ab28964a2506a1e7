"""Laboratory values in their other common units (version 3): converted, and the conversion said.

The factor of a laboratory unit depends on the substance, so it is content (each variable's
``other_units``, with where the factor comes from), never code; a published version keeps its own.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from pathways import diff, engine, validation
from pathways.admin.values import OtherUnitLinesField
from pathways.document import snapshot_from_document
from pathways.models import Walk
from tests.conftest import CONTENT_V2, CONTENT_V3
from tests.test_views import HTMX, answer, start

GLUCOSE = "glucose_mg_dl"


def _read(path: Any) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def v3_document() -> dict[str, Any]:
    return _read(CONTENT_V3)


@pytest.fixture(scope="module")
def v3(v3_document: dict[str, Any]) -> engine.Snapshot:
    return snapshot_from_document(v3_document)


# Reading what is typed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5.5 mmol/L", 99.09),
        ("5,5 mmol/l", 99.09),  # a decimal comma, the unit in any case
        ("5.5\u00a0mmol/L", 99.09),  # a no-break space
        ("2.8mmol/L", 50.44),
        ("0 mmol/L", 0),
        ("99", 99),
        ("99 mg/dL", 99),
    ],
)
def test_glucose_is_read_in_mg_dl_or_converted_from_mmol_l(
    v3: engine.Snapshot, text: str, value: float
) -> None:
    entry = v3.variables[GLUCOSE].read(text)
    assert entry.error is None
    assert entry.value == value
    assert (entry.converted is not None) == ("mmol" in text.lower())


def test_a_conversion_says_what_was_typed_what_it_became_and_why(v3: engine.Snapshot) -> None:
    said = v3.variables[GLUCOSE].read("5,5 mmol/L").converted
    assert said == (
        "5.5 mmol/L is 99.09 mg/dL (1 mmol/L = 18.016 mg/dL; molar mass of glucose (C6H12O6) "
        "180.16 g/mol, from the IUPAC standard atomic weights)."
    )


def test_a_converted_value_beyond_the_range_is_refused_in_both_units(v3: engine.Snapshot) -> None:
    entry = v3.variables[GLUCOSE].read("200 mmol/L")
    assert entry.value is None
    assert entry.error is not None
    assert "200 mmol/L is 3,603 mg/dL" in entry.error
    assert "at most 2,000 mg/dL" in entry.error


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("urinary_5hiaa_mg_24h", "30 µmol/24 h", 5.736),
        ("urinary_5hiaa_mg_24h", "30 umol/24h", 5.736),
        ("urinary_5hiaa_mg_24h", "6 mg/24 h", 6),  # its own unit, digits and all
        ("potassium_mmol_l", "3.1 mEq/L", 3.1),
        ("chromogranin_a_ng_ml", "120 µg/L", 120),
        ("gastrin_pg_ml", "1,5 ng/L", 1.5),  # factor 1: the number as typed
        ("vip_pg_ml", "75 ng/l", 75),
    ],
)
def test_the_other_laboratory_values_accept_their_other_units(
    v3: engine.Snapshot, key: str, text: str, value: float
) -> None:
    entry = v3.variables[key].read(text)
    assert (entry.value, entry.error) == (value, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5 mmol", "Enter the value in mg/dL or mmol/L (“mmol” is neither)."),
        ("5 mg/24 h", "Enter the value in mg/dL or mmol/L (“mg/24 h” is neither)."),
        ("1e3", "Enter a plain number"),
        ("5 2", "Enter a plain number"),
        ("5,500 mmol/L", "could mean 5.500 or 5500"),
    ],
)
def test_other_text_after_a_number_is_still_refused(v3: engine.Snapshot, text: str, message: str) -> None:
    entry = v3.variables[GLUCOSE].read(text)
    assert entry.value is None and entry.error is not None
    assert message in entry.error


def test_insulin_and_c_peptide_keep_their_one_unit(v3: engine.Snapshot) -> None:
    # Their molar factors differ between assays and conventions: no conversion is offered.
    for key, text in (("insulin_uu_ml", "60 pmol/L"), ("c_peptide_ng_ml", "0.2 nmol/L")):
        entry = v3.variables[key].read(text)
        assert entry.value is None and "is not that unit" in str(entry.error)


def test_version_2_as_published_keeps_refusing_mmol_l() -> None:
    v2 = snapshot_from_document(_read(CONTENT_V2))
    entry = v2.variables[GLUCOSE].read("5.5 mmol/L")
    assert entry.value is None and entry.error == "Enter the value in mg/dL (“mmol/L” is not that unit)."


@pytest.mark.parametrize(
    ("typed", "factor", "value"),
    [(5.5, 18.016, 99.09), (10, 18.016, 180.2), (1000, 18.016, 18016), (0.05, 18.016, 0.9008), (7, 1, 7)],
)
def test_a_converted_value_keeps_four_significant_digits(typed: float, factor: float, value: float) -> None:
    assert engine.converted_value(typed, factor) == value


# Version 3 is version 2 with the units ----------------------------------------------------------


def test_version_3_decides_every_case_class_exactly_as_version_2(v3: engine.Snapshot) -> None:
    v2 = snapshot_from_document(_read(CONTENT_V2))
    classes = list(engine.enumerate_cases(v2))
    assert classes
    for case, before in classes:
        after = engine.evaluate(v3, case)
        assert (after.path, after.codes) == (before.path, before.codes), case
    assert len(list(engine.enumerate_cases(v3))) == len(classes)


def test_version_3_differs_from_version_2_only_in_other_units_and_its_note(
    v3_document: dict[str, Any],
) -> None:
    v2_document = _read(CONTENT_V2)
    stripped = copy.deepcopy(v3_document)
    for item in stripped["variables"]:
        item.pop("other_units", None)
    assert stripped["version"]["number"] == 3
    stripped["version"] = v2_document["version"]
    assert stripped == v2_document


def test_version_3_passes_the_gate(v3_document: dict[str, Any]) -> None:
    report = validation.check_document(v3_document)
    assert not report.errors, report.errors


def test_the_clinical_diff_names_each_new_unit(v3_document: dict[str, Any]) -> None:
    changes = [change.text for change in diff.diff_documents(_read(CONTENT_V2), v3_document)]
    assert "“Glucose”: may also be entered in mmol/L (1 mmol/L = 18.016 mg/dL)." in changes
    assert sum("may also be entered in" in text for text in changes) == 7


# The gate refuses what could not be read --------------------------------------------------------


def _with_units(document: dict[str, Any], key: str, units: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for item in changed["variables"]:
        if item["key"] == key:
            item["other_units"] = units
    return changed


@pytest.mark.parametrize(
    ("key", "units", "message"),
    [
        (GLUCOSE, [{"unit": "mmol/L", "factor": 0}], "factor must be a positive number"),
        (GLUCOSE, [{"unit": "mmol/L", "factor": -18}], "factor must be a positive number"),
        (GLUCOSE, [{"unit": "mmol/L", "factor": "18"}], "factor must be a positive number"),
        (GLUCOSE, [{"unit": "mmol/L", "factor": True}], "factor must be a positive number"),
        (GLUCOSE, [{"unit": "MG/DL", "factor": 1}], "is the variable's own unit"),
        (GLUCOSE, [{"unit": "mmol/L", "factor": 18}, {"unit": "mmol/l", "factor": 18}], "listed twice"),
        (GLUCOSE, [{"unit": "/L", "factor": 1}], "must begin with a letter"),
        (GLUCOSE, [{"unit": "", "factor": 1}], "unit must be text"),
        (GLUCOSE, [{"unit": "mmol/L", "factor": 18, "colour": "red"}], "a unit, a factor and a basis only"),
        (GLUCOSE, {"unit": "mmol/L"}, "must be a list"),
        ("functional_status", [{"unit": "mmol/L", "factor": 18}], "only a number with a unit"),
    ],
)
def test_the_gate_refuses_other_units_it_could_not_read(
    v3_document: dict[str, Any], key: str, units: Any, message: str
) -> None:
    report = validation.check_document(_with_units(v3_document, key, units))
    assert any(message in problem.message for problem in report.errors), report.errors


def test_the_gate_refuses_invisible_characters_in_a_unit_or_its_basis(v3_document: dict[str, Any]) -> None:
    for units in (
        [{"unit": "mmol\u202e/L", "factor": 18.016, "basis": ""}],
        [{"unit": "mmol/L", "factor": 18.016, "basis": "glucose\u200b"}],
    ):
        report = validation.check_document(_with_units(v3_document, GLUCOSE, units))
        assert any(problem.code == "unsafe-text" for problem in report.errors), report.errors


# The wizard -----------------------------------------------------------------------------------


def _at_the_insulinoma_workup(client: Client) -> Walk:
    walk = start(client)
    assert answer(client, walk, "syndrome", {"suspected_syndrome": "insulinoma"}).status_code == 303
    walk.refresh_from_db()
    return walk


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{}, HTMX], ids=["page", "htmx"])
def test_glucose_in_mmol_l_is_recorded_in_mg_dl_and_the_next_page_says_so(
    client: Client, pnet_version: Any, extra: dict[str, str]
) -> None:
    walk = _at_the_insulinoma_workup(client)
    data = {"functional_status": "insulinoma", GLUCOSE: "2,4 mmol/L"}
    response = answer(client, walk, "biochem_insulinoma", data, **extra)
    if not extra:
        assert response.status_code == 303
        response = client.get(response["Location"])
    html = response.content.decode()
    walk.refresh_from_db()
    assert walk.answers[GLUCOSE] == 43.24
    assert "data-converted" in html
    assert "Glucose: 2.4 mmol/L is 43.24 mg/dL (1 mmol/L = 18.016 mg/dL;" in html
    # Said once: the page after that does not repeat it.
    assert "data-converted" not in client.get(response.wsgi_request.path).content.decode()


@pytest.mark.django_db
def test_the_step_tells_which_other_units_it_accepts(client: Client, pnet_version: Any) -> None:
    walk = _at_the_insulinoma_workup(client)
    from tests.test_views import step_url

    html = client.get(step_url(walk, "biochem_insulinoma")).content.decode()
    assert "Also accepted, converted: mmol/L (1 mmol/L = 18.016 mg/dL)." in html
    assert "Also accepted, converted: µmol/24 h (1 µmol/24 h = 0.19119 mg/24 h)." in html


@pytest.mark.django_db
def test_a_glucose_in_mmol_l_beyond_the_range_is_refused_and_changes_nothing(
    client: Client, pnet_version: Any
) -> None:
    walk = _at_the_insulinoma_workup(client)
    data = {"functional_status": "insulinoma", GLUCOSE: "200 mmol/L"}
    response = answer(client, walk, "biochem_insulinoma", data)
    assert response.status_code == 422
    assert "200 mmol/L is 3,603 mg/dL" in response.content.decode()
    walk.refresh_from_db()
    assert walk.answers == {"suspected_syndrome": "insulinoma"} and walk.revision == 1


# The admin writes them as lines, never JSON -------------------------------------------------------


def test_other_units_are_edited_as_one_line_each() -> None:
    field = OtherUnitLinesField(required=False)
    stored = [{"unit": "mmol/L", "factor": 18.016, "basis": "molar mass of glucose 180.16 g/mol"}]
    text = field.prepare_value(stored)
    assert text == "mmol/L = 18.016; molar mass of glucose 180.16 g/mol"
    assert field.clean(text) == stored
    assert field.clean("mmol/L = 18,02") == [{"unit": "mmol/L", "factor": 18.02, "basis": ""}]
    assert not field.has_changed(stored, text)


@pytest.mark.parametrize(
    "line", ["mmol/L", "= 18", "mmol/L = 0", "mmol/L = -1", "mmol/L = eighteen", "mmol/L = 18,016"]
)
def test_a_line_without_a_unit_or_a_positive_factor_is_refused(line: str) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Line 1: write the unit"):
        OtherUnitLinesField(required=False).clean(line)
