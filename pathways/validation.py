"""The publish gate: prove, before publishing, that a pathway version is complete and safe.

Pure Python on a pathway document (the import/export format) and its engine snapshot: no Django
import. Routing is decided by analysis of the conditions, not by sampling answers: a number's
domain is cut into points and open intervals at every threshold a node's conditions use, a
choice's domain is its set of values, and a node's edges are checked over the product of the
classes of the variables they test. Safety rules are checked over every class of complete walk
that :func:`engine.enumerate_cases` distinguishes.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from . import case_index, engine, graph
from .case_index import CaseIndex
from .document import condition_error, conditions, is_number, snapshot_from_document
from .fhir import check as fhir_check
from .fhir import export as fhir_export

ERROR = "error"
WARNING = "warning"

TOP_LEVEL_KEYS = (
    "pathway",
    "version",
    "variables",
    "nodes",
    "edges",
    "recommendations",
    "references",
    "safety_rules",
    "test_cases",
    "newer_guidance",
)
OPTIONAL_KEYS = ("version", "safety_rules", "test_cases", "newer_guidance")
NOTE_CODE = re.compile(r"newer\.[a-z0-9][a-z0-9_-]*", re.ASCII)
_MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class Problem:
    severity: str
    code: str
    message: str
    node: str | None = None

    def __str__(self) -> str:
        where = f" [{self.node}]" if self.node else ""
        return f"{self.severity.upper()} {self.code}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class SafetyRule:
    name: str
    conditions: tuple[engine.Condition, ...]
    must_include: tuple[str, ...] = ()
    must_exclude: tuple[str, ...] = ()
    description: str = ""

    def applies(self, answers: Mapping[str, Any]) -> bool:
        return all(condition.holds(answers) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class TestCase:
    name: str
    case: Mapping[str, Any]
    must_include: tuple[str, ...] = ()
    must_exclude: tuple[str, ...] = ()
    expected_outcome: str = ""

    __test__ = False  # not a pytest class


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    classes: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, severity: str, code: str, message: str, node: str | None = None) -> None:
        self.problems.append(Problem(severity, code, message, node))


def validate_document(document: Any) -> list[Problem]:
    """Every problem of a pathway document, errors first; an empty list means publishable."""
    return check_document(document).problems


def check_document(document: Any, store: fhir_check.ParsedStore | None = None) -> Report:
    """Run every check on ``document`` and return the problems with the enumeration figures.

    ``store``: where the FHIR check keeps the FHIRPath expressions it parses, between processes.
    """
    with _without_cycle_collection():
        return _check_document(document, store)


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while the gate runs.

    The gate makes hundreds of thousands of small objects (a walk per class of case, its indexes)
    that live until it ends; the collector, triggered by their number, would traverse them again and
    again, a third of the gate's time. Reference counting frees them as before, and a collector
    paused by another thread is left as that thread leaves it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_document(document: Any, store: fhir_check.ParsedStore | None) -> Report:
    started = time.perf_counter()
    report = Report()
    _check_shape(document, report)
    if report.errors:
        return _finish(report, started)
    _check_references(document, report)
    if report.errors:
        return _finish(report, started)
    _check_text(document, report)
    snapshot = snapshot_from_document(document)
    _check_content(document, snapshot, report)
    acyclic = _check_graph(snapshot, report)
    _check_edges(snapshot, report)
    if acyclic:
        _check_asked_before(snapshot, report)
    rules = safety_rules_from_document(document)
    structural = bool(report.errors)
    _check_test_cases(snapshot, tests_from_document(document), report)
    if structural:
        report.add(
            ERROR,
            "safety-rules-not-checked",
            "The safety rules are checked over every class of cases only once the errors above are fixed.",
        )
    else:
        try:
            classes = case_classes(snapshot, rules)
        except engine.PathwayError as error:
            report.add(ERROR, "enumeration-failed", f"The cases could not be enumerated: {error}.")
            return _finish(report, started)
        report.classes = len(classes)
        index = CaseIndex(classes)
        _check_safety_rules(classes, rules, report, index)
        _check_notes_asked(snapshot, index, report)
        _check_fhir(document, snapshot, index, report, store)
    return _finish(report, started)


def _finish(report: Report, started: float) -> Report:
    report.problems.sort(key=lambda p: p.severity != ERROR)
    report.seconds = time.perf_counter() - started
    return report


# Document shape -------------------------------------------------------------------------------


def document_errors(document: Any) -> list[str]:
    """Reasons a document cannot be imported at all (malformed, dangling references)."""
    report = Report()
    _check_shape(document, report)
    if not report.errors:
        _check_references(document, report)
    return [p.message for p in report.errors]


def _check_shape(document: Any, report: Report) -> None:
    def bad(message: str) -> None:
        report.add(ERROR, "malformed", message)

    if not isinstance(document, dict):
        bad("The document is not a JSON object.")
        return
    for key in TOP_LEVEL_KEYS:
        if key not in document:
            if key not in OPTIONAL_KEYS:
                bad(f"The document has no “{key}” key.")
            continue
        expected = dict if key in ("pathway", "version") else list
        if not isinstance(document[key], expected):
            bad(f"“{key}” must be a JSON {'object' if expected is dict else 'list'}.")
    if report.errors:
        return
    required = {
        "variables": ("key", "label", "kind"),
        "nodes": ("slug", "kind", "stage", "title"),
        "edges": ("source", "target", "order"),
        "recommendations": ("code", "section", "title"),
        "references": ("label", "citation"),
        "safety_rules": ("name",),
        "test_cases": ("name", "case"),
        "newer_guidance": ("code", "text", "source", "checked_on"),
    }
    if not isinstance(document["pathway"].get("slug"), str) or not document["pathway"]["slug"]:
        bad("“pathway” needs a “slug”.")
    for key, fields in required.items():
        for index, item in enumerate(document.get(key) or ()):
            if not isinstance(item, dict):
                bad(f"{key}[{index}] is not a JSON object.")
                continue
            for name in fields:
                if name not in item or item[name] in (None, ""):
                    bad(f"{key}[{index}] has no “{name}”.")
            for name in (
                "conditions",
                "fields",
                "citations",
                "nodes",
                "must_include",
                "must_exclude",
                "when_codes",
                "unless_codes",
            ):
                if name in item and not isinstance(item[name], list):
                    bad(f"{key}[{index}].{name} must be a list.")
            for cond_index, condition in enumerate(item.get("conditions") or ()):
                if not isinstance(condition, dict) or not {"variable", "op", "value"} <= condition.keys():
                    bad(f"{key}[{index}].conditions[{cond_index}] needs “variable”, “op” and “value”.")
        if key == "edges":
            for index, item in enumerate(document["edges"]):
                if isinstance(item, dict) and not _is_int(item.get("order")):
                    bad(f"edges[{index}].order must be a whole number.")
        if key == "test_cases":
            for index, item in enumerate(document.get("test_cases") or ()):
                if isinstance(item, dict) and not isinstance(item.get("case"), dict):
                    bad(f"test_cases[{index}].case must be a JSON object.")
    for index, item in enumerate(document["variables"]):
        if isinstance(item, dict):
            _check_variable_shape(index, item, bad)
    for index, item in enumerate(document.get("newer_guidance") or ()):
        if isinstance(item, dict):
            _check_note_shape(index, item, bad)


def _check_note_shape(index: int, item: dict[str, Any], bad: Any) -> None:
    for name in ("code", "text", "source", "source_url"):
        if name in item and not isinstance(item[name], str):
            bad(f"newer_guidance[{index}].{name} must be text.")
    checked_on = item.get("checked_on", "")
    if checked_on not in (None, ""):
        try:
            date.fromisoformat(checked_on)
        except (TypeError, ValueError):
            bad(f"newer_guidance[{index}].checked_on must be a date written YYYY-MM-DD.")


def _check_variable_shape(index: int, item: dict[str, Any], bad: Any) -> None:
    kind = item.get("kind")
    if kind not in engine.VARIABLE_KINDS:
        bad(f"variables[{index}].kind must be one of {', '.join(engine.VARIABLE_KINDS)}.")
    if kind == engine.CHOICE:
        choices = item.get("choices")
        if not isinstance(choices, list) or not choices:
            bad(f"variables[{index}] is a choice with no choices.")
        elif not all(
            isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in choices
        ):
            bad(f"variables[{index}].choices must be [value, label] pairs of text.")
    for bound in ("minimum", "maximum"):
        value = item.get(bound)
        if value is not None and not is_number(value):
            bad(f"variables[{index}].{bound} must be a number.")
    _check_other_units_shape(index, item, bad)


def _check_other_units_shape(index: int, item: dict[str, Any], bad: Any) -> None:
    """Other units: objects of a unit, a positive factor and its basis, on a number with a unit."""
    others = item.get("other_units")
    if others in (None, []):
        return
    where = f"variables[{index}].other_units"
    if not isinstance(others, list):
        bad(f"{where} must be a list.")
        return
    if item.get("kind") != engine.NUMBER or not item.get("unit"):
        bad(f"{where}: only a number with a unit may be entered in other units.")
    seen = {engine.unit_key(item.get("unit") or "")}
    for position, other in enumerate(others):
        at = f"{where}[{position}]"
        if not isinstance(other, dict) or set(other) - {"unit", "factor", "basis"}:
            bad(f"{at} must hold a unit, a factor and a basis only.")
            continue
        unit, factor = other.get("unit"), other.get("factor")
        if not isinstance(unit, str) or not unit.strip():
            bad(f"{at}.unit must be text.")
        elif engine.unit_key(unit) in seen:
            bad(f"{at}: the unit “{unit[:40]}” is listed twice, or is the variable's own unit.")
        else:
            seen.add(engine.unit_key(unit))
            if not (unit[0].isalpha() or unit[0] in "%µμ"):
                bad(f"{at}.unit must begin with a letter, % or µ (it is typed after the number).")
        if not (is_number(factor) and float(factor or 0) > 0):
            bad(f"{at}.factor must be a positive number (how many of the variable's unit make one).")
        if not isinstance(other.get("basis", ""), str):
            bad(f"{at}.basis must be text.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_references(document: dict[str, Any], report: Report) -> None:
    """Dangling or duplicate names: what would stop the document being built at all."""

    def bad(code: str, message: str, node: str | None = None) -> None:
        report.add(ERROR, code, message, node)

    variables = {item["key"]: item for item in document["variables"]}
    nodes = {item["slug"] for item in document["nodes"]}
    references = {item["label"] for item in document["references"]}
    for key, name in (
        ("variables", "key"),
        ("nodes", "slug"),
        ("references", "label"),
        ("recommendations", "code"),
        ("safety_rules", "name"),
        ("test_cases", "name"),
        ("newer_guidance", "code"),
    ):
        seen: set[Any] = set()
        for item in document.get(key) or ():
            if item[name] in seen:
                bad("duplicate", f"Two {key} share the {name} “{item[name]}”; each must be unique.")
            seen.add(item[name])
    starts = [item["slug"] for item in document["nodes"] if item.get("start")]
    if not starts:
        bad("no-start", "No node is marked as the start.")
    elif len(starts) > 1:
        bad("several-starts", f"Several nodes are marked as the start: {', '.join(starts)}.", starts[1])
    for item in document["nodes"]:
        if item["kind"] not in engine.NODE_KINDS:
            bad("malformed", f"Node kind “{item['kind']}” is not one of {', '.join(engine.NODE_KINDS)}.")
        for key in item.get("fields") or ():
            if key not in variables:
                bad("unknown-variable", f"Node asks “{key}”, which is not a variable.", item["slug"])
    for item in document["edges"]:
        for end in ("source", "target"):
            if item[end] not in nodes:
                bad("unknown-node", f"An edge's {end} “{item[end]}” is not a node.", item.get("source"))
    codes = {item["code"] for item in document["recommendations"]}
    for item in document["recommendations"]:
        where = (item.get("nodes") or [None])[0]
        for slug in item.get("nodes") or ():
            if slug not in nodes:
                bad("unknown-node", f"{item['code']} is placed at “{slug}”, which is not a node.")
        for label in item.get("citations") or ():
            if label not in references:
                bad("unknown-reference", f"{item['code']} cites [{label}], which is not a reference.", where)
    containers = (
        [(f"edge {e['source']} → {e['target']}", e, e["source"]) for e in document["edges"]]
        + [
            (f"recommendation {r['code']}", r, (r.get("nodes") or [None])[0])
            for r in document["recommendations"]
        ]
        + [(f"safety rule {r['name']}", r, None) for r in document.get("safety_rules") or ()]
        + [(f"note {n['code']}", n, None) for n in document.get("newer_guidance") or ()]
    )
    for label, item, where in containers:
        for condition in item.get("conditions") or ():
            message = condition_error(condition, variables)
            if message:
                bad("bad-condition", f"{label}: {message}", where)
    _check_note_references(document, codes, report)
    for key in ("safety_rules", "test_cases"):
        for item in document.get(key) or ():
            for name in ("must_include", "must_exclude"):
                for code in item.get(name) or ():
                    if code not in codes:
                        bad(
                            "unknown-code",
                            f"{key[:-1].replace('_', ' ')} {item['name']}: {name} names “{code}”, "
                            "which no recommendation of this version has.",
                        )
            outcome = item.get("expected_outcome")
            if outcome and outcome not in nodes:
                bad(
                    "unknown-node",
                    f"test case {item['name']} expects outcome “{outcome}”, which is not a node.",
                )


def _check_note_references(document: dict[str, Any], codes: set[str], report: Report) -> None:
    for item in document.get("newer_guidance") or ():
        code = item["code"]
        if not NOTE_CODE.fullmatch(code) or len(code) > 80:
            report.add(
                ERROR,
                "bad-note-code",
                f"The note code “{code}” must read newer.<slug> (lower-case letters, digits, - and _).",
            )
        for name in ("when_codes", "unless_codes"):
            for given in item.get(name) or ():
                if given not in codes:
                    report.add(
                        ERROR,
                        "unknown-code",
                        f"note {code}: {name} names “{given}”, which no recommendation of this version has.",
                    )


def _https_problem(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme != "https" or not parts.netloc


# Text --------------------------------------------------------------------------------------------

# The longest text the gate accepts, in characters, by kind of field.
LABEL_LIMIT = 200  # labels, titles, units, choice labels, reference labels
HELP_LIMIT = 2_000  # help texts, notes, citations, URLs, descriptions of checks
TEXT_LIMIT = 10_000  # Markdown bodies and texts, the pathway's descriptions, change notes

# Characters that change how text reads without showing themselves: a label could then display
# differently from what is stored (e.g. a right-to-left override reversing "5 cm" and "< 2").
INVISIBLE = {
    **{chr(c): "a bidirectional control character" for c in range(0x202A, 0x202F)},
    **{chr(c): "a bidirectional isolate" for c in range(0x2066, 0x206A)},
    "\u202e": "a right-to-left override",
    "\u202d": "a left-to-right override",
    "\u200e": "a left-to-right mark",
    "\u200f": "a right-to-left mark",
    "\u061c": "an Arabic letter mark",
    "\u200b": "a zero-width space",
    "\u200c": "a zero-width non-joiner",
    "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner",
    "\ufeff": "a zero-width no-break space",
}
CHOICE_VALUE = re.compile(r"[a-z0-9_]+")
# Characters read as one another, and what they are compared as.
_LOOK_ALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s", "2": "z", "8": "b", "_": None})

_ITEM_TEXT: dict[str, tuple[str, str, dict[str, int]]] = {
    # document key: (what an item is called, its naming field, {text field: limit})
    "variables": ("variable", "key", {"label": LABEL_LIMIT, "unit": LABEL_LIMIT, "help": HELP_LIMIT}),
    "nodes": ("node", "slug", {"title": LABEL_LIMIT, "body": TEXT_LIMIT}),
    "edges": ("edge", "", {"note": HELP_LIMIT}),
    "recommendations": (
        "recommendation",
        "code",
        {"title": LABEL_LIMIT, "text": TEXT_LIMIT, "note": HELP_LIMIT},
    ),
    "references": (
        "reference",
        "label",
        {"label": LABEL_LIMIT, "citation": HELP_LIMIT, "url": HELP_LIMIT, "note": HELP_LIMIT},
    ),
    "safety_rules": ("safety rule", "name", {"description": HELP_LIMIT}),
    "test_cases": ("test case", "name", {"description": HELP_LIMIT}),
}
_PATHWAY_TEXT = {
    "title": LABEL_LIMIT,
    "summary": TEXT_LIMIT,
    "intended_use": TEXT_LIMIT,
    "disclaimer": TEXT_LIMIT,
    "source": TEXT_LIMIT,
}
_MULTILINE_LIMITS = (HELP_LIMIT, TEXT_LIMIT)


def text_problem(text: str, limit: int) -> str | None:
    """Why ``text`` cannot be published in a field of ``limit`` characters, or None.

    Longer fields may hold line breaks and tabs; no field holds other control characters or
    the invisible characters of :data:`INVISIBLE`.
    """
    for char in text:
        if char in INVISIBLE:
            return f"contains {INVISIBLE[char]} (U+{ord(char):04X}), which is invisible: remove it"
        allowed = limit in _MULTILINE_LIMITS and char in "\n\r\t"
        if unicodedata.category(char) == "Cc" and not allowed:
            return f"contains a control character (U+{ord(char):04X}): remove it"
    if len(text) > limit:
        return f"is {len(text):,} characters long; at most {limit:,} are allowed"
    return None


def look_alike(value: str) -> str:
    """What a choice value is compared as, so that "n0ne" and "none" count as the same."""
    return value.translate(_LOOK_ALIKE).replace("rn", "m").replace("vv", "w")


def change_note_problems(note: Any) -> list[Problem]:
    """What is wrong with a version's change note (the one check that reads the version block)."""
    problem = text_problem(note, TEXT_LIMIT) if isinstance(note, str) else None
    if not problem:
        return []
    code = "text-too-long" if problem.startswith("is ") else "unsafe-text"
    return [Problem(ERROR, code, f"This version: the change note {problem}.")]


def with_change_note(report: Report, note: Any) -> Report:
    """``report`` (of a document without a change note) with the checks of ``note`` added."""
    problems = [*report.problems, *change_note_problems(note)]
    problems.sort(key=lambda p: p.severity != ERROR)
    return replace(report, problems=problems)


def _check_text(document: dict[str, Any], report: Report) -> None:
    def refuse(code: str, message: str, node: str | None = None) -> None:
        report.add(ERROR, code, message, node)

    def check(where: str, name: str, text: Any, limit: int, node: str | None = None) -> None:
        if isinstance(text, str):
            problem = text_problem(text, limit)
            if problem:
                code = "text-too-long" if problem.startswith("is ") else "unsafe-text"
                refuse(code, f"{where}: the {name} {problem}.", node)

    for name, limit in _PATHWAY_TEXT.items():
        check("The pathway", name.replace("_", " "), document["pathway"].get(name), limit)
    report.problems.extend(change_note_problems((document.get("version") or {}).get("note")))
    for key, (kind, naming, fields) in _ITEM_TEXT.items():
        for item in document.get(key) or ():
            if key == "edges":
                where = f"The edge {item['source']} → {item['target']} (#{item['order']})"
                node = item["source"]
            else:
                where = f"The {kind} {item[naming]}"
                node = item["slug"] if key == "nodes" else (item.get("nodes") or [None])[0]
            for name, limit in fields.items():
                check(where, name, item.get(name), limit, node)
    for variable in document["variables"]:
        _check_choices(variable, refuse, check)
        for other in variable.get("other_units") or ():
            if isinstance(other, dict) and isinstance(other.get("unit"), str):
                where = f"The variable {variable['key']}"
                check(where, "other unit", other["unit"], LABEL_LIMIT)
                check(where, f"basis of “{other['unit'][:40]}”", other.get("basis", ""), HELP_LIMIT)


def _check_choices(variable: dict[str, Any], refuse: Any, check: Any) -> None:
    where = f"The variable {variable['key']}"
    seen: dict[str, str] = {}
    for value, label in variable.get("choices") or ():
        check(where, f"label of the choice “{value}”", label, LABEL_LIMIT)
        if not CHOICE_VALUE.fullmatch(value) or len(value) > LABEL_LIMIT:
            shown = value[:40].encode("ascii", "backslashreplace").decode()
            refuse(
                "bad-choice-value",
                f"{where}: the choice value “{shown}” must be lowercase ASCII letters, digits and "
                "underscores only.",
            )
            continue
        other = seen.setdefault(look_alike(value), value)
        if other != value:
            refuse(
                "confusable-choices",
                f"{where}: the choice values “{other}” and “{value}” look alike; make them clearly "
                "different.",
            )


# Content rules ---------------------------------------------------------------------------------


def _check_content(document: dict[str, Any], snapshot: engine.Snapshot, report: Report) -> None:
    placed: dict[str, list[str]] = {code: [] for code in snapshot.recommendations}
    for node in snapshot.nodes.values():
        for rec in node.recommendations:
            placed[rec.code].append(node.slug)
    for rec in snapshot.recommendations.values():
        where = placed[rec.code][0] if placed[rec.code] else None
        if not rec.code.strip():
            report.add(ERROR, "no-code", f"The recommendation “{rec.title}” has no code.", where)
        if not rec.citations and rec.note.strip():
            # The pathway's own resolution where the source is silent: its note says so, and citing a
            # reference would present it as a source statement.
            report.add(
                WARNING,
                "uncited-resolution",
                f"{rec.code} cites no reference: it is shown as this pathway's resolution, as its note says.",
                where,
            )
        elif not rec.citations:
            report.add(
                ERROR,
                "no-citation",
                f"{rec.code} cites no reference and no note says why; every recommendation needs one.",
                where,
            )
        if not placed[rec.code]:
            report.add(WARNING, "never-given", f"{rec.code} is placed at no node, so no walk ever gets it.")
    cited = {label for rec in snapshot.recommendations.values() for label in rec.citations}
    for reference in snapshot.references.values():
        if reference.url and _https_problem(reference.url):
            report.add(
                ERROR,
                "insecure-url",
                f"Reference [{reference.label}] links to “{reference.url}”: use an https URL.",
            )
        if reference.label not in cited:
            report.add(
                WARNING, "unused-reference", f"Reference [{reference.label}] is cited by no recommendation."
            )
    for note in snapshot.notes:
        if note.source_url and _https_problem(note.source_url):
            report.add(
                ERROR, "insecure-url", f"The note {note.code} links to “{note.source_url}”: use an https URL."
            )
    asked = {key for node in snapshot.nodes.values() for key in node.fields}
    for key, variable in snapshot.variables.items():
        if key not in asked and not variable.optional:
            report.add(WARNING, "never-asked", f"The variable {key} is asked by no node.")
        if (
            variable.kind == engine.NUMBER
            and variable.minimum is not None
            and variable.maximum is not None
            and variable.minimum > variable.maximum
        ):
            report.add(ERROR, "empty-domain", f"The variable {key} has a minimum above its maximum.")
    for node in snapshot.nodes.values():
        if node.kind == engine.QUESTION and not snapshot.required_fields(node):
            report.add(
                WARNING, "question-asks-nothing", "This question asks no required variable.", node.slug
            )


# Graph -----------------------------------------------------------------------------------------


def _check_graph(snapshot: engine.Snapshot, report: Report) -> bool:
    """Reachability, dead ends and cycles; return whether the graph is acyclic."""
    nodes = snapshot.nodes
    targets = _targets(snapshot)
    reached = set(graph.reachable(snapshot.start, targets))
    for slug, node in nodes.items():
        if slug not in reached:
            report.add(ERROR, "unreachable", "No walk can reach this node from the start.", slug)
        if node.kind == engine.OUTCOME and node.edges:
            report.add(
                ERROR, "outcome-with-edges", "An outcome ends the walk: its edges are never followed.", slug
            )
        if node.kind == engine.OUTCOME and node.stage != "management":
            report.add(
                WARNING,
                "outcome-not-management",
                "An outcome is where the management recommendation is given; this one is not in the "
                "management stage.",
                slug,
            )
        if node.kind != engine.OUTCOME and not node.edges:
            report.add(
                ERROR, "dead-end", "This step has no way out and is not an outcome: walks stop here.", slug
            )
    cycle = graph.find_cycle(nodes, targets)
    if cycle:
        report.add(ERROR, "cycle", f"The walk can loop: {' → '.join(cycle)}.", cycle[0])
    return not cycle


def _targets(snapshot: engine.Snapshot) -> graph.Successors[str]:
    nodes = snapshot.nodes
    return lambda slug: [edge.target for edge in nodes[slug].edges]


# Edge conditions: exactly one edge for every possible answer -----------------------------------


def _merge_adjacent(group: list[engine.Cell]) -> list[engine.Cell]:
    """Join adjacent number cells for a readable report: (1, 2) and {2} become (1, 2]."""
    merged: list[engine.Cell] = []
    for cell in group:
        last = merged[-1] if merged else None
        if (
            last is not None
            and cell.variable.kind == engine.NUMBER
            and last.high == cell.low
            and (last.high_closed or cell.low_closed)
        ):
            merged[-1] = replace(last, high=cell.high, high_closed=cell.high_closed)
        else:
            merged.append(cell)
    return merged


def _check_edges(snapshot: engine.Snapshot, report: Report) -> None:
    for node in snapshot.nodes.values():
        if node.kind == engine.OUTCOME or not node.edges:
            continue
        keys: list[str] = []
        for edge in node.edges:
            for condition in edge.conditions:
                if condition.variable not in keys:
                    keys.append(condition.variable)
                if snapshot.variables[condition.variable].optional:
                    report.add(
                        ERROR,
                        "routes-on-optional",
                        f"The edge to {edge.target} tests {condition.variable}, which is optional and may "
                        "never be answered.",
                        node.slug,
                    )
        per_variable = []
        for key in keys:
            cuts = engine.cuts(c for edge in node.edges for c in edge.conditions if c.variable == key)
            per_variable.append(engine.partition(snapshot.variables[key], cuts.get(key, [])))
        gaps: list[tuple[engine.Cell, ...]] = []
        overlaps: list[tuple[tuple[engine.Cell, ...], list[engine.Edge]]] = []
        for combination in itertools.product(*per_variable):
            answers = {cell.variable.key: cell.value for cell in combination}
            matching = [edge for edge in node.edges if edge.matches(answers)]
            if not matching:
                gaps.append(combination)
            elif len(matching) > 1:
                overlaps.append((combination, matching))
        for combination in _readable(gaps):
            report.add(
                ERROR,
                "gap",
                f"No edge is taken when {_describe(combination)}: the walk would stop here.",
                node.slug,
            )
        shown = _readable([combination for combination, _ in overlaps])
        for combination in shown:
            edges = next((e for c, e in overlaps if _within(c, combination)), [])
            targets = ", ".join(f"#{edge.order} → {edge.target}" for edge in edges)
            report.add(
                ERROR,
                "overlap",
                f"Several edges ({targets}) are taken when {_describe(combination)}: exactly one must be.",
                node.slug,
            )


def _within(cell_combination: tuple[engine.Cell, ...], merged: tuple[engine.Cell, ...]) -> bool:
    for cell, region in zip(cell_combination, merged, strict=True):
        if cell.variable.kind != engine.NUMBER:
            if cell.value != region.value:
                return False
        elif not (region.low <= cell.low and cell.high <= region.high):
            return False
    return True


def _readable(combinations: list[tuple[engine.Cell, ...]]) -> list[tuple[engine.Cell, ...]]:
    """Merge failing combinations that differ only in the last number's adjacent cells."""
    if not combinations:
        return []
    number_positions = [i for i, cell in enumerate(combinations[0]) if cell.variable.kind == engine.NUMBER]
    if not number_positions:
        return combinations[:_MAX_EXAMPLES]
    position = number_positions[-1]
    groups: dict[tuple[Any, ...], list[engine.Cell]] = {}
    for combination in combinations:
        key = tuple((c.value, c.low, c.high) for i, c in enumerate(combination) if i != position)
        groups.setdefault(key, []).append(combination[position])
    shown: list[tuple[engine.Cell, ...]] = []
    firsts = {
        tuple((c.value, c.low, c.high) for i, c in enumerate(comb) if i != position): comb
        for comb in reversed(combinations)
    }
    for key, group in groups.items():
        for cell in _merge_adjacent(sorted(group, key=lambda c: (c.low, c.high))):
            base = list(firsts[key])
            base[position] = cell
            shown.append(tuple(base))
    return shown[:_MAX_EXAMPLES]


def _describe(combination: Sequence[engine.Cell]) -> str:
    return " and ".join(cell.describe() for cell in combination) or "any answer"


# Every condition tests a variable asked on every path leading to it -----------------------------


def _check_asked_before(snapshot: engine.Snapshot, report: Report) -> None:
    order = graph.topological(snapshot.start, _targets(snapshot))
    predecessors: dict[str, list[str]] = {slug: [] for slug in snapshot.nodes}
    for node in snapshot.nodes.values():
        for edge in node.edges:
            predecessors[edge.target].append(node.slug)
    asked: dict[str, frozenset[str]] = {}
    for slug in order:
        node = snapshot.nodes[slug]
        before = [asked[p] for p in predecessors[slug] if p in asked]
        inherited = frozenset.intersection(*before) if before else frozenset()
        asked[slug] = inherited | frozenset(snapshot.required_fields(node))
    for slug in order:
        node = snapshot.nodes[slug]
        for edge in node.edges:
            for condition in edge.conditions:
                if condition.variable not in asked[slug]:
                    report.add(
                        ERROR,
                        "not-asked",
                        f"The edge to {edge.target} tests {condition.variable}, which is not asked on every "
                        "path leading here.",
                        slug,
                    )
        for rec in node.recommendations:
            for condition in rec.conditions:
                if condition.variable not in asked[slug]:
                    report.add(
                        ERROR,
                        "not-asked",
                        f"{rec.code} tests {condition.variable}, which is not asked on every path leading "
                        "here.",
                        slug,
                    )


# Safety rules and test cases -------------------------------------------------------------------


def safety_rules_from_document(document: Mapping[str, Any]) -> list[SafetyRule]:
    return [
        SafetyRule(
            name=item["name"],
            conditions=conditions(item.get("conditions")),
            must_include=tuple(item.get("must_include") or ()),
            must_exclude=tuple(item.get("must_exclude") or ()),
            description=item.get("description", ""),
        )
        for item in document.get("safety_rules") or ()
    ]


def tests_from_document(document: Mapping[str, Any]) -> list[TestCase]:
    return [
        TestCase(
            name=item["name"],
            case=item["case"],
            must_include=tuple(item.get("must_include") or ()),
            must_exclude=tuple(item.get("must_exclude") or ()),
            expected_outcome=item.get("expected_outcome") or "",
        )
        for item in document.get("test_cases") or ()
    ]


def case_classes(
    snapshot: engine.Snapshot, rules: Sequence[SafetyRule] = ()
) -> list[tuple[dict[str, Any], engine.Evaluation]]:
    """Every class of complete walk, cut also at the thresholds the safety rules and the
    newer-guidance notes use."""
    extra = [c for rule in rules for c in rule.conditions]
    extra += [c for note in snapshot.notes for c in note.conditions]
    return list(engine.enumerate_cases(snapshot, extra))


Classes = Sequence[tuple[dict[str, Any], engine.Evaluation]]


def _breaking(index: CaseIndex, rule: SafetyRule) -> int:
    """The classes where ``rule`` applies and the walk lacks a code it must include or gets one it
    must exclude (a rule's conditions are tested once per distinct answer, not once per class)."""
    applies = index.where(rule.conditions)
    found = 0
    if applies:
        for code in rule.must_include:
            found |= applies & ~index.given(code)
        for code in rule.must_exclude:
            found |= applies & index.given(code)
    return found


def _check_safety_rules(
    classes: Classes, rules: Sequence[SafetyRule], report: Report, index: CaseIndex | None = None
) -> None:
    index = index or CaseIndex(classes)
    failing = [(rule, _breaking(index, rule)) for rule in rules]
    for rule in rules:
        # Rules sharing a name are reported together (the gate refuses duplicate names anyway).
        named = [(other, breaking) for other, breaking in failing if other.name == rule.name and breaking]
        if not named:
            continue
        # The first class in enumeration order that breaks one of them, with that rule's faults.
        earliest = min(case_index.first(breaking) for _, breaking in named)
        culprit = next(other for other, breaking in named if breaking >> earliest & 1)
        answers, result = classes[earliest]
        broken = sum(b.bit_count() for _, b in named)
        codes = set(result.codes)
        faults = [f"lacks {code}" for code in culprit.must_include if code not in codes]
        faults += [f"gets {code}" for code in culprit.must_exclude if code in codes]
        report.add(
            ERROR,
            "safety-rule",
            f"Safety rule {rule.name} is broken by {broken} class(es) of cases, "
            f"e.g. {json.dumps(answers, ensure_ascii=False, sort_keys=True)} (outcome {result.outcome}) "
            f"{', '.join(faults)}.",
            result.outcome,
        )


def _check_notes_asked(snapshot: engine.Snapshot, index: CaseIndex, report: Report) -> None:
    """A note's conditions test only variables asked on every complete walk where it can show.

    Otherwise a clinician whose walk never asked the variable would silently miss the note.
    """
    for note in snapshot.notes:
        if not note.conditions:
            continue
        # Where the note could show whatever its own conditions say (it reads only the codes then).
        bare = replace(note, conditions=())
        showing = 0
        for codes, members in index.by_codes():
            if bare.shows(codes, {}):
                showing |= members
        unasked = {}
        for condition in note.conditions:
            missed = showing & ~index.asked(condition.variable)
            if missed:
                unasked[condition.variable] = index.classes[case_index.first(missed)]
        for key, (answers, result) in sorted(unasked.items()):
            report.add(
                ERROR,
                "not-asked",
                f"The note {note.code} tests {key}, which is not asked on every walk where the note can "
                f"show, e.g. {json.dumps(answers, ensure_ascii=False, sort_keys=True)} "
                f"(outcome {result.outcome}).",
                result.outcome,
            )


def _check_test_cases(snapshot: engine.Snapshot, tests: Sequence[TestCase], report: Report) -> None:
    for test in tests:
        answers, errors = engine.validate_case(snapshot, test.case)
        if errors:
            detail = "; ".join(f"{key}: {message}" for key, message in errors.items())
            report.add(ERROR, "test-case", f"Test case {test.name} is not a valid case: {detail}")
            continue
        try:
            result = engine.evaluate(snapshot, answers)
        except engine.PathwayError as error:
            report.add(ERROR, "test-case", f"Test case {test.name} cannot be walked: {error}.")
            continue
        where = result.outcome or result.current
        if not result.complete:
            report.add(
                ERROR,
                "test-case",
                f"Test case {test.name} stops at {result.current}, missing {', '.join(result.missing)}.",
                where,
            )
            continue
        faults = []
        if test.expected_outcome and result.outcome != test.expected_outcome:
            faults.append(f"ends at {result.outcome}, not {test.expected_outcome}")
        codes = set(result.codes)
        faults += [f"lacks {code}" for code in test.must_include if code not in codes]
        faults += [f"gets {code}" for code in test.must_exclude if code in codes]
        if faults:
            report.add(ERROR, "test-case", f"Test case {test.name} fails: {', '.join(faults)}.", where)


# The FHIR export decides what the engine decides ----------------------------------------------


def _check_fhir(
    document: Mapping[str, Any],
    snapshot: engine.Snapshot,
    index: CaseIndex,
    report: Report,
    store: fhir_check.ParsedStore | None = None,
) -> None:
    """The exported PlanDefinition and Questionnaire, applied with FHIRPath to every class of case,
    select exactly the engine's recommendations and notes and enable exactly the questions it asks.

    Otherwise an electronic record using the export would advise differently from the pathway.
    """
    try:
        found = fhir_check.disagreements(
            snapshot, fhir_export.bundle(document), limit=1, index=index, store=store
        )
    except RecursionError:
        report.add(
            ERROR,
            "fhir-export-failed",
            "The export for electronic records (FHIR) could not be checked: when a question is asked "
            "depends on too many steps for the FHIRPath evaluator. Publishing is refused, since the "
            "export might advise differently from the pathway.",
        )
        return
    except Exception as error:  # whatever breaks the export must refuse the version
        report.add(
            ERROR,
            "fhir-export-failed",
            f"The pathway could not be exported for electronic records (FHIR): {type(error).__name__}.",
        )
        return
    for disagreement in found:
        result = engine.evaluate(snapshot, disagreement.answers)
        report.add(ERROR, "fhir-disagrees", fhir_message(snapshot, disagreement), result.outcome)


def _code_name(snapshot: engine.Snapshot, code: str) -> str:
    recommendation = snapshot.recommendations.get(code)
    if recommendation is not None:
        return f"the recommendation “{recommendation.title}”"
    note = next((note for note in snapshot.notes if note.code == code), None)
    if note is not None:
        text = " ".join(note.text.split())
        return f"the newer-guidance note “{text[:80]}{'…' if len(text) > 80 else ''}”"
    return f"“{code}”"


def _question_name(snapshot: engine.Snapshot, key: str) -> str:
    variable = snapshot.variables.get(key)
    return f"“{variable.label}”" if variable is not None else f"“{key}”"


def fhir_message(snapshot: engine.Snapshot, disagreement: fhir_check.Disagreement) -> str:
    """How the export and the pathway differ, in an editor's words (questions and titles)."""
    case = "; ".join(
        f"{variable.label}: {variable.display(disagreement.answers[key])}"
        for key, variable in snapshot.variables.items()
        if key in disagreement.answers
    )
    faults = [
        f"gives {_code_name(snapshot, code)}, which the pathway does not" for code in disagreement.added
    ]
    faults += [
        f"leaves out {_code_name(snapshot, code)}, which the pathway gives" for code in disagreement.lacking
    ]
    faults += [
        f"asks {_question_name(snapshot, key)}, which the pathway does not ask"
        for key in disagreement.enabled_too
    ]
    faults += [
        f"does not ask {_question_name(snapshot, key)}, which the pathway asks"
        for key in disagreement.not_enabled
    ]
    return (
        "The export for electronic records (FHIR) would advise differently from the pathway for a case "
        f"such as {case}: it {'; it '.join(faults)}. Publishing is refused until the two agree; report "
        "this to the pathway's maintainers, since the export is made from the pathway by the application."
    )
