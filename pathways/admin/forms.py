"""The admin's forms: edits checked against the revision they were rendered with and kept within
one version, and the publish and diff forms of the version pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection

from ..models import Edge, Node, PathwayVersion, Recommendation, Reference, SafetyRule, Variable

CONFLICT = (
    "Someone else saved this {name} after you opened it. Nothing of yours was saved: reload the page "
    "to see their changes, then make yours again."
)


class ConflictCheckedForm(forms.ModelForm):
    """Refuse to save an object that changed since the form was rendered (optimistic locking)."""

    edit_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edit_revision"].initial = self.instance.revision

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean() returns cleaned_data
        instance = self.instance
        if instance.pk is None:
            return cleaned
        rows = type(instance).objects.filter(pk=instance.pk)
        if connection.in_atomic_block:
            rows = rows.select_for_update()  # held until the admin's transaction ends
        current = rows.values_list("revision", flat=True).first()
        if current is not None and cleaned.get("edit_revision") != current:
            name = instance._meta.verbose_name
            raise ValidationError(CONFLICT.format(name=name), code="conflict")
        return cleaned


# Content that belongs to one version: a row may link only to rows of its own version.
VERSIONED = (Node, Variable, Reference, Edge, Recommendation, SafetyRule)

OTHER_VERSION = "{rows} of another version ({versions}): choose only {plural} of this version."


class SameVersionForm(ConflictCheckedForm):
    """Refuse a link to a row of another version: the version's own pages could not render it."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        version_id = self._version_id(cleaned)
        for name, field in self.fields.items():
            value = cleaned.get(name)
            if value is None or not isinstance(field, forms.ModelChoiceField):
                continue
            queryset = field.queryset
            if queryset is None or queryset.model not in VERSIONED:
                continue
            rows = list(value) if isinstance(field, forms.ModelMultipleChoiceField) else [value]
            rows = [row for row in rows if row is not None]
            if version_id is None and rows:
                version_id = rows[0].version_id
            strays = [row for row in rows if row.version_id != version_id]
            if strays:
                versions = PathwayVersion.objects.filter(pk__in={row.version_id for row in strays})
                message = OTHER_VERSION.format(
                    rows=", ".join(sorted(f"“{row}”" for row in strays)),
                    versions=", ".join(sorted(map(str, versions))),
                    plural=queryset.model._meta.verbose_name_plural,
                )
                self.add_error(name, ValidationError(message, code="other-version"))
        return cleaned

    def _version_id(self, cleaned: dict[str, Any]) -> int | None:
        """The version of the row: as chosen, as stored, or that of the row an inline belongs to."""
        if "version" in self.fields:
            version = cleaned.get("version")
            return version.pk if version is not None else None
        instance = self.instance
        if getattr(instance, "version_id", None) is not None:
            return instance.version_id
        for field in instance._meta.concrete_fields:
            chosen = isinstance(self.fields.get(field.name), forms.ModelChoiceField)
            if field.is_relation and field.related_model in VERSIONED and not chosen:
                # An inline's row: its formset's form cleans to it even before it is saved.
                parent = cleaned.get(field.name) or getattr(instance, field.name, None)
                if parent is not None:
                    return parent.version_id
        return None


class PublishForm(forms.Form):
    note = forms.CharField(
        label="Change note",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What changed and why, for the audit trail and the clinicians' version notes.",
    )


class DiffForm(forms.Form):
    against = forms.ModelChoiceField(queryset=PathwayVersion.objects.none(), label="Compare with")
