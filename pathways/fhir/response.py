"""A walk's answers as a QuestionnaireResponse, and a QuestionnaireResponse read back as answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pathways import engine

from . import export

COMPLETED = "completed"
IN_PROGRESS = "in-progress"
STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")


def item(variable: engine.Variable, value: Any) -> dict[str, Any]:
    if variable.kind == engine.CHOICE:
        answer: dict[str, Any] = {"valueCoding": {"code": value, "display": variable.choice_label(value)}}
    elif variable.kind == engine.BOOLEAN:
        answer = {"valueBoolean": value}
    else:
        answer = {"valueDecimal": value}
    return {"linkId": variable.key, "text": variable.label, "answer": [answer]}


def questionnaire_response(
    snapshot: engine.Snapshot, answers: Mapping[str, Any], *, complete: bool, identifier: str = ""
) -> dict[str, Any]:
    """The QuestionnaireResponse of ``answers`` (in the Questionnaire's item order)."""
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": export.versioned("Questionnaire", snapshot),
        "status": COMPLETED if complete else IN_PROGRESS,
    }
    if identifier:
        response["id"] = identifier
    items = [item(variable, answers[key]) for key, variable in snapshot.variables.items() if key in answers]
    if items:
        response["item"] = items
    return response


def answers_from_response(
    snapshot: engine.Snapshot, response: Any
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The typed answers of a QuestionnaireResponse, or the problems by item (``linkId``).

    The resource is parsed with the R4B model first; then each item must be a variable of this
    pathway answered once with a value of its type, within its range.
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    from pydantic import ValidationError

    if not isinstance(response, dict):
        return None, {
            "QuestionnaireResponse": "The body must be a FHIR QuestionnaireResponse (a JSON object)."
        }
    if response.get("resourceType") != "QuestionnaireResponse":
        kind = engine.safe_text(str(response.get("resourceType", "")), 60)
        return None, {"resourceType": f"Expected a QuestionnaireResponse, not {kind!r}."}
    try:
        parsed = QuestionnaireResponse.model_validate(response)
    except (ValidationError, ValueError, TypeError) as error:
        where = "QuestionnaireResponse"
        if isinstance(error, ValidationError) and error.errors():
            where = ".".join(str(part) for part in error.errors()[0].get("loc", ())) or where
        return None, {engine.safe_text(where, 80): "This is not a valid R4B QuestionnaireResponse here."}
    if parsed.status not in STATUSES:
        return None, {"status": "The status must be one of: " + ", ".join(STATUSES) + "."}
    wanted = export.canonical("Questionnaire", snapshot.pathway)
    if parsed.questionnaire and str(parsed.questionnaire).split("|")[0] != wanted:
        return None, {"questionnaire": f"This pathway's Questionnaire is {wanted}."}
    case: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for entry in parsed.item or ():
        key = engine.safe_text(str(entry.linkId), 80)
        variable = snapshot.variables.get(key)
        if variable is None:
            errors[key] = "Unknown linkId: this pathway's Questionnaire has no such item."
            continue
        if key in case or key in errors:
            errors[key] = "This item appears more than once; answer each item once."
            continue
        if entry.item:
            errors[key] = "This item has no nested items."
            continue
        if not entry.answer or len(entry.answer) != 1:
            errors[key] = "Give exactly one answer."
            continue
        value, problem = _value(variable, entry.answer[0])
        if problem:
            errors[key] = problem
        else:
            case[key] = value
    if errors:
        return None, errors
    answers, errors = engine.validate_case(snapshot, case)
    if errors:
        return None, errors
    return answers, {}


def _value(variable: engine.Variable, answer: Any) -> tuple[Any, str | None]:
    if variable.kind == engine.CHOICE:
        coding = answer.valueCoding
        if coding is None or coding.code is None:
            return None, "Answer with a valueCoding whose code is one of the item's answerOptions."
        return str(coding.code), None
    if variable.kind == engine.BOOLEAN:
        if answer.valueBoolean is None:
            return None, "Answer with a valueBoolean."
        return bool(answer.valueBoolean), None
    number = answer.valueDecimal if answer.valueDecimal is not None else answer.valueInteger
    if number is None:
        return None, "Answer with a valueDecimal."
    number = float(number)
    return (int(number) if number.is_integer() and answer.valueInteger is not None else number), None
