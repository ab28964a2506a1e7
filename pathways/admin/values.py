"""Values typed as their variable's kind: Yes/No, the answers by their labels, a number with its unit.

An editor never types JSON: a condition's value, a test case's answers and the recommendation codes
of a safety rule, test case or note are chosen or typed with the control that fits them, and stored
exactly as before (``True``, ``"nonfunctioning"``, ``["a", "b"]``, ``2.0``), so content hashes
and the publish gate see the same rows. ``static/pathways/values.js`` swaps the value control when
another variable or operator is chosen; without it the form still checks the value on the server
and shows the control of the variable chosen, with a message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import engine
from ..models import Recommendation, Variable
from .forms import SameVersionForm

# The operators that fit each kind of variable, in the order an editor reads them.
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    engine.NUMBER: ("gt", "ge", "lt", "le", "eq", "ne"),
    engine.CHOICE: ("eq", "ne", "in", "not_in"),
    engine.BOOLEAN: ("eq", "ne"),
}
OPERATOR_WORDS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "gt": "over (>)",
    "ge": "at least (≥)",
    "lt": "under (<)",
    "le": "at most (≤)",
}
YES_NO = (("true", "Yes"), ("false", "No"))


def as_engine_variable(row: Variable) -> engine.Variable:
    return row.as_engine()


def number_text(value: Any) -> str:
    """A stored number as typed back: ``2.0`` stays "2.0" and ``20`` "20", so it saves unchanged."""
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.12f}".rstrip("0")
        return text
    return str(value)


def value_texts(value: Any) -> list[str]:
    """The strings a browser posts for a stored value (one, or one per item of a list)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [text for item in value for text in value_texts(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return [number_text(value)]
    return [str(value)]


def parse_number(variable: engine.Variable, text: str) -> float | int:
    """A typed number (decimal comma and the variable's unit allowed), as the engine reads answers.

    One of the variable's other units is refused, not converted: a conversion is rounded, and a
    rule's boundary or a test case's answer must be what the editor typed.
    """
    entry = variable.read(text)
    number, problem = entry.value, entry.error
    if entry.converted is not None:
        raise ValidationError(
            f"Type it in {variable.unit}, the unit {variable.label} is kept in: {entry.converted}",
            code="other-unit",
        )
    if number is None or isinstance(number, bool) or not isinstance(number, int | float):
        raise ValidationError(problem or "Enter a number.", code="number")
    if not math.isfinite(number):
        raise ValidationError("Enter a finite number.", code="number")
    return number


def typed_value(variable: engine.Variable, op: str, texts: Sequence[str]) -> Any:
    """The value to store for ``variable`` ``op`` ``texts``, or a ValidationError an editor can act on."""
    texts = [text.strip() for text in texts if text.strip()]
    fitting = OPERATORS_BY_KIND.get(variable.kind, ())
    if op not in fitting:
        words = ", ".join(f"“{OPERATOR_WORDS[name]}”" for name in fitting)
        raise ValidationError(
            f"“{OPERATOR_WORDS.get(op, op)}” does not fit {variable.label}: choose {words}.", code="operator"
        )
    if op in engine.SET_OPERATORS:
        if not texts:
            raise ValidationError(f"Tick at least one answer of {variable.label}.", code="required")
        return [_one_value(variable, text) for text in texts]
    if not texts:
        raise ValidationError(f"{_what_to_enter(variable)}.", code="required")
    if len(texts) > 1:
        raise ValidationError(f"Choose one answer of {variable.label} for “{OPERATOR_WORDS[op]}”.")
    return _one_value(variable, texts[0])


def _what_to_enter(variable: engine.Variable) -> str:
    if variable.kind == engine.BOOLEAN:
        return f"Choose Yes or No for {variable.label}"
    if variable.kind == engine.CHOICE:
        return f"Choose an answer of {variable.label}"
    unit = f" in {variable.unit}" if variable.unit else ""
    return f"Enter a number{unit} for {variable.label}"


def _one_value(variable: engine.Variable, text: str) -> Any:
    if variable.kind == engine.BOOLEAN:
        if text not in ("true", "false"):
            raise ValidationError(f"{_what_to_enter(variable)}.", code="boolean")
        return text == "true"
    if variable.kind == engine.CHOICE:
        if text not in variable.choice_values:
            labels = ", ".join(label for _, label in variable.choices)
            raise ValidationError(
                f"{variable.label} has no answer “{engine.safe_text(text, 40)}”: choose one of {labels}.",
                code="choice",
            )
        return text
    return parse_number(variable, text)


# The value control ---------------------------------------------------------------------------------


def catalog(variables: Iterable[Variable]) -> str:
    """What the page's script needs to draw each variable's control, as JSON for a data attribute."""
    return json.dumps(
        {
            str(row.pk): {
                "kind": row.kind,
                "label": row.label,
                "unit": row.unit,
                "choices": [[str(value), str(label)] for value, label in (row.choices or ())],
            }
            for row in variables
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class ValueWidget(forms.Widget):
    """The value's control, drawn for the variable and operator the form shows."""

    variable: engine.Variable | None = None
    op: str = ""
    catalog_json: str = "{}"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getlist = getattr(data, "getlist", None)
        if getlist is not None:
            return [str(item) for item in getlist(name)]
        value = data.get(name)
        return value_texts(value) if not isinstance(value, str) else [value]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        texts = value if isinstance(value, list) else value_texts(value)
        field_id = (attrs or {}).get("id", f"id_{name}")
        inner = draw_control(self.variable, self.op, name, field_id, texts)
        return format_html(
            '<span class="pathway-value" data-value-control data-name="{}" data-id="{}" data-variables="{}">'
            "{}</span>",
            name,
            field_id,
            self.catalog_json,
            inner,
        )


def draw_control(
    variable: engine.Variable | None, op: str, name: str, field_id: str, texts: Sequence[str]
) -> SafeString:
    """The control alone (the script draws the same markup in the browser)."""
    if variable is None:
        return format_html(
            '<input type="text" name="{}" id="{}" value="{}" class="vTextField" '
            'aria-describedby="{}_hint"><span class="help" id="{}_hint">Choose the question first.</span>',
            name,
            field_id,
            texts[0] if texts else "",
            field_id,
            field_id,
        )
    if variable.kind == engine.BOOLEAN:
        return _choices(name, field_id, YES_NO, texts, "radio")
    if variable.kind == engine.CHOICE:
        if op in engine.SET_OPERATORS:
            return _choices(name, field_id, variable.choices, texts, "checkbox")
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (value, SafeString(" selected") if value in texts else "", label)
                for value, label in variable.choices
            ),
        )
        return format_html(
            '<select name="{}" id="{}"><option value="">Choose…</option>{}</select>', name, field_id, options
        )
    unit = format_html(' <span class="pathway-unit">{}</span>', variable.unit) if variable.unit else ""
    return format_html(
        '<input type="text" inputmode="decimal" name="{}" id="{}" value="{}" size="8" '
        'class="pathway-number" aria-label="{}">{}',
        name,
        field_id,
        texts[0] if texts else "",
        f"{variable.label} in {variable.unit}" if variable.unit else variable.label,
        unit,
    )


def _choices(
    name: str, field_id: str, options: Iterable[tuple[str, str]], texts: Sequence[str], kind: str
) -> SafeString:
    return format_html(
        '<span class="pathway-choices" role="group">{}</span>',
        format_html_join(
            "",
            '<label><input type="{}" name="{}" id="{}_{}" value="{}"{}> {}</label>',
            (
                (kind, name, field_id, index, value, SafeString(" checked") if value in texts else "", label)
                for index, (value, label) in enumerate(options)
            ),
        ),
    )


class OperatorSelect(forms.Select):
    """The operators, each marked with the kinds it fits; those that do not fit are hidden."""

    kind: str = ""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        kinds = [kind for kind, ops in OPERATORS_BY_KIND.items() if value in ops]
        option["attrs"]["data-kinds"] = " ".join(kinds)
        if self.kind and value and self.kind not in kinds and not option["selected"]:
            option["attrs"]["hidden"] = True
        return option


class ValueField(forms.Field):
    widget = ValueWidget

    def to_python(self, value: Any) -> list[str]:
        return [str(item) for item in value] if isinstance(value, list) else value_texts(value)

    def prepare_value(self, value: Any) -> list[str]:
        return (
            value
            if isinstance(value, list) and all(isinstance(v, str) for v in value)
            else value_texts(value)
        )

    def has_changed(self, initial: Any, data: Any) -> bool:
        return value_texts(initial) != self.to_python(data)


class ConditionForm(SameVersionForm):
    """A condition: the question (variable), how it is compared, and the value in the question's terms."""

    value = ValueField(required=False, label="Value")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        variable_field = self.fields.get("variable")
        rows: list[Variable] = []
        if isinstance(variable_field, forms.ModelChoiceField) and variable_field.queryset is not None:
            rows = list(variable_field.queryset)
        self._variables = {row.pk: row for row in rows}
        if variable_field is not None:
            variable_field.label = "Question"
        op_field = self.fields["op"]
        assert isinstance(op_field, forms.ChoiceField)
        op_field.label = "Comparison"
        op_field.choices = [
            ("", "---------"),
            *((value, OPERATOR_WORDS[value]) for value in engine.OPERATORS),
        ]
        chosen = self._chosen_variable()
        widget = self.fields["value"].widget
        assert isinstance(widget, ValueWidget)
        widget.variable = as_engine_variable(chosen) if chosen is not None else None
        widget.op = str(self["op"].value() or "")
        widget.catalog_json = catalog(rows)
        operator_widget = OperatorSelect(choices=op_field.choices)
        operator_widget.kind = chosen.kind if chosen is not None else ""
        op_field.widget = operator_widget
        op_field.widget.attrs["data-operator"] = ""

    def _chosen_variable(self) -> Variable | None:
        raw = self["variable"].value()
        try:
            key = int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None
        return self._variables.get(key) if key is not None else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        variable, op = cleaned.get("variable"), cleaned.get("op")
        if isinstance(variable, Variable) and op:
            try:
                cleaned["value"] = typed_value(as_engine_variable(variable), op, cleaned.get("value") or [])
            except ValidationError as error:
                self.add_error("value" if error.code != "operator" else "op", error)
        elif "value" in cleaned:
            cleaned["value"] = None
        return cleaned


# Recommendation codes as a list to tick ----------------------------------------------------------


class CodeListField(forms.MultipleChoiceField):
    """Recommendation codes chosen from the version's, named with their titles; stored as a list."""

    widget = forms.SelectMultiple(attrs={"size": 8, "class": "pathway-codes"})

    def __init__(self, *, initial_codes: Sequence[str], options: Sequence[tuple[str, str]], **kwargs: Any):
        known = {code for code, _ in options}
        stray = [(code, f"{code} (not in this version)") for code in initial_codes if code not in known]
        super().__init__(choices=[*options, *stray], required=False, **kwargs)
        self.options = [*options, *stray]
        self.initial_codes = list(initial_codes)

    def clean(self, value: Any) -> list[str]:
        chosen = super().clean(value)
        # Unchanged codes keep their stored order; new ones follow in the version's order.
        kept = [code for code in self.initial_codes if code in chosen]
        order = [code for code, _ in self.options]
        added = sorted((code for code in chosen if code not in kept), key=order.index)
        return [*kept, *added]


def code_options(version_id: int | None) -> list[tuple[str, str]]:
    rows = Recommendation.objects.filter(version_id=version_id).order_by("order", "code")
    return [(code, f"{title} ({code})") for code, title in rows.values_list("code", "title")]


def replace_code_lists(form: forms.BaseForm, names: Sequence[str], version_id: int | None) -> None:
    """Turn the JSON lists of codes ``names`` of ``form`` into lists to choose from."""
    present = [name for name in names if name in form.fields]
    if not present:
        return
    options = code_options(version_id)
    for name in present:
        old = form.fields[name]
        initial = form.initial.get(name) or []
        form.fields[name] = CodeListField(
            initial_codes=[str(code) for code in initial] if isinstance(initial, list) else [],
            options=options,
            label=old.label,
            help_text="Choose the recommendations (Ctrl or ⌘ to choose several).",
        )


# A test case's answers, one control per question -------------------------------------------------


class CaseWidget(forms.Widget):
    """One control per variable of the version, posted as ``<name>-<key>``; blank: not answered."""

    variables: Sequence[Variable] = ()

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, str]:
        return {row.key: str(data.get(f"{name}-{row.key}", "")) for row in self.variables}

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(f"{name}-{row.key}" in data for row in self.variables)

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        given = value if isinstance(value, dict) else {}
        rows = []
        for row in self.variables:
            variable = as_engine_variable(row)
            texts = value_texts(given.get(row.key))
            field_id = f"id_{name}-{row.key}"
            if row.kind == engine.BOOLEAN:
                control = _choices(
                    f"{name}-{row.key}", field_id, (("", "Not answered"), *YES_NO), texts or [""], "radio"
                )
            elif row.kind == engine.CHOICE:
                control = draw_control(variable, "eq", f"{name}-{row.key}", field_id, texts)
            else:
                control = draw_control(variable, "eq", f"{name}-{row.key}", field_id, texts)
            rows.append((field_id, row.label, control))
        return format_html(
            '<div class="pathway-case">{}</div>',
            format_html_join("", '<div class="pathway-case-row"><label for="{}">{}</label> {}</div>', rows),
        )


class CaseField(forms.Field):
    """A test case's answers, stored as before: unchanged answers keep their stored value and order."""

    widget = CaseWidget

    def __init__(self, *, variables: Sequence[Variable], stored: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.variables = list(variables)
        self.stored = dict(stored)
        assert isinstance(self.widget, CaseWidget)
        self.widget.variables = self.variables

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: item if isinstance(item, str) else (value_texts(item) or [""])[0]
                for key, item in value.items()
            }
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.clean(data) != (initial or {})
        except ValidationError:
            return True

    def clean(self, value: Any) -> dict[str, Any]:
        given = value if isinstance(value, dict) else {}
        values: dict[str, Any] = {}
        errors: list[ValidationError] = []
        for row in self.variables:
            text = str(given.get(row.key) or "").strip()
            if not text:
                continue
            if row.key in self.stored and value_texts(self.stored[row.key]) == [text]:
                values[row.key] = self.stored[row.key]
                continue
            variable = as_engine_variable(row)
            try:
                item = _one_value(variable, text)
                problem = variable.check(item)
                if problem:
                    raise ValidationError(problem)
            except ValidationError as error:
                errors += [ValidationError(f"{row.label}: {message}") for message in error.messages]
                continue
            values[row.key] = item
        if errors:
            raise ValidationError(errors)
        known = {row.key for row in self.variables}
        ordered = {key: values[key] for key in self.stored if key in values}
        ordered.update((key, item) for key, item in values.items() if key not in ordered)
        # An answer to a variable the version no longer has is kept: the gate names it.
        ordered.update((key, item) for key, item in self.stored.items() if key not in known)
        return ordered


class CodesAndCaseForm(SameVersionForm):
    """A safety rule, test case or newer-guidance note: codes chosen by title, answers by question."""

    code_lists: tuple[str, ...] = ("must_include", "must_exclude", "when_codes", "unless_codes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version_id = self._editing_version_id()
        replace_code_lists(self, self.code_lists, version_id)
        if "case" in self.fields and version_id is not None:
            stored = self.initial.get("case") or {}
            old = self.fields["case"]
            self.fields["case"] = CaseField(
                variables=list(Variable.objects.filter(version_id=version_id)),
                stored=stored if isinstance(stored, dict) else {},
                label="Answers",
                help_text="Leave a question blank when the case does not answer it.",
                initial=old.initial,
            )

    def _editing_version_id(self) -> int | None:
        if getattr(self.instance, "version_id", None) is not None:
            return int(self.instance.version_id)
        chosen = self.initial.get("version")
        if self.is_bound and "version" in self.fields:
            chosen = self.data.get(self.add_prefix("version")) or chosen
        chosen = getattr(chosen, "pk", chosen)
        if chosen in (None, ""):
            return None
        try:
            return int(str(chosen))
        except (TypeError, ValueError):
            return None


# A choice question's answers, one a line ---------------------------------------------------------

CHOICE_LINE = " = "


class LinesField(forms.CharField):
    """A list edited as text, one item a line: changed only when the list it reads differs."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial or [])
        except ValidationError:
            return True


class ChoiceLinesField(LinesField):
    """A choice variable's answers as lines "value = label", stored as ``[[value, label], ...]``."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 70})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(f"{pair[0]}{CHOICE_LINE}{pair[1]}" for pair in value if len(pair) == 2)
        return value

    def to_python(self, value: Any) -> list[list[str]]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        pairs = []
        for number, line in enumerate(str(value or "").splitlines(), start=1):
            if not line.strip():
                continue
            stored, sep, label = line.partition(CHOICE_LINE.strip())
            if not sep or not stored.strip() or not label.strip():
                raise ValidationError(
                    f"Line {number}: write the stored value, “=”, then the label "
                    "(e.g. “localized = Localized”).",
                    code="choice-line",
                )
            pairs.append([stored.strip(), label.strip()])
        return pairs


# A number's other units, one a line ----------------------------------------------------------------

UNIT_LINE = "="
BASIS_LINE = ";"


class OtherUnitLinesField(LinesField):
    """A number's other units as lines "unit = factor; basis", stored as a list of objects."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 70})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(
                f"{item['unit']} {UNIT_LINE} {engine.format_number(item['factor'])}"
                + (f"{BASIS_LINE} {item['basis']}" if item.get("basis") else "")
                for item in value
                if isinstance(item, dict) and {"unit", "factor"} <= item.keys()
            )
        return value

    def to_python(self, value: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        units = []
        for number, line in enumerate(str(value or "").splitlines(), start=1):
            if not line.strip():
                continue
            unit, sep, rest = line.partition(UNIT_LINE)
            factor_text, _, basis = rest.partition(BASIS_LINE)
            factor = _factor(factor_text)
            if not sep or not unit.strip() or factor is None:
                raise ValidationError(
                    f"Line {number}: write the unit, “=”, how many of the question's unit make one of "
                    "it, “;” and where that comes from (e.g. “mmol/L = 18.016; molar mass of glucose "
                    "180.16 g/mol”).",
                    code="unit-line",
                )
            units.append({"unit": unit.strip(), "factor": factor, "basis": basis.strip()})
        return units


def _factor(text: str) -> float | int | None:
    """A conversion factor as typed (a decimal point or comma), if it is a positive number."""
    number, problem = engine.Variable(
        "factor", "factor", engine.NUMBER, minimum=0, minimum_inclusive=False
    ).parse_text(text)
    return number if problem is None and isinstance(number, (int, float)) else None


class VariableForm(SameVersionForm):
    """A variable: its answers, when it is a choice, as one line each instead of JSON, and so are
    the other units a number may be entered in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "other_units" in self.fields:
            self.fields["other_units"] = OtherUnitLinesField(
                required=False,
                label="Also accepted in",
                help_text="Only for a number with a unit. One unit a line: the unit, “=”, how many of "
                "the question's unit make one of it, “;” and where that factor comes from, e.g. "
                "“mmol/L = 18.016; molar mass of glucose 180.16 g/mol”. A value typed in such a unit "
                "is converted, and clinicians are told so.",
            )
        if "choices" in self.fields:
            self.fields["choices"] = ChoiceLinesField(
                required=False,
                label="Answers",
                help_text="One answer a line: the stored value (lower case, digits, _), “=”, the label "
                "clinicians see. Only for a choice question.",
            )
