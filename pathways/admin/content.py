"""The admins and inlines of a version's content: editable only in a draft, linking only within it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from simple_history.admin import SimpleHistoryAdmin

from .. import engine
from ..diff import describe_conditions
from ..models import (
    Edge,
    EdgeCondition,
    GuidanceNoteCondition,
    ImmutableVersionError,
    Node,
    NodeField,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    SafetyRuleCondition,
    Variable,
)
from .forms import VERSIONED, SameVersionForm
from .permissions import InlineLockedUnlessDraft, LockedUnlessDraft, version_of
from .values import ChoiceLinesField, CodesAndCaseForm, ConditionForm, OtherUnitLinesField, VariableForm
from .wording import conditions_words, rule_sentence, variables_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


def _editing_version(request: HttpRequest, parent: Any) -> PathwayVersion | None:
    """The version a page edits: that of the object opened, or the draft named in ``?version=``."""
    version = version_of(parent)
    if version is None and request.GET.get("version", "").isdigit():
        version = PathwayVersion.objects.filter(
            pk=request.GET["version"], status=PathwayVersion.Status.DRAFT
        ).first()
    return version


def _same_version_rows(model: type[models.Model], version: PathwayVersion | None) -> Any:
    """The rows a link may point to: those of the version the page edits, else of any draft."""
    if version is not None:
        return model._default_manager.filter(version=version).select_related("version__pathway")
    return model._default_manager.filter(version__status=PathwayVersion.Status.DRAFT).select_related(
        "version__pathway"
    )


# How a linked row is offered in a select: as an editor knows it.
CLINICAL_NAMES: dict[Any, Any] = {Node: lambda node: node.title, Variable: lambda variable: variable.label}


class SameVersionChoices:
    """Offer in each link only rows of the version being edited.

    That version comes from the object the form or formset is built for (the row opened, or the
    row an inline belongs to), passed along with each field to ``formfield_for_dbfield``.
    """

    def formfield_for_dbfield(
        self, db_field: Any, request: HttpRequest, editing: PathwayVersion | None = None, **kwargs: Any
    ) -> Any:
        related = db_field.remote_field.model if db_field.is_relation else None
        if related is PathwayVersion:
            kwargs.setdefault("queryset", PathwayVersion.objects.filter(status=PathwayVersion.Status.DRAFT))
        elif related in VERSIONED:
            kwargs.setdefault("queryset", _same_version_rows(related, editing))
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        named = CLINICAL_NAMES.get(related) if related is not None else None
        if named is not None and hasattr(field, "label_from_instance"):
            field.label_from_instance = named  # steps by title, questions by label: no slugs
        return field

    def _fields_for(self, request: HttpRequest, parent: Any) -> Any:
        editing = _editing_version(request, parent)
        return partial(self.formfield_for_dbfield, request=request, editing=editing)


class DraftOnlyAdmin(SameVersionChoices, LockedUnlessDraft, SimpleHistoryAdmin):
    """A content admin: changes only while the object's version is a draft; history per object."""

    form = SameVersionForm
    formfield_overrides = URL_FIELDS
    list_select_related: tuple[str, ...] = ("version__pathway",)

    class Media:
        css = {"all": ("pathways/authoring.css",)}

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs.setdefault("formfield_callback", self._fields_for(request, obj))
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A row stays in the version it was made in: moving it would strand the rows linked to it.
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and "version" in (f.name for f in self.model._meta.fields):
            readonly = (*readonly, "version")
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            super().save_model(request, obj, form, change)
        except ImmutableVersionError as error:
            raise PermissionDenied(str(error)) from error


class DraftOnlyInline(SameVersionChoices, InlineLockedUnlessDraft, admin.TabularInline):
    """An inline that is read-only when its parent belongs to a published or retired version."""

    form = SameVersionForm
    formfield_overrides = URL_FIELDS
    extra = 0

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("formfield_callback", self._fields_for(request, obj))
        return super().get_formset(request, obj, **kwargs)


class VersionFilter(admin.RelatedFieldListFilter):
    """The versions to filter by, read with their pathways in one query (the label names both)."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: Any
    ) -> list[tuple[Any, StrOrPromise]]:
        return [(version.pk, str(version)) for version in PathwayVersion.objects.select_related("pathway")]


class VersionStatusFilter(admin.SimpleListFilter):
    title = "version status"
    parameter_name = "version_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return list(PathwayVersion.Status.choices)

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in PathwayVersion.Status.values:
            path = getattr(queryset.model, "version_path", "version")
            return queryset.filter(**{f"{path}__status": self.value()})
        return queryset


class VariableAdmin(DraftOnlyAdmin):
    form = VariableForm
    list_display = ("key", "label", "kind", "unit", "optional", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter), "kind", "optional")
    search_fields = ("key", "label")
    # Read only (a published version), the answers and other units read as the form writes them.
    shown_as_lines = {"choices": "answers", "other_units": "also_accepted_in"}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        if self._read_only(request, obj):
            fields = list(dict.fromkeys(self.shown_as_lines.get(name, name) for name in fields))
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if self._read_only(request, obj):
            readonly = (*readonly, *self.shown_as_lines.values())
        return readonly

    def _read_only(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    @admin.display(description="Answers")
    def answers(self, obj: Variable) -> SafeString:
        return _lines(ChoiceLinesField().prepare_value(list(obj.choices or ())))

    @admin.display(description="Also accepted in")
    def also_accepted_in(self, obj: Variable) -> SafeString:
        return _lines(OtherUnitLinesField().prepare_value(list(obj.other_units or ())))

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # Autocomplete (variables of edge and node inlines) offers only variables of draft versions.
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(version__status=PathwayVersion.Status.DRAFT)
        return super().get_search_results(request, queryset, search_term)


def _lines(text: str) -> SafeString:
    """Lines of text (escaped), one under the other, or a dash when there are none."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return format_html("{}", "–")
    return format_html_join(SafeString("<br>"), "{}", ((line,) for line in lines))  # a tag of the code


class NodeFieldInline(DraftOnlyInline):
    model = NodeField
    verbose_name = "question asked"
    verbose_name_plural = "Questions asked at this step"
    fields = ("order", "variable", "edit_revision")


class OutEdgeInline(DraftOnlyInline):
    model = Edge
    verbose_name = "rule"
    verbose_name_plural = "Rules: which step follows (open a rule to change its conditions)"
    fk_name = "source"
    fields = ("order", "target", "conditions_text", "note", "edit_revision")
    readonly_fields = ("conditions_text",)
    show_change_link = True

    @admin.display(description="Taken when")
    def conditions_text(self, obj: Edge) -> str:
        if obj.pk is None:
            return "Save, then open the edge to add its conditions."
        return conditions_words(obj.conditions.select_related("variable"))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # New edges start in the node's version.
            formset.form.base_fields["target"].queryset = Node.objects.filter(version=obj.version)
        return formset


class NodeAdmin(DraftOnlyAdmin):
    list_display = ("title", "kind", "stage", "is_start", "slug", "version")
    list_display_links = ("title",)
    list_filter = (VersionStatusFilter, ("version", VersionFilter), "kind", "stage", "is_start")
    search_fields = ("slug", "title", "body")
    inlines = [NodeFieldInline, OutEdgeInline]
    readonly_fields = ("rules_here", "recommendations_here")

    @admin.display(description="Rules (which step follows)")
    def rules_here(self, obj: Node) -> SafeString:
        """Each way out of the step as a sentence, linked to its page (first that holds is taken)."""
        if obj.pk is None:
            return SafeString("")
        edges = obj.out_edges.select_related("target").prefetch_related("conditions").order_by("order")
        variables = variables_of(obj.version_id)
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a></li>',
            ((change_url_of(e), rule_sentence(e, variables)) for e in edges),
        )
        return format_html('<ol class="pathway-rules">{}</ol>', rows) if edges else SafeString("none")

    @admin.display(description="Recommendations given here")
    def recommendations_here(self, obj: Node) -> SafeString:
        """Each with its conditions; placing one here is done on the recommendation's page."""
        if obj.pk is None:
            return SafeString("")
        recs = obj.recommendations.prefetch_related("conditions__variable").order_by("order")
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> <code>{}</code> <em>({})</em></li>',
            (
                (change_url_of(rec), rec.title, rec.code, describe_rows(rec.conditions.all(), obj.version_id))
                for rec in recs
            ),
        )
        return format_html('<ul class="pathway-node-recs">{}</ul>', rows) if recs else SafeString("none")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Edge:
            for inline_form in formset.forms:
                if inline_form.instance.pk is None and inline_form.has_changed():
                    inline_form.instance.version = form.instance.version
        super().save_formset(request, form, formset, change)


def describe_rows(rows: Any, version_id: int) -> str:
    variables = {v.key: v for v in _engine_variables(version_id)}
    items = [{"variable": row.variable.key, "op": row.op, "value": row.value} for row in rows]
    return describe_conditions(items, variables)


def _engine_variables(version_id: int) -> list[engine.Variable]:
    return [v.as_engine() for v in Variable.objects.filter(version_id=version_id)]


class ConditionInline(DraftOnlyInline):
    """Conditions with the value's control fitted to the question chosen (no JSON to type)."""

    form = ConditionForm
    verbose_name = "condition"
    verbose_name_plural = "Conditions (all must hold)"
    fields = ("variable", "op", "value", "edit_revision")

    class Media:
        js = ("pathways/values.js",)


class EdgeConditionInline(ConditionInline):
    model = EdgeCondition
    fields = ("variable", "op", "value", "edit_revision")


class EdgeAdmin(DraftOnlyAdmin):
    """The rules: a way out of a question, taken when all its conditions hold."""

    list_display = ("rule", "source_title", "order", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter), "source__stage")
    search_fields = (
        "source__title",
        "target__title",
        "target__recommendations__title",
        "target__recommendations__code",
        "conditions__variable__label",
        "source__slug",
        "target__slug",
        "note",
    )
    list_select_related = ("version__pathway", "source", "target")
    inlines = [EdgeConditionInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("conditions__variable")

    @admin.display(description="Rule")
    def rule(self, obj: Edge) -> str:
        return rule_sentence(obj)

    @admin.display(description="From the step", ordering="source__title")
    def source_title(self, obj: Edge) -> str:
        return obj.source.title

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = context.get("original")
        if obj is not None and obj.pk is not None:
            context["subtitle"] = f"Rule {obj.order} of this step: the first rule that holds is taken"
            context["title"] = (
                f"Rule after “{obj.source.title}”: {rule_sentence(obj, variables_of(obj.version_id))}"
            )
        return super().render_change_form(request, context, *args, **kwargs)


class RecommendationConditionInline(ConditionInline):
    model = RecommendationCondition
    fields = ("variable", "op", "value", "edit_revision")


class RecommendationAdmin(DraftOnlyAdmin):
    list_display = ("title", "section", "code", "version")
    list_display_links = ("title",)
    list_filter = (VersionStatusFilter, ("version", VersionFilter), "section")
    search_fields = ("code", "title", "text", "nodes__title")
    filter_horizontal = ("nodes", "citations")
    inlines = [RecommendationConditionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A published code is part of the contract (the API, integrators): it never changes.
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and code_was_published(obj):
            readonly = (*readonly, "code")
        return readonly


class ReferenceAdmin(DraftOnlyAdmin):
    list_display = ("label", "citation", "url", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter))
    search_fields = ("citation", "url")


class SafetyRuleConditionInline(ConditionInline):
    model = SafetyRuleCondition
    fields = ("variable", "op", "value", "edit_revision")


class SafetyRuleAdmin(DraftOnlyAdmin):
    form = CodesAndCaseForm
    list_display = ("name", "description", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter))
    search_fields = ("name", "description")
    inlines = [SafetyRuleConditionInline]


class PathwayTestCaseAdmin(DraftOnlyAdmin):
    form = CodesAndCaseForm
    list_display = ("name", "expected_outcome", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter))
    search_fields = ("name", "description", "expected_outcome")


class GuidanceNoteConditionInline(ConditionInline):
    model = GuidanceNoteCondition
    fields = ("variable", "op", "value", "edit_revision")


class GuidanceNoteAdmin(DraftOnlyAdmin):
    """Where newer guidance differs from the source; shown after the management, never routing."""

    form = CodesAndCaseForm
    list_display = ("code", "source", "checked_on", "version")
    list_filter = (VersionStatusFilter, ("version", VersionFilter))
    search_fields = ("code", "text", "source")
    fields = (
        "version",
        "code",
        "text",
        "source",
        "source_url",
        "checked_on",
        "when_codes",
        "unless_codes",
        "order",
        "edit_revision",
    )
    inlines = [GuidanceNoteConditionInline]


def code_was_published(recommendation: Any) -> bool:
    """Whether a published or retired version of the pathway gave a recommendation this code."""
    return bool(
        recommendation.pk is not None
        and Recommendation.objects.filter(
            version__pathway_id=recommendation.version.pathway_id, code=recommendation.code
        )
        .exclude(version__status=PathwayVersion.Status.DRAFT)
        .exists()
    )


def change_url_of(obj: Any) -> str:
    return reverse(f"admin:pathways_{obj._meta.model_name}_change", args=[obj.pk])
