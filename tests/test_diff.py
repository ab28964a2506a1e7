"""The clinical diff between two pathway documents reads the same in every process."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pathways import diff

NEW_KEYS = ("ki67_repeat", "albumin", "age_years", "ecog", "weight_kg", "bmi", "ctdna", "zinc")
NEW_STEPS = ("review", "age", "frailty", "consent", "mdt", "nutrition", "genetics", "bone_scan")


def changed(pnet_document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    old = copy.deepcopy(pnet_document)
    new = copy.deepcopy(pnet_document)
    new["variables"] = new["variables"][8:] + [
        {"key": key, "label": key.replace("_", " "), "kind": "boolean"} for key in NEW_KEYS
    ]
    new["nodes"] = new["nodes"][:-8] + [
        {"slug": slug, "kind": "info", "stage": "workup", "title": slug.title()} for slug in NEW_STEPS
    ]
    return old, new


def texts(changes: list[diff.Change], kind: str, area: str) -> list[str]:
    return [change.text for change in changes if change.kind == kind and change.area == area]


def test_added_and_removed_variables_and_steps_are_listed_in_sorted_order(
    pnet_document: dict[str, Any],
) -> None:
    old, new = changed(pnet_document)
    changes = diff.diff_documents(old, new)
    added = texts(changes, diff.ADDED, "variable")
    assert added == [f"New question “{key.replace('_', ' ')}”." for key in sorted(NEW_KEYS)]
    removed = texts(changes, diff.REMOVED, "variable")
    gone = sorted(old["variables"][:8], key=lambda item: item["key"])
    assert removed == [f"Question “{item['label']}” removed." for item in gone]
    new_steps = texts(changes, diff.ADDED, "step")
    assert new_steps == [f"New step “{slug.title()}”." for slug in sorted(NEW_STEPS)]
    removed_steps = texts(changes, diff.REMOVED, "step")
    removed = sorted(old["nodes"][-8:], key=lambda n: n["slug"])
    assert removed_steps == [f"Step “{n['title']}” removed." for n in removed]


def test_the_diff_is_the_same_whatever_the_string_hash_seed(
    pnet_document: dict[str, Any], tmp_path: Path
) -> None:
    old, new = changed(pnet_document)
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")
    script = (
        "import json, sys; from pathways import diff; "
        "old, new = (json.load(open(p, encoding='utf-8')) for p in sys.argv[1:]); "
        "print(json.dumps([c.text for c in diff.diff_documents(old, new)]))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "old.json"), str(tmp_path / "new.json")],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(diff.__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
