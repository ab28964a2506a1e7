"""Newer-guidance notes: pathway data shown beside a result where newer guidance differs from the
source, never changing routing, codes or texts."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from pathways import engine, selectors, validation
from pathways.content_io import export_document, import_document
from pathways.document import snapshot_from_document
from pathways.models import GuidanceNote, GuidanceNoteCondition, PathwayVersion
from tests import cases
from tests.walking import walk_with

# These tests add notes to version 1, which has no notes of its own (and no Ki-67 question for
# localized disease).
OBSERVATION_CASE = cases.version_1(cases.NONFUNCTIONING_INCIDENTAL_0_9CM)

VERSION_2_FILE = Path(__file__).resolve().parent.parent / "pathways" / "content" / "pnet-v2.json"


def version_2_notes() -> list[dict[str, Any]]:
    return json.loads(VERSION_2_FILE.read_text(encoding="utf-8"))["newer_guidance"]


SSA_CASE = cases.ADVANCED_SSTR_POSITIVE
WELL_G3_CASE = cases.METASTATIC_WELL_DIFFERENTIATED_G3
POOR_G3_CASE = cases.METASTATIC_POORLY_DIFFERENTIATED_G3


def note(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "text": fields.pop("text", f"What {code} says."),
        "source": fields.pop("source", "Someone et al. J Something 2024;1:1-2"),
        "source_url": fields.pop("source_url", ""),
        "checked_on": fields.pop("checked_on", "2026-12-01"),
        "when_codes": fields.pop("when_codes", []),
        "unless_codes": fields.pop("unless_codes", []),
        "conditions": fields.pop("conditions", []),
        **fields,
    }


# Only version-1 variables and codes, so the notes pass the gate on the bundled version 1.
NOTES = [
    note("newer.hereditary_screening", text="About 10 % are **hereditary**."),
    note(
        "newer.prrt",
        when_codes=["adv.ssa", "adv.targeted_therapy_wd_g3"],
        source="NETTER-2 (Singh et al., Lancet 2024;403:2807-2817)",
    ),
    note(
        "newer.ssa_ki67_below_10",
        when_codes=["adv.ssa"],
        conditions=[{"variable": "ki67_percent", "op": "ge", "value": 10}],
    ),
    note(
        "newer.nec_platinum_etoposide",
        when_codes=["adv.chemotherapy_g3"],
        conditions=[{"variable": "differentiation", "op": "eq", "value": "poor"}],
        source="Sorbye et al., J Neuroendocrinol 2023;35:e13249",
        source_url="https://doi.org/10.1111/jne.13249",
    ),
]


def with_notes(document: dict[str, Any], notes: list[dict[str, Any]] = NOTES) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["newer_guidance"] = copy.deepcopy(notes)
    return changed


def shown(snapshot: engine.Snapshot, case: dict[str, Any]) -> list[str]:
    answers, errors = engine.validate_case(snapshot, case)
    assert not errors, errors
    result = engine.evaluate(snapshot, answers)
    return [n.code for n in engine.newer_guidance(snapshot, result, answers)]


@pytest.fixture(scope="module")
def noted(pnet_document: dict[str, Any]) -> engine.Snapshot:
    return snapshot_from_document(with_notes(pnet_document))


def codes_of(problems: list[validation.Problem], code: str) -> list[str]:
    return [p.message for p in problems if p.code == code and p.severity == validation.ERROR]


# Engine ----------------------------------------------------------------------------------------


def test_a_note_without_when_codes_shows_on_every_complete_walk_only(noted: engine.Snapshot) -> None:
    assert shown(noted, OBSERVATION_CASE) == ["newer.hereditary_screening"]
    assert shown(noted, {"suspected_syndrome": "none"}) == []  # unfinished: no note yet


def test_prrt_note_shows_when_an_ssa_or_targeted_therapy_is_given(noted: engine.Snapshot) -> None:
    assert "newer.prrt" in shown(noted, SSA_CASE)
    assert "newer.prrt" in shown(noted, WELL_G3_CASE)
    assert "newer.prrt" not in shown(noted, POOR_G3_CASE)
    assert "newer.prrt" not in shown(noted, OBSERVATION_CASE)


def test_a_notes_variable_conditions_must_all_hold(noted: engine.Snapshot) -> None:
    assert "newer.ssa_ki67_below_10" in shown(noted, SSA_CASE)
    assert "newer.ssa_ki67_below_10" not in shown(noted, {**SSA_CASE, "ki67_percent": 9.9})
    assert "newer.nec_platinum_etoposide" in shown(noted, POOR_G3_CASE)
    assert "newer.nec_platinum_etoposide" not in shown(noted, WELL_G3_CASE)


def test_notes_come_in_display_order(noted: engine.Snapshot) -> None:
    assert shown(noted, SSA_CASE) == ["newer.hereditary_screening", "newer.prrt", "newer.ssa_ki67_below_10"]


def test_unless_codes_hide_a_note(pnet_document: dict[str, Any]) -> None:
    notes = [note("newer.resected_only", unless_codes=["nf.observation"])]
    snapshot = snapshot_from_document(with_notes(pnet_document, notes))
    assert shown(snapshot, OBSERVATION_CASE) == []
    assert shown(snapshot, SSA_CASE) == ["newer.resected_only"]


def test_an_answer_the_walk_never_asked_shows_no_note(pnet_document: dict[str, Any]) -> None:
    notes = [note("newer.poor", conditions=[{"variable": "differentiation", "op": "eq", "value": "poor"}])]
    snapshot = snapshot_from_document(with_notes(pnet_document, notes))
    case = {**SSA_CASE, "differentiation": "poor"}  # Ki-67 15 %: differentiation is not asked
    assert shown(snapshot, case) == []


def test_notes_change_no_routing_and_no_code(snapshot: engine.Snapshot, noted: engine.Snapshot) -> None:
    walks = list(engine.enumerate_cases(noted))
    assert len(walks) == len(list(engine.enumerate_cases(snapshot)))
    for answers, result in walks:
        assert engine.evaluate(snapshot, answers) == result


def test_a_document_without_newer_guidance_has_no_notes(snapshot: engine.Snapshot) -> None:
    assert snapshot.notes == ()
    assert shown(snapshot, SSA_CASE) == []


# Publish gate ----------------------------------------------------------------------------------


def test_notes_of_version_1_names_pass_the_publish_gate(pnet_document: dict[str, Any]) -> None:
    report = validation.check_document(with_notes(pnet_document))
    assert report.errors == []


@pytest.mark.parametrize("code", ["prrt", "newer.", "newer.PRRT", "newer.prrt now", "older.prrt"])
def test_a_note_code_must_read_newer_slug(pnet_document: dict[str, Any], code: str) -> None:
    problems = validation.validate_document(with_notes(pnet_document, [note(code)]))
    assert codes_of(problems, "bad-note-code")


def test_a_note_code_is_unique_in_the_version(pnet_document: dict[str, Any]) -> None:
    problems = validation.validate_document(with_notes(pnet_document, [note("newer.a"), note("newer.a")]))
    assert any("newer.a" in m for m in codes_of(problems, "duplicate"))


@pytest.mark.parametrize("missing", ["text", "source", "checked_on"])
def test_a_note_needs_its_text_source_and_checked_date(pnet_document: dict[str, Any], missing: str) -> None:
    document = with_notes(pnet_document, [note("newer.a", **{missing: ""})])
    assert any(
        f"has no “{missing}”" in m for m in codes_of(validation.validate_document(document), "malformed")
    )
    assert validation.document_errors(document)  # not importable either


def test_a_checked_date_must_be_a_date(pnet_document: dict[str, Any]) -> None:
    document = with_notes(pnet_document, [note("newer.a", checked_on="1 December 2026")])
    assert any("YYYY-MM-DD" in m for m in validation.document_errors(document))


def test_when_and_unless_codes_name_recommendations_of_the_version(pnet_document: dict[str, Any]) -> None:
    notes = [note("newer.a", when_codes=["adv.prrt"]), note("newer.b", unless_codes=["nf.nothing"])]
    messages = codes_of(validation.validate_document(with_notes(pnet_document, notes)), "unknown-code")
    assert any("adv.prrt" in m for m in messages) and any("nf.nothing" in m for m in messages)


def test_a_note_source_link_must_be_https(pnet_document: dict[str, Any]) -> None:
    notes = [note("newer.a", source_url="http://doi.org/10.1111/jne.13343")]
    assert codes_of(validation.validate_document(with_notes(pnet_document, notes)), "insecure-url")


def test_a_note_condition_must_name_a_valid_variable_and_value(pnet_document: dict[str, Any]) -> None:
    notes = [note("newer.a", conditions=[{"variable": "differentiation", "op": "eq", "value": "bad"}])]
    assert codes_of(validation.validate_document(with_notes(pnet_document, notes)), "bad-condition")


def test_a_note_tests_only_variables_asked_wherever_it_can_show(pnet_document: dict[str, Any]) -> None:
    poor = [{"variable": "differentiation", "op": "eq", "value": "poor"}]
    everywhere = with_notes(pnet_document, [note("newer.nec", conditions=poor)])
    messages = codes_of(validation.validate_document(everywhere), "not-asked")
    assert len(messages) == 1 and "newer.nec tests differentiation" in messages[0]
    on_g3 = with_notes(
        pnet_document, [note("newer.nec", conditions=poor, when_codes=["adv.chemotherapy_g3"])]
    )
    assert codes_of(validation.validate_document(on_g3), "not-asked") == []


def test_notes_not_asked_are_found_as_checking_each_class_in_turn_finds_them(
    pnet_document: dict[str, Any],
) -> None:
    poor = {"variable": "differentiation", "op": "eq", "value": "poor"}
    size = {"variable": "tumor_size_cm", "op": "ge", "value": 2}
    notes = [
        note("newer.a", conditions=[poor, size]),
        note("newer.b", conditions=[size], when_codes=["nf.observation"]),
        note("newer.c", conditions=[poor], unless_codes=["adv.chemotherapy_g3"]),
    ]
    document = with_notes(pnet_document, notes)
    snapshot = snapshot_from_document(document)
    classes = validation.case_classes(snapshot, validation.safety_rules_from_document(document))
    expected = []
    for found in snapshot.notes:  # class by class, in enumeration order
        bare = replace(found, conditions=())
        unasked: dict[str, Any] = {}
        for answers, result in classes:
            if bare.shows(frozenset(result.codes), answers):
                for condition in found.conditions:
                    if condition.variable not in result.asked:
                        unasked.setdefault(condition.variable, (answers, result))
        for key, (answers, result) in sorted(unasked.items()):
            example = json.dumps(answers, ensure_ascii=False, sort_keys=True)
            expected.append(
                f"The note {found.code} tests {key}, which is not asked on every walk where the note can "
                f"show, e.g. {example} (outcome {result.outcome})."
            )
    assert len(expected) >= 3
    assert codes_of(validation.validate_document(document), "not-asked") == expected


# The notes of version 2 --------------------------------------------------------------------------

CONTRACT_NOTES = {
    "newer.grade_before_surveillance",
    "newer.surveillance_up_to_2cm",
    "newer.prrt",
    "newer.captem",
    "newer.cabozantinib",
    "newer.ssa_ki67_below_10",
    "newer.nec_platinum_etoposide",
    "newer.hereditary_screening",
    "newer.asplenia_vaccines",
    "newer.followup_schedule",
    "newer.insulinoma_diagnosis",
}


def test_the_version_2_notes_are_the_contracts_and_link_only_the_given_dois() -> None:
    notes = version_2_notes()
    assert [n["code"] for n in notes if n["code"] in CONTRACT_NOTES] == [n["code"] for n in notes]
    assert {n["code"] for n in notes} == CONTRACT_NOTES
    assert {n["checked_on"] for n in notes} == {"2026-12-01"}
    assert {n["source_url"] for n in notes} == {
        "",
        "https://doi.org/10.1111/jne.13343",
        "https://doi.org/10.1111/jne.13249",
    }


def test_the_version_2_document_with_its_notes_passes_the_publish_gate() -> None:
    document = json.loads(VERSION_2_FILE.read_text(encoding="utf-8"))
    assert validation.check_document(document).errors == []


# Stored notes: import, export, snapshot --------------------------------------------------------


@pytest.fixture
def v1_version(pnet_version: PathwayVersion) -> PathwayVersion:
    """Version 1 of PNET (retired), which has no newer-guidance notes."""
    return PathwayVersion.objects.get(pathway__slug="pnet", number=1)


@pytest.fixture
def noted_version(pnet_version: PathwayVersion, pnet_document: dict[str, Any]) -> PathwayVersion:
    version = import_document(with_notes(pnet_document), status="published")
    selectors.clear_snapshot_cache()
    return version


@pytest.mark.django_db
def test_export_import_export_keeps_the_notes(noted_version: PathwayVersion) -> None:
    exported = export_document(noted_version)
    assert exported["newer_guidance"] == NOTES
    again = export_document(import_document(copy.deepcopy(exported)))
    assert again["newer_guidance"] == exported["newer_guidance"]
    assert {k: v for k, v in again.items() if k != "version"} == {
        k: v for k, v in exported.items() if k != "version"
    }


@pytest.mark.django_db
def test_stored_notes_build_the_same_snapshot_as_their_export(noted_version: PathwayVersion) -> None:
    built = selectors.snapshot_for(noted_version)
    assert built.notes == snapshot_from_document(export_document(noted_version)).notes
    assert [n.code for n in built.notes] == [n["code"] for n in NOTES]
    assert built.notes[3].conditions == (engine.Condition("differentiation", "eq", "poor"),)


@pytest.mark.django_db
def test_a_version_without_notes_exports_none_and_keeps_its_hash(v1_version: PathwayVersion) -> None:
    from pathways.content_io import content_hash

    exported = export_document(v1_version)
    assert "newer_guidance" not in exported
    assert content_hash(exported) == v1_version.content_hash


@pytest.mark.django_db
def test_a_published_versions_notes_cannot_change(noted_version: PathwayVersion) -> None:
    from pathways.models import ImmutableVersionError

    stored = GuidanceNote.objects.get(version=noted_version, code="newer.prrt")
    stored.text = "Changed"
    with pytest.raises(ImmutableVersionError):
        stored.save()
    with pytest.raises(ImmutableVersionError):
        GuidanceNoteCondition.objects.filter(note__version=noted_version).first().delete()


# Evaluation answer ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_answer_lists_the_notes_in_display_order(noted_version: PathwayVersion) -> None:
    response = Client().post("/api/pathways/pnet/evaluate", SSA_CASE, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["newer_guidance"] == ["newer.hereditary_screening", "newer.prrt", "newer.ssa_ki67_below_10"]
    assert not set(body["newer_guidance"]) & set(body["recommendations"])


@pytest.mark.django_db
def test_api_answer_has_an_empty_list_without_notes_or_before_the_end(
    pnet_version: PathwayVersion, pnet_document: dict[str, Any]
) -> None:
    import_document(copy.deepcopy(pnet_document), status="published")  # a version without notes
    selectors.clear_snapshot_cache()
    client = Client()
    complete = client.post("/api/pathways/pnet/evaluate", SSA_CASE, content_type="application/json").json()
    assert complete["complete"] and complete["newer_guidance"] == []


@pytest.mark.django_db
def test_api_answer_of_an_unfinished_case_lists_no_notes(noted_version: PathwayVersion) -> None:
    body = (
        Client()
        .post("/api/pathways/pnet/evaluate", {"suspected_syndrome": "none"}, content_type="application/json")
        .json()
    )
    assert body["complete"] is False and body["newer_guidance"] == []


@pytest.mark.django_db
def test_evaluate_command_lists_the_notes(noted_version: PathwayVersion, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(POOR_G3_CASE), encoding="utf-8")
    out = io.StringIO()
    call_command("evaluate_pathway", "pnet", str(case), stdout=out)
    assert json.loads(out.getvalue())["newer_guidance"] == [
        "newer.hereditary_screening",
        "newer.nec_platinum_etoposide",
    ]


# Result page -------------------------------------------------------------------------------------


def result_page(version: PathwayVersion, case: dict[str, Any], client: Client | None = None) -> str:
    walk = walk_with(version, case)
    url = reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk})
    response = (client or Client()).get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_result_page_shows_the_notes_after_the_management(noted_version: PathwayVersion) -> None:
    html = result_page(noted_version, POOR_G3_CASE)
    heading = html.index('<h2 id="newer-title" class="h5">Newer guidance differs from the source here</h2>')
    assert html.index('data-code="adv.chemotherapy_g3"') < heading
    assert 'data-newer="newer.hereditary_screening"' in html
    assert 'data-newer="newer.nec_platinum_etoposide"' in html
    assert 'data-newer="newer.prrt"' not in html
    assert 'data-code="newer.' not in html
    assert "About 10 % are <strong>hereditary</strong>." in html  # Markdown, sanitised
    assert (
        '<a href="https://doi.org/10.1111/jne.13249" rel="noopener">Sorbye et al., J Neuroendocrinol '
        "2023;35:e13249</a>" in html
    )
    block = html.split('<section class="newer-guidance', 1)[1].split("</section>", 1)[0]
    assert block.count("checked 1 December 2026") == 2 and "data-code" not in block


@pytest.mark.django_db
def test_result_text_for_the_note_names_the_newer_guidance_on_one_line(noted_version: PathwayVersion) -> None:
    """The note stays short (at most 25 lines): one line names the sources of the newer guidance
    shown; their texts are on the result."""
    html = result_page(noted_version, POOR_G3_CASE)
    text = html.split('id="report-text"', 1)[1].split("</textarea>", 1)[0]
    lines = [
        line for line in text.splitlines() if line.startswith("Newer guidance differs from the source here:")
    ]
    assert len(lines) == 1, text
    assert "Sorbye et al., J Neuroendocrinol 2023;35:e13249" in lines[0]
    assert "newer.nec_platinum_etoposide says" not in text


@pytest.mark.django_db
def test_result_page_without_notes_has_no_newer_guidance_block(v1_version: PathwayVersion) -> None:
    html = result_page(v1_version, POOR_G3_CASE)
    assert "data-newer" not in html and "Newer guidance differs" not in html


HOSTILE = note(
    "newer.hostile",
    text='<script>window.pwned=1</script><img src=x onerror="window.pwned=1"> [x](javascript:alert(1))',
    source='<b onmouseover="window.pwned=1">Evil</b> & co',
    source_url="javascript:alert(1)",
)


@pytest.mark.django_db
def test_hostile_note_text_and_source_are_escaped(pnet_version: PathwayVersion, pnet_document: dict) -> None:
    # Imported straight as published, past the publish gate that would refuse the link.
    version = import_document(with_notes(pnet_document, [HOSTILE]), status="published")
    html = result_page(version, OBSERVATION_CASE)
    block = html.split('data-newer="newer.hostile"', 1)[1].split("</li>", 1)[0]
    assert "<script" not in block and "<img" not in block and "onerror" not in block
    assert "javascript:" not in block
    assert "&lt;b onmouseover=&quot;window.pwned=1&quot;&gt;Evil&lt;/b&gt; &amp; co" in block
    assert "<a " not in block.split("newer-source", 1)[1]  # no link for a non-https source


# Admin -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_editor_adds_a_note_with_a_condition_in_the_admin(v1_version: PathwayVersion) -> None:
    from pathways import authoring

    draft = authoring.new_draft(v1_version)
    editor = get_user_model().objects.create_user("ed", password="a-long-password-1", is_staff=True)
    editor.groups.add(Group.objects.get(name="Pathway editors"))
    client = Client()
    client.force_login(editor)
    variable = draft.variables.get(key="ki67_percent")
    prefix = "conditions"
    response = client.post(
        reverse("admin:pathways_guidancenote_add"),
        {
            "version": draft.pk,
            "code": "newer.ssa_ki67_below_10",
            "text": "Lanreotide's evidence enrolled Ki-67 < 10 %.",
            "source": "CLARINET (Caplin et al., N Engl J Med 2014;371:224-233)",
            "source_url": "",
            "checked_on": "2026-12-01",
            "when_codes": ["adv.ssa"],
            "order": "0",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-variable": variable.pk,
            f"{prefix}-0-op": "ge",
            f"{prefix}-0-value": "10",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    snapshot = selectors.snapshot_for(PathwayVersion.objects.get(pk=draft.pk))
    assert snapshot.notes == (
        replace(
            snapshot.notes[0],
            code="newer.ssa_ki67_below_10",
            when_codes=("adv.ssa",),
            conditions=(engine.Condition("ki67_percent", "ge", 10),),
        ),
    )
    assert authoring.check_version(draft).errors == []
    assert Permission.objects.filter(group__name="Pathway publishers", codename="add_guidancenote").exists()


@pytest.mark.django_db
def test_a_published_versions_note_is_read_only_in_the_admin(noted_version: PathwayVersion) -> None:
    root = get_user_model().objects.create_superuser("root", "root@example.org", "a-long-password-1")
    client = Client()
    client.force_login(root)
    stored = GuidanceNote.objects.get(version=noted_version, code="newer.prrt")
    url = reverse("admin:pathways_guidancenote_change", args=[stored.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
