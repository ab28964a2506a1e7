"""Apply an exported PlanDefinition and Questionnaire with FHIRPath, and compare with the engine.

The selection rule: an action is selected when all its applicability conditions are true and its
parent (if any) is selected; an action whose ``definitionCanonical`` is a PlanDefinition of the
bundle brings that PlanDefinition's actions in, under the same rule. The selected codes are the
recommendations and newer-guidance notes.

Every expression is compiled once and evaluated once per distinct tuple of the answers it reads
(its ``linkId`` s), so checking every class of case costs a few hundred FHIRPath evaluations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import fhirpathpy

from pathways import engine

from . import export
from . import expressions as fp
from . import response as qr


class Applier:
    """The bundle's PlanDefinition and Questionnaire, applied to answers of one snapshot."""

    def __init__(self, snapshot: engine.Snapshot, bundle: Mapping[str, Any]) -> None:
        self.snapshot = snapshot
        self.plans = {
            url: res for url, res in export.by_url(bundle).items() if res["resourceType"] == "PlanDefinition"
        }
        found = export.resources(bundle)
        self.plan = found["PlanDefinition"]
        self.questionnaire = found["Questionnaire"]
        self._compiled: dict[str, tuple[Any, tuple[str, ...]]] = {}
        self._memo: dict[tuple[str, tuple[Any, ...]], bool] = {}
        self.evaluations = 0
        self.enable = {
            item["linkId"]: _enable_expression(item) for item in self.questionnaire.get("item", ())
        }

    def holds(self, expression: str, answers: Mapping[str, Any]) -> bool:
        compiled = self._compiled.get(expression)
        if compiled is None:
            compiled = (fhirpathpy.compile(expression), fp.linkids(expression))
            self._compiled[expression] = compiled
        function, keys = compiled
        projection = tuple(answers.get(key, _NONE) for key in keys)
        key = (expression, projection)
        memo = self._memo.get(key)
        if memo is None:
            shown = {k: v for k, v in zip(keys, projection, strict=True) if v is not _NONE}
            resource = qr.questionnaire_response(self.snapshot, shown, complete=True)
            memo = self.evaluate(function, resource)
            self._memo[key] = memo
        return memo

    def evaluate(self, function: Any, resource: Mapping[str, Any]) -> bool:
        self.evaluations += 1
        return function(resource) == [True]

    def selected(self, answers: Mapping[str, Any]) -> list[str]:
        """The codes the PlanDefinition selects for ``answers``, in selection order."""
        codes: list[str] = []
        self._select(self.plan.get("action", ()), answers, codes)
        return codes

    def _select(
        self, actions: Iterable[Mapping[str, Any]], answers: Mapping[str, Any], codes: list[str]
    ) -> None:
        for action in actions:
            if not all(
                self.holds(c["expression"]["expression"], answers)
                for c in action.get("condition", ())
                if c["kind"] == "applicability"
            ):
                continue
            for concept in action.get("code", ()):
                for coding in concept.get("coding", ()):
                    if coding["code"] not in codes:
                        codes.append(coding["code"])
            plan = self.plans.get(action.get("definitionCanonical", ""))
            if plan is not None:
                self._select(plan.get("action", ()), answers, codes)
            self._select(action.get("action", ()), answers, codes)

    def enabled(self, answers: Mapping[str, Any]) -> list[str]:
        """The Questionnaire's items enabled for ``answers``."""
        return [
            key
            for key, expression in self.enable.items()
            if expression is None or self.holds(expression, answers)
        ]


_NONE = object()


def _enable_expression(item: Mapping[str, Any]) -> str | None:
    for extension in item.get("extension", ()):
        if extension["url"] == export.ENABLE_WHEN_EXPRESSION:
            return str(extension["valueExpression"]["expression"])
    return None


def expected_codes(
    snapshot: engine.Snapshot, answers: Mapping[str, Any], result: engine.Evaluation
) -> set[str]:
    return set(result.codes) | {note.code for note in engine.newer_guidance(snapshot, result, answers)}


def disagreements(
    snapshot: engine.Snapshot, bundle: Mapping[str, Any], limit: int = 5
) -> list[tuple[dict[str, Any], str]]:
    """Cases (one per class of complete walk) where the export and the engine differ, and how."""
    applier = Applier(snapshot, bundle)
    found: list[tuple[dict[str, Any], str]] = []
    for answers, result in engine.enumerate_cases(snapshot):
        selected = set(applier.selected(answers))
        expected = expected_codes(snapshot, answers, result)
        if selected != expected:
            extra, lacking = sorted(selected - expected), sorted(expected - selected)
            found.append((answers, f"the PlanDefinition adds {extra} and lacks {lacking}"))
        else:
            enabled, asked = set(applier.enabled(answers)), set(result.asked)
            if enabled != asked:
                extra, lacking = sorted(enabled - asked), sorted(asked - enabled)
                found.append((answers, f"the Questionnaire enables {extra} too and not {lacking}"))
        if len(found) >= limit:
            break
    return found
