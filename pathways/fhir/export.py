"""Export a pathway version as a FHIR R4B collection Bundle.

The Bundle holds:

- a ``Questionnaire`` (SDC): one item per case variable, ``linkId`` the variable key; an item that
  is not always asked carries an ``enableWhenExpression`` true exactly when the engine's walk
  reaches a step that asks it;
- a ``PlanDefinition`` whose actions mirror the walk: a route action per step reached (nested under
  the step before, its applicability the engine's choice of that edge), and under it an action per
  recommendation the step gives, and at an outcome an action per newer-guidance note;
- a ``CodeSystem`` of the recommendation and note codes;
- a ``Library`` carrying the pathway document itself (so a FHIR tool's bundle can be imported).

An action is selected when all its applicability conditions hold and its parent is selected; the
codes of the selected actions are the engine's recommendations plus its newer-guidance notes
(``pathways.fhir.check`` proves it over every class of case).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from pathways import engine
from pathways.document import snapshot_from_document

from . import expressions as fp

BASE = "https://pnet-pathways.org/fhir"
FHIRPATH = "text/fhirpath"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
UCUM = "http://unitsofmeasure.org"
SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
NEWER = "Newer guidance differs"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"


def canonical(kind: str, slug: str) -> str:
    return f"{BASE}/{kind}/{slug}"


def code_system_url(slug: str) -> str:
    return canonical("CodeSystem", slug)


def versioned(kind: str, snapshot: engine.Snapshot) -> str:
    return f"{canonical(kind, snapshot.pathway)}|{snapshot.version}"


class _Routes:
    """The walk tree: each step as reached along one route from the start (steps shared by several
    routes appear once per route, so every condition stays local to its step)."""

    def __init__(self, snapshot: engine.Snapshot) -> None:
        self.snapshot = snapshot
        self.variables = snapshot.variables
        self._taken: dict[str, list[tuple[engine.Edge, str]]] = {}
        self._entered: dict[str, str] = {}
        self._askers: dict[str, list[str]] = {}
        self._parents: dict[str, list[str]] = {}
        for slug, node in snapshot.nodes.items():
            for key in node.fields:
                self._askers.setdefault(key, []).append(slug)
            for edge in node.edges:
                if slug not in self._parents.setdefault(edge.target, []):
                    self._parents[edge.target].append(slug)

    def taken(self, node: engine.Node) -> list[tuple[engine.Edge, str]]:
        """Each edge with the expression under which the walk takes it (first edge that holds)."""
        memo = self._taken.get(node.slug)
        if memo is not None:
            return memo
        required = self.snapshot.required_fields(node)
        edges = []
        for index, edge in enumerate(node.edges):
            tested = {c.variable for c in edge.conditions}
            # Every condition reads its own answer; the others must be answered before the step
            # decides. An earlier edge that cannot hold beside this one need not be negated.
            parts = [fp.answered(key) for key in required if key not in tested]
            parts.append(fp.conditions(edge.conditions, self.variables))
            parts.extend(
                fp.negate(fp.conditions(earlier.conditions, self.variables))
                for earlier in node.edges[:index]
                if not _disjoint(earlier, edge, self.variables)
            )
            edges.append((edge, fp.all_of(parts)))
        self._taken[node.slug] = edges
        return edges

    def action(self, slug: str, given: tuple[tuple[str, str], ...], asked: frozenset[str]) -> dict[str, Any]:
        """The route action of step ``slug`` reached with ``given`` (code, when) and ``asked`` before."""
        node = self.snapshot.nodes[slug]
        asked = asked | set(node.fields)
        given = given + tuple(
            (rec.code, fp.conditions(rec.conditions, self.variables)) for rec in node.recommendations
        )
        action: dict[str, Any] = {"title": node.title}
        if node.recommendations:
            action["definitionCanonical"] = f"{step_url(self.snapshot, slug)}|{self.snapshot.version}"
        children: list[dict[str, Any]] = []
        if node.kind == engine.OUTCOME:
            for note in self.snapshot.notes:
                when = _note_condition(note, given, asked, self.variables)
                if when != fp.FALSE:
                    children.append(_coded(note_action(self.snapshot, note), when))
        else:
            for edge, when in self.taken(node):
                if when != fp.FALSE:
                    children.append(_coded(self.action(edge.target, given, asked), when))
        if children:
            action["action"] = children
        return action

    def steps(self) -> list[dict[str, Any]]:
        """A PlanDefinition per step that gives recommendations: one action for each."""
        snapshot = self.snapshot
        made = []
        for slug, node in snapshot.nodes.items():
            if not node.recommendations:
                continue
            actions = [
                _coded(recommendation_action(snapshot, rec), fp.conditions(rec.conditions, self.variables))
                for rec in node.recommendations
            ]
            made.append(
                {
                    "resourceType": "PlanDefinition",
                    "id": _id(f"{snapshot.pathway}-{snapshot.version}-step-{slug}"),
                    "url": step_url(snapshot, slug),
                    "version": str(snapshot.version),
                    "title": node.title,
                    "type": {"coding": [{"system": PLAN_TYPE, "code": "workflow-definition"}]},
                    "status": "active",
                    "action": actions,
                }
            )
        return made

    def entered(self, slug: str) -> str:
        """When the walk reaches step ``slug``, read from the answers present.

        A QuestionnaireResponse holds answers of enabled items only (a form filler drops the
        answers of items that become disabled), so a step that alone asks a required variable is
        reached exactly when that variable is answered; other steps are reached through the edge
        the walk takes from a step before them.
        """
        memo = self._entered.get(slug)
        if memo is not None:
            return memo
        node = self.snapshot.nodes[slug]
        own = [key for key in self.snapshot.required_fields(node) if self._askers[key] == [slug]]
        result = fp.answered(own[0]) if own else self.arrived(slug)
        self._entered[slug] = result
        return result

    def arrived(self, slug: str) -> str:
        """When the walk takes an edge into ``slug`` (or ``slug`` is the start)."""
        if slug == self.snapshot.start:
            return fp.TRUE
        return fp.any_lazily(
            fp.first_then(when, self.entered(parent))
            for parent in self._parents.get(slug, ())
            for edge, when in self.taken(self.snapshot.nodes[parent])
            if edge.target == slug
        )

    def enabled(self, key: str) -> str:
        """When the walk asks ``key``: it arrives at a step that asks it."""
        return fp.any_lazily(self.arrived(slug) for slug in self._askers.get(key, ()))


def _disjoint(first: engine.Edge, second: engine.Edge, variables: Mapping[str, engine.Variable]) -> bool:
    """Whether no answer satisfies both edges."""
    return not engine.satisfiable((*first.conditions, *second.conditions), variables)


def _note_condition(
    note: engine.Note,
    given: tuple[tuple[str, str], ...],
    asked: frozenset[str],
    variables: Mapping[str, engine.Variable],
) -> str:
    def gives(code: str) -> str:
        return fp.any_of(when for placed, when in given if placed == code)

    parts = []
    if note.when_codes:
        parts.append(fp.any_of(gives(code) for code in note.when_codes))
    parts.extend(fp.negate(gives(code)) for code in note.unless_codes)
    # A note reads only answers the walk asked (an answer it ignored never shows a note).
    parts.extend(fp.condition(c, variables) if c.variable in asked else fp.FALSE for c in note.conditions)
    return fp.all_of(parts)


def _coded(action: dict[str, Any], when: str) -> dict[str, Any]:
    if when == fp.TRUE:
        return action
    return {
        **action,
        "condition": [{"kind": "applicability", "expression": {"language": FHIRPATH, "expression": when}}],
    }


def citation(reference: engine.Reference) -> dict[str, Any]:
    artifact: dict[str, Any] = {"type": "citation", "label": reference.label, "citation": reference.citation}
    if reference.url:
        artifact["url"] = reference.url
    return artifact


def _coding(snapshot: engine.Snapshot, code: str) -> dict[str, Any]:
    return {"coding": [{"system": code_system_url(snapshot.pathway), "code": code}]}


def step_url(snapshot: engine.Snapshot, slug: str) -> str:
    return canonical("PlanDefinition", f"{snapshot.pathway}.step.{slug}")


def definition_url(snapshot: engine.Snapshot, code: str) -> str:
    return canonical("ActivityDefinition", f"{snapshot.pathway}.{code}")


def recommendation_action(snapshot: engine.Snapshot, rec: engine.Recommendation) -> dict[str, Any]:
    return {
        "title": rec.title,
        "code": [_coding(snapshot, rec.code)],
        "definitionCanonical": f"{definition_url(snapshot, rec.code)}|{snapshot.version}",
    }


def note_action(snapshot: engine.Snapshot, note: engine.Note) -> dict[str, Any]:
    return {
        "prefix": NEWER,
        "title": note.code,
        "code": [_coding(snapshot, note.code)],
        "definitionCanonical": f"{definition_url(snapshot, note.code)}|{snapshot.version}",
    }


def activity_definitions(snapshot: engine.Snapshot) -> list[dict[str, Any]]:
    """What each recommendation and note says and cites, once (the actions point here)."""
    made = []
    for rec in snapshot.recommendations.values():
        cited = [
            citation(snapshot.references[label]) for label in rec.citations if label in snapshot.references
        ]
        made.append(_activity(snapshot, rec.code, rec.title, rec.text or rec.title, cited, rec.section))
    for note in snapshot.notes:
        artifact: dict[str, Any] = {
            "type": "citation",
            "label": note.code,
            "citation": note.source or note.code,
        }
        if note.source_url:
            artifact["url"] = note.source_url
        made.append(_activity(snapshot, note.code, note.code, note.text or note.code, [artifact], NEWER))
    return made


def _activity(
    snapshot: engine.Snapshot, code: str, title: str, text: str, cited: list[dict[str, Any]], topic: str
) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "resourceType": "ActivityDefinition",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}-{code}"),
        "url": definition_url(snapshot, code),
        "version": str(snapshot.version),
        "title": title,
        "status": "active",
        "topic": [{"text": topic}],
        "code": _coding(snapshot, code),
        "description": text,
    }
    if cited:
        activity["relatedArtifact"] = cited
    return activity


def _id(text: str) -> str:
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-.") else "-" for c in text)
    return cleaned[:64]


def questionnaire(snapshot: engine.Snapshot, routes: _Routes | None = None) -> dict[str, Any]:
    routes = routes or _Routes(snapshot)
    items = []
    for key, variable in snapshot.variables.items():
        item: dict[str, Any] = {"linkId": key, "text": variable.label}
        extensions: list[dict[str, Any]] = []
        if variable.kind == engine.CHOICE:
            item["type"] = "choice"
            item["answerOption"] = [
                {"valueCoding": {"code": value, "display": label}} for value, label in variable.choices
            ]
        elif variable.kind == engine.BOOLEAN:
            item["type"] = "boolean"
        else:
            item["type"] = "decimal"
            if variable.minimum is not None:
                extensions.append({"url": MIN_VALUE, "valueDecimal": variable.minimum})
            if variable.maximum is not None:
                extensions.append({"url": MAX_VALUE, "valueDecimal": variable.maximum})
            if variable.unit:
                extensions.append(
                    {
                        "url": UNIT,
                        "valueCoding": {"system": UCUM, "code": variable.unit, "display": variable.unit},
                    }
                )
        when = routes.enabled(key)
        if when == fp.FALSE:
            when = "false"  # never asked: a lasting item no walk enables
        if when != fp.TRUE:
            extensions.append(
                {"url": ENABLE_WHEN_EXPRESSION, "valueExpression": {"language": FHIRPATH, "expression": when}}
            )
        if extensions:
            item["extension"] = extensions
        item["required"] = not variable.optional
        items.append(item)
    return {
        "resourceType": "Questionnaire",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}"),
        "meta": {"profile": [SDC_PROFILE]},
        "url": canonical("Questionnaire", snapshot.pathway),
        "version": str(snapshot.version),
        "name": _name(snapshot.pathway),
        "title": snapshot.title or snapshot.pathway,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def plan_definition(snapshot: engine.Snapshot, routes: _Routes | None = None) -> dict[str, Any]:
    routes = routes or _Routes(snapshot)
    root = routes.action(snapshot.start, (), frozenset())
    actions = [root]
    return {
        "resourceType": "PlanDefinition",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}"),
        "url": canonical("PlanDefinition", snapshot.pathway),
        "version": str(snapshot.version),
        "name": _name(snapshot.pathway),
        "title": snapshot.title or snapshot.pathway,
        "type": {
            "coding": [
                {
                    "system": PLAN_TYPE,
                    "code": "clinical-protocol",
                }
            ]
        },
        "status": "active",
        "library": [versioned("Library", snapshot)],
        "action": actions,
    }


def code_system(snapshot: engine.Snapshot) -> dict[str, Any]:
    concepts = [{"code": rec.code, "display": rec.title} for rec in snapshot.recommendations.values()]
    concepts += [{"code": note.code, "display": note.code} for note in snapshot.notes]
    concepts.sort(key=lambda concept: concept["code"])
    return {
        "resourceType": "CodeSystem",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}"),
        "url": code_system_url(snapshot.pathway),
        "version": str(snapshot.version),
        "name": _name(snapshot.pathway) + "Codes",
        "title": f"{snapshot.title or snapshot.pathway}: recommendation and newer-guidance codes",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "count": len(concepts),
        "concept": concepts,
    }


def library(snapshot: engine.Snapshot, document: Mapping[str, Any]) -> dict[str, Any]:
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return {
        "resourceType": "Library",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}"),
        "url": canonical("Library", snapshot.pathway),
        "version": str(snapshot.version),
        "name": _name(snapshot.pathway) + "Document",
        "title": f"{snapshot.title or snapshot.pathway}: the pathway document",
        "status": "active",
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "asset-collection"}
            ]
        },
        "content": [{"contentType": "application/json", "data": base64.b64encode(data).decode("ascii")}],
    }


def bundle(document: Mapping[str, Any]) -> dict[str, Any]:
    """The FHIR collection Bundle of a pathway document (the import/export format)."""
    snapshot = snapshot_from_document(document)
    routes = _Routes(snapshot)
    resources = [
        questionnaire(snapshot, routes),
        plan_definition(snapshot, routes),
        code_system(snapshot),
        library(snapshot, document),
        *routes.steps(),
        *activity_definitions(snapshot),
    ]
    return {
        "resourceType": "Bundle",
        "id": _id(f"{snapshot.pathway}-{snapshot.version}"),
        "type": "collection",
        "entry": [
            {"fullUrl": f"{BASE}/{resource['resourceType']}/{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def validated(resource: Mapping[str, Any]) -> dict[str, Any]:
    """``resource`` checked against the R4B models (raises ``pydantic.ValidationError``)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(str(resource["resourceType"])).model_validate(resource)
    return dict(resource)


def resources(bundle: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The first resource of each type in the bundle (the main Questionnaire, PlanDefinition, ...)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in bundle.get("entry", ()):
        resource = entry["resource"]
        found.setdefault(resource["resourceType"], resource)
    return found


def by_url(bundle: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The bundle's resources by ``url|version``."""
    return {
        f"{entry['resource']['url']}|{entry['resource']['version']}": entry["resource"]
        for entry in bundle.get("entry", ())
        if "url" in entry["resource"]
    }


def _name(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.replace("_", "-").split("-") if part) or "Pathway"


def document_from_bundle(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The pathway document a Bundle carries (its Library), checked to match the Bundle.

    Raises ``ValueError`` when the Bundle is not a valid R4B collection, has no pathway Library,
    or its Questionnaire, PlanDefinition or CodeSystem is not the export of that document.
    """
    from pydantic import ValidationError

    try:
        validated(bundle)
    except (ValidationError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"not a valid R4B Bundle ({str(error).splitlines()[0]})") from None
    if bundle.get("type") != "collection":
        raise ValueError("the Bundle must be of type collection")
    library = resources(bundle).get("Library")
    contents = [c for c in (library or {}).get("content", ()) if c.get("contentType") == "application/json"]
    if not contents or "data" not in contents[0]:
        raise ValueError("the Bundle holds no Library with the pathway document (application/json)")
    try:
        document = json.loads(base64.b64decode(contents[0]["data"], validate=True).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("the Library's content is not a JSON document") from None
    if not isinstance(document, dict):
        raise ValueError("the Library's content is not a JSON object")
    try:
        again = resources(bundle_of(document))
    except (KeyError, TypeError, ValueError, engine.PathwayError) as error:
        raise ValueError(f"the Library's document is not a pathway ({error})") from None
    given = resources(bundle)
    for kind in ("Questionnaire", "PlanDefinition", "CodeSystem"):
        if given.get(kind) != again[kind]:
            raise ValueError(f"the {kind} is not the export of the Library's document")
    return document


bundle_of = bundle
