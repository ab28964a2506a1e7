"""Text changes word by word: the runs, and their HTML (every word of content escaped)."""

from __future__ import annotations

import copy
from typing import Any

from pathways import diff
from pathways.templatetags.pathway_diff import word_diff as render


def joined(runs: tuple[tuple[str, str], ...], *kinds: str) -> str:
    return "".join(text for kind, text in runs if kind in kinds)


def test_changed_words_are_deleted_and_inserted_and_the_rest_kept() -> None:
    runs = diff.word_diff(
        "Small tumours (1-2 cm) may be resected.", "Small tumours (1-2.5 cm) may be resected."
    )
    assert runs == (
        (diff.EQUAL, "Small tumours "),
        (diff.DELETED, "(1-2"),
        (diff.INSERTED, "(1-2.5"),
        (diff.EQUAL, " cm) may be resected."),
    )


def test_each_side_reads_back_as_its_text_when_nothing_is_elided() -> None:
    before, after = "one two three four", "one 2 three four five"
    runs = diff.word_diff(before, after)
    assert joined(runs, diff.EQUAL, diff.DELETED) == before
    assert joined(runs, diff.EQUAL, diff.INSERTED) == after


def test_long_unchanged_runs_are_elided_around_the_change() -> None:
    before = " ".join(f"w{i}" for i in range(60))
    runs = diff.word_diff(before, before.replace("w30", "changed"))
    assert (diff.DELETED, "w30") in runs and (diff.INSERTED, "changed") in runs
    kept = joined(runs, diff.EQUAL)
    assert kept.count("…") == 2 and "w22" in kept and "w38" in kept and "w5 " not in kept


def test_a_text_added_or_removed_is_one_run() -> None:
    assert diff.word_diff("", "new text") == ((diff.INSERTED, "new text"),)
    assert diff.word_diff("old text", "") == ((diff.DELETED, "old text"),)


def test_hostile_words_are_escaped_in_every_run() -> None:
    runs = diff.word_diff(
        'Keep <b>bold</b> <script>alert(1)</script> & "quotes"',
        'Keep <img src=x onerror=alert(1)> <script>alert(2)</script> & "quotes"',
    )
    html = str(render(runs))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;img" in html and "&lt;script&gt;" in html and "&amp;" in html and "&quot;" in html
    assert html.count("<del>") >= 1 and html.count("<ins>") >= 1
    assert "<del>&lt;b&gt;bold&lt;/b&gt;</del>" in html


def test_the_diff_shows_recommendation_text_changes_word_by_word(pnet_v2_document: dict[str, Any]) -> None:
    new = copy.deepcopy(pnet_v2_document)
    rec = next(r for r in new["recommendations"] if r["code"] == "caution.small_tumor_malignant_potential")
    rec["text"] = rec["text"].replace("1-2 cm", "1-2.5 cm")
    node = next(n for n in new["nodes"] if n["slug"] == "nf_large_resection")
    node["body"] = (node.get("body") or "") + " Added sentence."
    changes = diff.diff_documents(pnet_v2_document, new)
    wording = next(c for c in changes if "(caution.small_tumor_malignant_potential)" in c.text)
    assert wording.text.endswith("wording changed.")
    assert (diff.DELETED, "1-2") in wording.words and (diff.INSERTED, "1-2.5") in wording.words
    body = next(c for c in changes if c.node == "nf_large_resection" and c.area == "step")
    assert joined(body.words, diff.INSERTED).strip() == "Added sentence."
    assert all(not c.words for c in changes if c not in (wording, body))
