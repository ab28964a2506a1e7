"""The contract's safety invariants, as plain checks over one evaluated case."""

from __future__ import annotations

from typing import Any

from pathways import engine


def violations(snapshot: engine.Snapshot, case: dict[str, Any], result: engine.Evaluation) -> list[str]:
    codes = set(result.codes)
    problems = []
    insulinoma = case.get("functional_status") == "insulinoma"
    if insulinoma and result.complete and "caution.ssa_insulinoma" not in codes:
        problems.append("insulinoma walk without caution.ssa_insulinoma")
    if insulinoma and case.get("sstr_status") == "negative" and "sstr_status" in result.asked:
        if codes & {"adv.ssa", "fx.ssa_symptom_control"}:
            problems.append("SSA given to an SSTR-negative insulinoma")
        if "caution.ssa_insulinoma_sstr_negative" not in codes:
            problems.append("SSTR-negative insulinoma without its caution")
    # The location is asked only for a localized tumour that is to be resected.
    resects_body_tail = "tumor_location" in result.asked and case.get("tumor_location") in {"body", "tail"}
    if result.complete and resects_body_tail and "special.splenectomy_vaccination" not in codes:
        problems.append("body/tail resection without splenectomy vaccination")
    if case.get("disease_extent") in {"metastatic", "locally_advanced"} and "nf.observation" in codes:
        problems.append("observation offered for advanced disease")
    # Version 2 grades localized disease: a Ki-67 over 20 % is never observed.
    high_grade = "ki67_percent" in result.asked and case.get("ki67_percent", 0) > 20
    if case.get("disease_extent") == "localized" and high_grade and "nf.observation" in codes:
        problems.append("observation offered for a high-grade localized tumour")
    if result.complete:
        outcome_nodes = [slug for slug in result.path if snapshot.nodes[slug].kind == engine.OUTCOME]
        if outcome_nodes != [result.outcome] or result.path[-1] != result.outcome:
            problems.append("a complete walk must end at exactly one outcome")
    return problems
