"""Step forms: one field per variable a node asks, named by the variable key.

Forms only validate and type the input; routing is the engine's. Parsing is strict: ASCII
decimals with a point or a decimal comma, optionally followed by the asked unit (no exponents, no
NaN/inf, no locale digits, no grouping commas), one value per key, only the fields of this step.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.utils.html import conditional_escape

from . import engine, fragments
from .messages import gettext as _
from .messages import translated

CONTROL_FIELDS = ("csrfmiddlewaretoken", "revision")


class TypedField(forms.Field):
    """A form field whose text is parsed and checked by the engine's variable definition."""

    def __init__(self, variable: engine.Variable, **kwargs: Any) -> None:
        self.variable = variable
        self.converted: str | None = None  # how the last value read was converted from another unit
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if not isinstance(value, str):
            raise forms.ValidationError(_("Send one value."))
        if "\x00" in value:
            raise forms.ValidationError(_("The value contains a forbidden character."))
        entry = self.variable.read(value)
        if entry.error:
            raise forms.ValidationError(translated(entry.error))
        self.converted = entry.converted
        return entry.value


def confirm_name(key: str) -> str:
    """The name of the box that confirms an implausible value of ``key``."""
    return f"confirm_{key}"


def build_field(variable: engine.Variable, *, required: bool) -> forms.Field:
    label = variable.label + (f" ({variable.unit})" if variable.unit else "")
    # Optional values share one explanation (the group's legend); each keeps only its range.
    help_text = "" if variable.optional else variable.help
    if variable.kind == engine.NUMBER:
        # A text field, not type="number": browsers drop a decimal comma from a number field ("1,5"
        # arrives as 15) and send "" for "abc", so the server could not say what was wrong. The
        # engine reads what was typed (decimal comma, the asked unit) or refuses it with a reason.
        attrs: dict[str, Any] = {
            "inputmode": "decimal",
            "autocomplete": "off",
            "spellcheck": "false",
            "maxlength": "24",
            "data-unit": variable.unit,
        }
        # The range, for scripts that fill the form (the load test); the server checks it.
        if variable.minimum is not None:
            attrs["data-min"] = engine.format_number(variable.minimum)
        if variable.maximum is not None:
            attrs["data-max"] = engine.format_number(variable.maximum)
        bounds = translated(variable.bounds_text())
        if bounds:
            help_text = f"{help_text} {_('Allowed:')} {bounds}.".strip()
        if variable.other_units:
            others = "; ".join(
                f"{other.unit} (1 {other.unit} = {engine.format_number(other.factor, grouped=True)} "
                f"{variable.unit})"
                for other in variable.other_units
            )
            help_text = f"{help_text} {_('Also accepted, converted:')} {others}.".strip()
        widget: forms.Widget = forms.TextInput(attrs=attrs)
    elif variable.kind == engine.BOOLEAN:
        widget = forms.RadioSelect(choices=[("true", _("Yes")), ("false", _("No"))])
    else:
        widget = forms.RadioSelect(choices=list(variable.choices))
    # crispy-bootstrap5 renders help text with |safe: it must only ever see escaped text.
    return TypedField(
        variable, label=label, help_text=conditional_escape(help_text), required=required, widget=widget
    )


def _fields(snapshot: engine.Snapshot, node: engine.Node) -> dict[str, forms.Field]:
    """The fields of ``node``'s form, built once per snapshot, node and language."""

    def build() -> dict[str, forms.Field]:
        variables = snapshot.variables
        return {key: build_field(variables[key], required=not variables[key].optional) for key in node.fields}

    fields: dict[str, forms.Field] = fragments.cached(snapshot, ("step-fields", node.slug), build)
    return fields


def _copy(obj: Any) -> Any:
    """``copy.copy(obj)`` for an object whose state is its ``__dict__`` (as Django's fields and
    widgets are), without ``copy``'s reduce protocol."""
    new = obj.__class__.__new__(obj.__class__)
    new.__dict__.update(obj.__dict__)
    return new


def clone_field(field: forms.Field) -> forms.Field:
    """``copy.deepcopy(field)``, as Django copies a form's declared fields for each form, done as
    ``Field.__deepcopy__``, ``Widget.__deepcopy__`` and ``ChoiceWidget.__deepcopy__`` do it; a
    field or widget that copies itself any other way goes through ``copy.deepcopy``."""
    widget = field.widget
    widget_copy = getattr(type(widget), "__deepcopy__", None)
    if getattr(type(field), "__deepcopy__", None) is not _FIELD_COPY or widget_copy not in _WIDGET_COPIES:
        return copy.deepcopy(field)
    result = _copy(field)
    result.widget = _copy(widget)
    result.widget.attrs = widget.attrs.copy()
    if widget_copy is forms.widgets.ChoiceWidget.__deepcopy__:
        choices = widget.choices  # type: ignore[attr-defined]
        if type(choices) is list and all(
            type(c) is tuple and len(c) == 2 and type(c[1]) is str for c in choices
        ):
            # Choices already normalized and flat: what normalize_choices(copy.copy(choices)) gives.
            result.widget._choices = list(choices)  # type: ignore[attr-defined]
        else:
            result.widget.choices = copy.copy(choices)  # type: ignore[attr-defined]
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    return result


_FIELD_COPY = forms.Field.__deepcopy__  # type: ignore[attr-defined]
_WIDGET_COPIES = (forms.Widget.__deepcopy__, forms.widgets.ChoiceWidget.__deepcopy__)
_REVISION = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class StepForm(forms.Form):
    """The form of one question node. ``data`` may be None (unbound, showing current answers)."""

    def __init__(
        self,
        snapshot: engine.Snapshot,
        node: engine.Node,
        *,
        answers: dict[str, Any],
        revision: int,
        data: Any = None,
    ) -> None:
        initial: dict[str, Any] = {"revision": revision}
        for key in node.fields:
            if key in answers:
                value = answers[key]
                if isinstance(value, bool):
                    value = "true" if value else "false"
                initial[key] = value
        # Django's own ":" (through the remembered catalogue lookup).
        super().__init__(data=data, initial=initial, label_suffix=_(":"))
        self.node = node
        self.snapshot = snapshot
        # As Django copies a form's declared fields: each form gets its own (the revision first,
        # as a declared field would be).
        self.fields["revision"] = clone_field(_REVISION)
        for key, field in _fields(snapshot, node).items():
            self.fields[key] = clone_field(field)
        self.optional_keys = [k for k in node.fields if snapshot.variables[k].optional]

    @cached_property
    def helper(self) -> FormHelper:
        """How crispy lays the form out: built when it is first rendered (a valid answer never is)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        optional = self.optional_keys
        parts: list[Any] = [Field(key) for key in self.node.fields if key not in optional]
        if optional:
            parts.append(
                Fieldset(
                    _(
                        "Laboratory values, if available "
                        "(optional: recorded with the result, never used to route)"
                    ),
                    Div(
                        *[Field(key, wrapper_class="col-sm-6") for key in optional],
                        css_class="row",
                    ),
                    css_class="optional-fields mt-3",
                )
            )
        parts.append("revision")
        parts.append(
            Div(
                StrictButton(_("Continue"), type="submit", css_class="btn btn-primary btn-lg"),
                css_class="mt-3",
            )
        )
        helper.layout = Layout(*parts)
        return helper

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.data is None:
            return cleaned
        allowed = set(self.node.fields) | set(CONTROL_FIELDS) | set(self._confirmations())
        unexpected = sorted(key for key in self.data if key not in allowed)
        if unexpected:
            shown = ", ".join(key[:40] for key in unexpected[:5])
            raise forms.ValidationError(
                _("This step does not ask for: %(keys)s. Nothing was changed.") % {"keys": shown}
            )
        for key in self.node.fields:
            if hasattr(self.data, "getlist") and len(self.data.getlist(key)) > 1:
                self.add_error(key, _("Send one value for this question, not several."))
        self._confirm_implausible()
        return cleaned

    def _confirmations(self) -> dict[str, str]:
        """The confirmation box of each number this step asks, by its field name."""
        return {
            confirm_name(key): key
            for key in self.node.fields
            if self.snapshot.variables[key].kind == engine.NUMBER
        }

    def _confirm_implausible(self) -> None:
        """A valid number far beyond the pathway's thresholds routes only once it is confirmed.

        The box confirms the very value it was shown for: a different number asks again.
        """
        for name, key in self._confirmations().items():
            value = self.cleaned_data.get(key)
            if value is None or key in self.errors:
                continue
            reason = engine.implausible(self.snapshot, key, value)
            if reason is None:
                continue
            shown = engine.format_number(value)
            if self.data.get(name) == shown:
                continue
            variable = self.snapshot.variables[key]
            self.fields[name] = forms.CharField(
                required=False,
                label=_("Yes, %(value)s is right") % {"value": variable.display(value)},
                widget=forms.CheckboxInput(attrs={"value": shown, "data-confirm": key}),
            )
            self.helper.layout.insert(self._position(key) + 1, Field(name))
            self.add_error(key, translated(reason))

    def _position(self, key: str) -> int:
        for index, part in enumerate(self.helper.layout.fields):
            if isinstance(part, Field) and key in part.fields:
                return index
        return len(self.helper.layout.fields) - 2  # an optional value: before "revision"

    def conversions(self) -> list[str]:
        """What each value entered in another unit was recorded as, in the step's order."""
        said = []
        for key in self.node.fields:
            field = self.fields[key]
            if isinstance(field, TypedField) and field.converted and self.cleaned_data.get(key) is not None:
                said.append(f"{field.variable.label}: {translated(field.converted)}")
        return said

    def answers(self) -> tuple[dict[str, Any], list[str]]:
        """The typed answers of this step, and the optional keys left blank (to forget)."""
        given = {
            key: self.cleaned_data[key] for key in self.node.fields if self.cleaned_data.get(key) is not None
        }
        blank = [key for key in self.optional_keys if key not in given]
        return given, blank
