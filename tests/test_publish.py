"""The publish page: the word-by-word diff, texts that still state a moved threshold (confirmed
before publishing), the publish itself, and "What's new" for clinicians."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pathways import authoring, engine, stale_text, validation
from pathways.fhir import check as fhir_check
from pathways.fhir import export as fhir_export
from pathways.models import (
    EdgeCondition,
    GateReport,
    GuidanceNote,
    ParsedExpression,
    PathwayVersion,
    Recommendation,
    SafetyRuleCondition,
)
from tests.conftest import PUBLISHERS, logged_in, make_user
from tests.walking import OBSERVATION_CASE, walk_with

pytestmark = pytest.mark.django_db

SMALL_CAUTION = "caution.small_tumor_malignant_potential"


@pytest.fixture
def draft(pnet_version: PathwayVersion) -> PathwayVersion:
    return authoring.new_draft(pnet_version)


@pytest.fixture
def publisher_client(db: Any) -> Client:
    return logged_in(make_user("pat", PUBLISHERS))


def move_formal_resection(version: PathwayVersion, to: float = 2.5) -> None:
    """Formal resection from > 2 cm to > ``to`` cm: the small-resection edges and the safety rules
    of the size rule move with it (as the gate requires)."""
    moved = 0
    for model, version_field in ((EdgeCondition, "edge__version"), (SafetyRuleCondition, "rule__version")):
        for condition in model.objects.filter(**{version_field: version}, variable__key="tumor_size_cm"):
            if condition.value == 2.0:
                condition.value = to
                condition.save()
                moved += 1
    assert moved > 6


def publish_url(version: PathwayVersion) -> str:
    return reverse("admin:pathways_pathwayversion_publish", args=[version.pk])


def stale_keys(response: Any) -> list[str]:
    return [item.key for item, _confirmed, _href in response.context["stale"]]


def test_gate_lists_texts_that_state_the_old_threshold_as_warnings(draft: PathwayVersion) -> None:
    move_formal_resection(draft)
    report = authoring.check_version(draft)
    assert report.ok  # warnings only: the logic is sound
    stale = [p for p in report.warnings if p.code == stale_text.CODE]
    assert len(stale) == 8
    title = Recommendation.objects.get(version=draft, code=SMALL_CAUTION).title
    # Named as an editor knows it: by its title, never its code.
    assert any(f"The recommendation “{title}” (text)" in p.message and "“1-2 cm”" in p.message for p in stale)
    assert not any(SMALL_CAUTION in p.message for p in stale)


def test_validate_pathway_prints_the_stale_texts_as_warnings_naming_each_text(draft: PathwayVersion) -> None:
    move_formal_resection(draft)
    out = io.StringIO()
    call_command("validate_pathway", "pnet", "--version", str(draft.number), stdout=out)
    lines = [line for line in out.getvalue().splitlines() if stale_text.CODE in line]
    assert len(lines) == 8 and all(line.startswith("WARNING stale-threshold-text") for line in lines)
    title = Recommendation.objects.get(version=draft, code=SMALL_CAUTION).title
    assert any(f"recommendation “{title}” (text)" in line for line in lines)


def test_publish_page_shows_the_word_diff_and_the_stale_texts(
    draft: PathwayVersion, publisher_client: Client
) -> None:
    move_formal_resection(draft)
    rec = Recommendation.objects.get(version=draft, code=SMALL_CAUTION)
    rec.text = rec.text.replace("1-2 cm", "1-2.5 cm") + ' <script>alert("x")</script>'
    rec.save()
    response = publisher_client.get(publish_url(draft))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<del>(1-2</del>" in page or "<del>1-2</del>" in page
    assert "<ins>" in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert '<script>alert("x")' not in page
    # The conditions diff, in the editor's words: the steps by title, not by slug.
    assert "→ “Formal resection for a nonfunctioning tumour over 2 cm” now requires" in page
    assert "Tumour size &gt; 2.5 cm" in page and "Rule “Is a Ki-67 index available?” → " in page
    # The fixed caution reads 1-2.5 cm now: seven texts left, each with a box to confirm.
    assert len(stale_keys(response)) == 7
    assert page.count('name="confirm"') == 7
    assert "data-publish-status" in page and 'aria-live="polite"' in page and "publish.js" in page


def test_the_diff_page_shows_text_changes_word_by_word_too(
    draft: PathwayVersion, publisher_client: Client, pnet_version: PathwayVersion
) -> None:
    rec = Recommendation.objects.get(version=draft, code=SMALL_CAUTION)
    rec.text = rec.text.replace("1-2 cm", "1-2.5 cm") + " <b>bold</b>"
    rec.save()
    url = reverse("admin:pathways_pathwayversion_diff", args=[draft.pk])
    page = publisher_client.get(url, {"against": pnet_version.pk}).content.decode()
    words = page[page.index("data-word-diff") :]
    assert "<del>" in words and "<ins>" in words and "&lt;b&gt;bold&lt;/b&gt;" in words
    assert "<b>bold</b>" not in page


def test_publishing_is_refused_until_every_stale_text_is_confirmed(
    draft: PathwayVersion, publisher_client: Client
) -> None:
    move_formal_resection(draft)
    keys = stale_keys(publisher_client.get(publish_url(draft)))
    response = publisher_client.post(
        publish_url(draft), {"note": "Resection over 2.5 cm", "confirm": keys[:-1]}
    )
    assert response.status_code == 200 and "Not published" in response.content.decode()
    assert PathwayVersion.objects.get(pk=draft.pk).status == "draft"
    assert "ERROR stale-threshold-text" not in response.content.decode()  # shown as a row, not a trace
    assert [p.code for p in response.context["checklist"]["rows"][0][:1]] == [stale_text.CODE]
    # The confirmations given are kept, with who gave them.
    confirmed = PathwayVersion.objects.get(pk=draft.pk).confirmed_texts
    assert set(confirmed) == set(keys[:-1]) and {c["by"] for c in confirmed.values()} == {"pat"}
    assert response.content.decode().count('name="confirm"') == 1

    response = publisher_client.post(
        publish_url(draft), {"note": "Resection over 2.5 cm", "confirm": keys[-1:]}
    )
    assert response.status_code == 302
    assert PathwayVersion.objects.get(pk=draft.pk).status == "published"


def test_a_fixed_text_needs_no_confirmation_and_a_made_up_key_confirms_nothing(
    draft: PathwayVersion, publisher_client: Client
) -> None:
    move_formal_resection(draft)
    assert authoring.confirm_texts(draft, ["recommendation:x:text:tumor_size_cm:2:0"]) == 0
    for rec in Recommendation.objects.filter(version=draft, code=SMALL_CAUTION):
        rec.text = rec.text.replace("1-2 cm", "1-2.5 cm")
        rec.save()
    note = GuidanceNote.objects.get(version=draft, code="newer.surveillance_up_to_2cm")
    note.text = note.text.replace("2 cm", "2.5 cm")
    note.save()
    stale = authoring.stale_texts(draft)
    assert len(stale) == 6
    assert authoring.confirm_texts(draft, [item.key for item in stale]) == 6
    assert not [p for p in authoring.check_version(draft).problems if p.code == stale_text.CODE]
    authoring.publish(draft, note="Formal resection over 2.5 cm")


def test_publish_post_of_version_2_is_fast_and_reports_its_queries(
    draft: PathwayVersion, publisher_client: Client, capsys: Any
) -> None:
    move_formal_resection(draft)
    authoring._reports.clear()  # a fresh process: nothing kept yet (the database is rolled back)
    keys = stale_keys(publisher_client.get(publish_url(draft)))
    authoring._reports.clear()  # the POST lands on another server process than the page
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = publisher_client.post(publish_url(draft), {"note": "Over 2.5 cm", "confirm": keys})
        seconds = time.perf_counter() - started
    assert response.status_code == 302
    with capsys.disabled():
        print(f"\npublish POST of version 2 (another process): {seconds:.3f} s, {len(queries)} queries")
    assert len(queries) < 120


def test_a_report_stored_by_another_process_is_reused_and_only_by_the_same_gate(
    draft: PathwayVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    move_formal_resection(draft)
    authoring._reports.clear()  # a fresh process: nothing kept yet (the database is rolled back)
    assert authoring.check_version(draft).ok  # the publish page, in one process
    authoring.confirm_texts(draft, [item.key for item in authoring.stale_texts(draft)])
    authoring._reports.clear()  # another process

    def refuse(document: Any, store: Any = None) -> validation.Report:
        raise AssertionError("the gate ran again")

    monkeypatch.setattr(validation, "check_document", refuse)
    published = authoring.publish(draft, note="Formal resection over 2.5 cm")
    authoring._reports.clear()
    assert authoring.check_version(published).ok  # the version page after publishing
    authoring._reports.clear()
    monkeypatch.setattr(authoring, "_FINGERPRINT", "another-gate")
    with pytest.raises(AssertionError, match="the gate ran again"):
        authoring.check_version(published)


def test_a_new_process_reads_the_parsed_expressions_instead_of_parsing_them(
    draft: PathwayVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    def another_process() -> None:
        fhir_check._COMPILED.clear()
        authoring._reports.clear()
        GateReport.objects.all().delete()

    another_process()
    assert authoring.check_version(draft).ok  # parses every expression of the export once
    kept = ParsedExpression.objects.count()
    assert kept > 50
    another_process()

    def parse(expression: str) -> Any:
        raise AssertionError(f"parsed again: {expression}")

    monkeypatch.setattr(fhir_check, "parse", parse)
    report = authoring.check_version(draft)
    assert report.ok and report.classes > 11000  # the FHIR check ran, on the trees kept
    assert ParsedExpression.objects.count() == kept


def test_a_kept_tree_counts_only_for_its_own_expression_and_parser(db: Any) -> None:
    store = authoring._StoredTrees()
    ParsedExpression.objects.create(key=store.key("true"), expression="false", tree={"children": []})
    ParsedExpression.objects.create(key="another parser", expression="false", tree={"children": []})
    assert store.load(["true", "false"]) == {}
    store.save({"false": {"children": [{"type": "TermExpression"}]}})
    assert store.load(["true", "false"]) == {"false": {"children": [{"type": "TermExpression"}]}}


def test_purging_the_gate_cache_keeps_only_what_a_check_can_still_use(db: Any) -> None:
    store = authoring._StoredTrees()
    now = authoring._stored_key("current")
    GateReport.objects.create(key=now)
    GateReport.objects.create(key="current:another-gate")
    usable = ParsedExpression.objects.create(key=store.key("true"), expression="true", tree={})
    ParsedExpression.objects.create(key=store.key("1 = 1"), expression="false", tree={})
    ParsedExpression.objects.create(key="another parser", expression="false", tree={})
    out = io.StringIO()
    call_command("purge_gate_cache", "--dry-run", stdout=out)
    assert "1 gate report(s) and 2 parsed expression(s) would be deleted." in out.getvalue()
    assert (GateReport.objects.count(), ParsedExpression.objects.count()) == (2, 3)
    call_command("purge_gate_cache", stdout=out)
    assert list(GateReport.objects.values_list("key", flat=True)) == [now]
    assert list(ParsedExpression.objects.all()) == [usable]
    assert store.load(["true"]) == {"true": {}}


def test_purging_the_gate_cache_by_age_deletes_what_was_stored_before_then(db: Any) -> None:
    store = authoring._StoredTrees()
    old, recent = authoring._stored_key("old"), authoring._stored_key("recent")
    GateReport.objects.create(key=old)
    GateReport.objects.create(key=recent)
    ParsedExpression.objects.create(key=store.key("true"), expression="true", tree={})
    ParsedExpression.objects.create(key=store.key("false"), expression="false", tree={})
    long_ago = timezone.now() - timedelta(days=31)
    GateReport.objects.filter(key=old).update(created_at=long_ago)
    ParsedExpression.objects.filter(expression="true").update(created_at=long_ago)
    out = io.StringIO()
    call_command("purge_gate_cache", "--older-than", "30d", stdout=out)
    assert out.getvalue().startswith("Deleted 1 gate report(s) and 1 parsed expression(s) (unusable, or")
    assert list(GateReport.objects.values_list("key", flat=True)) == [recent]
    assert list(ParsedExpression.objects.values_list("expression", flat=True)) == ["false"]
    with pytest.raises(CommandError):
        call_command("purge_gate_cache", "--older-than", "30")


def test_a_check_after_a_purge_validates_again_and_keeps_its_report(draft: PathwayVersion) -> None:
    authoring._reports.clear()  # as in a process that has not checked this content
    assert authoring.check_version(draft).ok
    authoring._reports.clear()
    fhir_check._COMPILED.clear()
    call_command("purge_gate_cache", "--older-than", "1h", stdout=io.StringIO())  # nothing is old yet
    assert GateReport.objects.exists()
    GateReport.objects.update(created_at=timezone.now() - timedelta(hours=2))
    ParsedExpression.objects.update(created_at=timezone.now() - timedelta(hours=2))
    call_command("purge_gate_cache", "--older-than", "1h", stdout=io.StringIO())
    assert not GateReport.objects.exists() and not ParsedExpression.objects.exists()
    report = authoring.check_version(draft)
    assert report.ok and report.classes > 11000
    assert GateReport.objects.count() == 1 and ParsedExpression.objects.count() > 50


def test_whats_new_shows_the_change_note_and_date_on_the_start_page_and_the_result(
    draft: PathwayVersion, client: Client
) -> None:
    rec = Recommendation.objects.get(version=draft, code=SMALL_CAUTION)
    rec.text += " Reviewed."
    rec.save()
    published = authoring.publish(draft, note="What's new in version 4: <b>reviewed</b> & clearer.")
    page = client.get(reverse("pathways:pathway_start", args=["pnet"])).content.decode()
    assert "data-whats-new" in page and page.count("What's new in version 4") == 1
    assert "&lt;b&gt;reviewed&lt;/b&gt; &amp; clearer." in page and "<b>reviewed" not in page
    assert published.published_at is not None
    assert f'datetime="{published.published_at:%Y-%m-%d}"' in page
    walk = walk_with(published, OBSERVATION_CASE)
    url = reverse("pathways:walk_detail", kwargs={"slug": "pnet", "walk_id": walk.pk})
    result = client.get(url).content.decode()
    assert "data-outcome" in result and "data-whats-new" in result
    assert "What's new in version 4" in result and "&lt;b&gt;reviewed&lt;/b&gt;" in result


def test_a_preview_of_a_draft_shows_no_whats_new(draft: PathwayVersion, superuser_client: Client) -> None:
    response = superuser_client.post(
        reverse("admin:pathways_pathwayversion_preview", args=[draft.pk]), follow=True
    )
    assert response.status_code == 200 and "data-whats-new" not in response.content.decode()


def forget_reports() -> None:
    """A fresh start: no process keeps or has stored a report."""
    authoring._reports.clear()
    GateReport.objects.all().delete()


def test_a_version_whose_fhir_export_disagrees_with_its_engine_is_not_published(
    draft: PathwayVersion, publisher_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = fhir_export.bundle

    def unconditional_ppi(document: Any) -> dict[str, Any]:
        # The export gives the gastrinoma PPI to every case reaching its step, whatever its conditions.
        bundle = exported(document)
        for entry in bundle["entry"]:
            for action in entry["resource"].get("action", ()):
                if action.get("code", [{}])[0].get("coding", [{}])[0].get("code") == "fx.gastrinoma_ppi":
                    action.pop("condition", None)
        return bundle

    monkeypatch.setattr(fhir_export, "bundle", unconditional_ppi)
    forget_reports()
    response = publisher_client.post(publish_url(draft), {"note": "Checked"})
    page = response.content.decode()
    assert response.status_code == 200 and "Not published" in page
    assert PathwayVersion.objects.get(pk=draft.pk).status == "draft"
    rows = [problem for problem, _link in response.context["checklist"]["rows"]]
    assert [problem.code for problem in rows] == ["fhir-disagrees"]
    title = Recommendation.objects.get(version=draft, code="fx.gastrinoma_ppi").title
    message = rows[0].message
    assert f"gives the recommendation “{title}”, which the pathway does not" in message
    assert "Suspected syndrome:" in message  # the case, by its questions' labels
    for technical in ("fx.gastrinoma_ppi", "{", "PlanDefinition", "linkId", "_"):
        assert technical not in message
    with pytest.raises(authoring.PublishRefused):
        authoring.publish(draft, note="Checked")


def test_publishing_after_the_publish_page_runs_the_gate_and_the_fhir_check_once(
    draft: PathwayVersion, publisher_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    move_formal_resection(draft)
    calls = {"validation": 0, "fhir": 0}
    validate, disagreements = validation.check_document, fhir_check.disagreements

    def counted_validation(document: Any, store: Any = None) -> validation.Report:
        calls["validation"] += 1
        return validate(document, store)

    def counted_fhir(*args: Any, **kwargs: Any) -> list[fhir_check.Disagreement]:
        calls["fhir"] += 1
        return disagreements(*args, **kwargs)

    monkeypatch.setattr(validation, "check_document", counted_validation)
    monkeypatch.setattr(fhir_check, "disagreements", counted_fhir)
    forget_reports()
    keys = stale_keys(publisher_client.get(publish_url(draft)))
    assert calls == {"validation": 1, "fhir": 1}
    authoring._reports.clear()  # the POST lands on another server process than the page
    response = publisher_client.post(
        publish_url(draft), {"note": "Over 2.5 cm", "confirm": keys}, follow=True
    )
    assert response.redirect_chain and PathwayVersion.objects.get(pk=draft.pk).status == "published"
    assert calls == {"validation": 1, "fhir": 1}  # the stored report, checked for FHIR too


def test_a_cold_publish_post_runs_the_gate_once(
    draft: PathwayVersion, publisher_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    validate = validation.check_document

    def counted(document: Any, store: Any = None) -> validation.Report:
        calls.append(document)
        return validate(document, store)

    monkeypatch.setattr(validation, "check_document", counted)
    rec = Recommendation.objects.get(version=draft, code=SMALL_CAUTION)
    rec.text += " Reviewed."
    rec.save()
    forget_reports()
    response = publisher_client.post(publish_url(draft), {"note": "Reviewed"})
    assert response.status_code == 302 and len(calls) == 1


def test_a_cold_publish_enumerates_the_classes_of_walk_once_for_the_rules_and_the_fhir_check(
    draft: PathwayVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"validation": 0, "enumeration": 0}
    validate, enumerate_cases = validation.check_document, engine.enumerate_cases

    def counted_validation(document: Any, store: Any = None) -> validation.Report:
        calls["validation"] += 1
        return validate(document, store)

    def counted_enumeration(*args: Any, **kwargs: Any) -> Any:
        calls["enumeration"] += 1
        return enumerate_cases(*args, **kwargs)

    monkeypatch.setattr(validation, "check_document", counted_validation)
    monkeypatch.setattr(engine, "enumerate_cases", counted_enumeration)
    forget_reports()
    authoring.publish(draft, note="Checked once")
    assert PathwayVersion.objects.get(pk=draft.pk).status == "published"
    assert calls == {"validation": 1, "enumeration": 1}
