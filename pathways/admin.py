"""Authoring in the admin: drafts are edited, published versions are read-only.

Every content form carries the revision it was rendered with; saving over a newer revision is
refused with a conflict message instead of silently overwriting a colleague's edit. Publishing goes
through the publish gate (pathways.validation) and asks for a change note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from simple_history.admin import SimpleHistoryAdmin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from . import authoring, diff, engine, validation
from .content_io import export_document
from .models import (
    Edge,
    EdgeCondition,
    GuidanceNote,
    GuidanceNoteCondition,
    ImmutableVersionError,
    Node,
    NodeField,
    Pathway,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    RecommendationCondition,
    Reference,
    SafetyRule,
    SafetyRuleCondition,
    Variable,
    Walk,
)

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
        super().clean()
        cleaned = self.cleaned_data
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


def _version_of(obj: Any) -> PathwayVersion | None:
    """The version an object (content row or version) belongs to."""
    if obj is None:
        return None
    if isinstance(obj, PathwayVersion):
        return obj
    path = getattr(obj, "version_path", "version").split("__")
    for step in path:
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return obj


def _is_locked(obj: Any) -> bool:
    version = _version_of(obj)
    return version is not None and version.status != PathwayVersion.Status.DRAFT


URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}

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
            if value is None or not isinstance(field, forms.ModelChoiceField) or field.queryset is None:
                continue
            if field.queryset.model not in VERSIONED:
                continue
            rows = list(value) if isinstance(field, forms.ModelMultipleChoiceField) else [value]
            rows = [row for row in rows if row is not None]
            if version_id is None and rows:
                version_id = rows[0].version_id
            strays = [row for row in rows if row.version_id != version_id]
            if strays:
                versions = PathwayVersion.objects.filter(pk__in={row.version_id for row in strays})
                message = OTHER_VERSION.format(
                    rows=", ".join(sorted(map(str, strays))),
                    versions=", ".join(sorted(map(str, versions))),
                    plural=field.queryset.model._meta.verbose_name_plural,
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


def _editing_version(request: HttpRequest) -> PathwayVersion | None:
    """The version a page edits: that of the object opened, or the draft named in ``?version=``."""
    version = _version_of(getattr(request, "_pathways_parent", None))
    if version is None and request.GET.get("version", "").isdigit():
        version = PathwayVersion.objects.filter(
            pk=request.GET["version"], status=PathwayVersion.Status.DRAFT
        ).first()
    return version


def _same_version_rows(model: type[models.Model], request: HttpRequest) -> Any:
    """The rows a link of a page may point to: those of the version it edits, else of any draft."""
    version = _editing_version(request)
    if version is not None:
        return model._default_manager.filter(version=version).select_related("version__pathway")
    return model._default_manager.filter(version__status=PathwayVersion.Status.DRAFT).select_related(
        "version__pathway"
    )


class DraftOnlyAdmin(SimpleHistoryAdmin):
    """A content admin: changes only while the object's version is a draft; history per object."""

    form = SameVersionForm
    formfield_overrides = URL_FIELDS
    list_select_related: tuple[str, ...] = ("version__pathway",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A row stays in the version it was made in: moving it would strand the rows linked to it.
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and "version" in (f.name for f in self.model._meta.fields):
            readonly = (*readonly, "version")
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not _is_locked(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not _is_locked(obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.remote_field.model is PathwayVersion:
            kwargs["queryset"] = PathwayVersion.objects.filter(status=PathwayVersion.Status.DRAFT)
        elif db_field.remote_field.model in VERSIONED:
            kwargs["queryset"] = _same_version_rows(db_field.remote_field.model, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.remote_field.model in VERSIONED:
            kwargs["queryset"] = _same_version_rows(db_field.remote_field.model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            super().save_model(request, obj, form, change)
        except ImmutableVersionError as error:
            raise PermissionDenied(str(error)) from error


class DraftOnlyInline(admin.TabularInline):
    """An inline that is read-only when its parent belongs to a published or retired version."""

    form = SameVersionForm
    formfield_overrides = URL_FIELDS
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and not _is_locked(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not _is_locked(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not _is_locked(obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.remote_field.model in VERSIONED:
            kwargs["queryset"] = _same_version_rows(db_field.remote_field.model, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ParentAwareMixin:
    """Remember the object being edited so inlines can offer only rows of the same version."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        request._pathways_parent = obj  # type: ignore[attr-defined]
        return obj


# Pathway and versions ------------------------------------------------------------------------------


class VersionInline(admin.TabularInline):
    model = PathwayVersion
    fields = ("number", "status", "published_at", "note")
    readonly_fields = ("number", "status", "published_at", "note")
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Pathway)
class PathwayAdmin(SimpleHistoryAdmin):
    """The pathway's slug (its title and texts are each version's, edited on the draft)."""

    form = ConflictCheckedForm
    list_display = ("slug", "latest_title")
    search_fields = ("slug", "versions__title")
    inlines = [VersionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = ("slug",) if obj is not None and obj.slug_is_fixed else ()
        return (*super().get_readonly_fields(request, obj), *fixed)

    def get_queryset(self, request: HttpRequest) -> Any:
        latest = PathwayVersion.objects.filter(pathway=OuterRef("pk")).order_by("-number").values("title")
        return super().get_queryset(request).annotate(_latest_title=Subquery(latest[:1]))

    @admin.display(description="Title (latest version)")
    def latest_title(self, obj: Pathway) -> str:
        return getattr(obj, "_latest_title", None) or ""


class PublishForm(forms.Form):
    note = forms.CharField(
        label="Change note",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What changed and why, for the audit trail and the clinicians' version notes.",
    )


class DiffForm(forms.Form):
    against = forms.ModelChoiceField(queryset=PathwayVersion.objects.none(), label="Compare with")


def _offer_only(field: forms.Field, rows: QuerySet[Any]) -> None:
    """Limit the choices of a model choice field to ``rows``."""
    assert isinstance(field, forms.ModelChoiceField), field
    field.queryset = rows


@admin.register(PathwayVersion)
class PathwayVersionAdmin(ParentAwareMixin, SimpleHistoryAdmin):
    form = ConflictCheckedForm
    list_display = ("pathway", "number", "status", "published_at", "published_by", "created_at")
    list_filter = ("status", "pathway")
    search_fields = ("title", "pathway__slug", "note")
    list_select_related = ("pathway", "published_by")
    fields = (
        "pathway",
        "number",
        "status",
        "title",
        "summary",
        "intended_use",
        "disclaimer",
        "source",
        "note",
        "based_on",
        "published_at",
        "published_by",
        "content_hash",
        "created_at",
        "checklist",
        "edit_revision",
    )
    readonly_fields = (
        "pathway",
        "number",
        "status",
        "based_on",
        "published_at",
        "published_by",
        "content_hash",
        "created_at",
        "checklist",
    )
    change_form_template = "admin/pathways/pathwayversion/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from "New draft from this version" or import_pathway

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not _is_locked(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not _is_locked(obj)

    def delete_model(self, request: HttpRequest, obj: PathwayVersion) -> None:
        authoring.delete_draft(obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            authoring.delete_draft(version)

    def get_urls(self) -> list[Any]:
        def view(function: Any) -> Any:
            return self.admin_site.admin_view(function)

        name = "pathways_pathwayversion"
        return [
            path("<int:pk>/publish/", view(self.publish_view), name=f"{name}_publish"),
            path("<int:pk>/new-draft/", view(self.new_draft_view), name=f"{name}_new_draft"),
            path("<int:pk>/preview/", view(self.preview_view), name=f"{name}_preview"),
            path("<int:pk>/diff/", view(self.diff_view), name=f"{name}_diff"),
            path("<int:pk>/diagram/", view(self.diagram_view), name=f"{name}_diagram"),
            path("<int:pk>/audit/", view(self.audit_view), name=f"{name}_audit"),
            *super().get_urls(),
        ]

    # The validation checklist -------------------------------------------------------------------

    @admin.display(description="Validation checklist")
    def checklist(self, obj: PathwayVersion) -> SafeString:
        if obj.pk is None:
            return SafeString("")
        return render_checklist(obj, authoring.check_version(obj))

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = context.get("original")
        if obj is not None:
            context.update(self._tools(request, obj), content_lists=_content_lists(request, obj))
        return super().render_change_form(request, context, *args, **kwargs)

    def _tools(self, request: HttpRequest, obj: PathwayVersion) -> dict[str, Any]:
        return {
            "can_publish": obj.is_draft and request.user.has_perm("pathways.publish_pathwayversion"),
            "can_copy": request.user.has_perm("pathways.add_pathwayversion"),
            "is_draft": obj.is_draft,
        }

    def _version(self, request: HttpRequest, pk: int) -> PathwayVersion:
        version = get_object_or_404(PathwayVersion.objects.select_related("pathway"), pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return version

    def _page(self, request: HttpRequest, version: PathwayVersion, template: str, **context: Any) -> Any:
        context.update(
            self.admin_site.each_context(request),
            opts=self.model._meta,
            original=version,
            title=context.pop("title", str(version)),
            change_url=reverse("admin:pathways_pathwayversion_change", args=[version.pk]),
        )
        return TemplateResponse(request, f"admin/pathways/pathwayversion/{template}", context)

    # Publishing -----------------------------------------------------------------------------------

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        if not request.user.has_perm("pathways.publish_pathwayversion"):
            raise PermissionDenied
        if not version.is_draft:
            messages.error(request, f"{version} is {version.status}; only a draft can be published.")
            return HttpResponseRedirect(reverse("admin:pathways_pathwayversion_change", args=[pk]))
        form = PublishForm(request.POST or None)
        problems: list[validation.Problem] = []
        if request.method == "POST" and form.is_valid():
            try:
                authoring.publish(version, note=form.cleaned_data["note"], user=request.user)
            except authoring.PublishRefused as refused:
                problems = refused.problems
                messages.error(request, "Not published: the publish gate found errors. Nothing was changed.")
            else:
                messages.success(request, f"{version.pathway} version {version.number} is published.")
                return HttpResponseRedirect(reverse("admin:pathways_pathwayversion_change", args=[pk]))
        report = authoring.check_version(version)
        if not problems:
            problems = report.problems
        return self._page(
            request,
            version,
            "publish.html",
            title=f"Publish {version}",
            form=form,
            checklist=render_checklist(version, validation.Report(problems=problems, classes=report.classes)),
            blocked=bool(report.errors),
        )

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        if request.method != "POST":
            return HttpResponse(status=405)
        if not request.user.has_perm("pathways.add_pathwayversion"):
            raise PermissionDenied
        draft = authoring.new_draft(version)
        messages.success(
            request, f"Version {draft.number} is a new draft copied from version {version.number}."
        )
        return HttpResponseRedirect(reverse("admin:pathways_pathwayversion_change", args=[draft.pk]))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        if request.method != "POST":
            return HttpResponse(status=405)
        walk = authoring.start_preview(version)
        return HttpResponseRedirect(
            reverse("pathways:walk_detail", kwargs={"slug": version.pathway.slug, "walk_id": walk.pk})
        )

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        others = PathwayVersion.objects.filter(pathway=version.pathway).exclude(pk=version.pk)
        form = DiffForm(request.GET or None)
        _offer_only(form.fields["against"], others)
        against = None
        if form.is_bound and form.is_valid():
            against = form.cleaned_data["against"]
        elif not form.is_bound:
            against = version.based_on or others.filter(status=PathwayVersion.Status.PUBLISHED).first()
            form = DiffForm(initial={"against": against})
            _offer_only(form.fields["against"], others)
        changes = []
        if against is not None:
            links = _node_links(version)
            changes = [
                (change, links.get(change.node or ""))
                for change in diff.diff_documents(export_document(against), export_document(version))
            ]
        return self._page(
            request,
            version,
            "diff.html",
            title=f"Changes in {version}",
            form=form,
            against=against,
            changes=changes,
        )

    def diagram_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from . import flowchart, selectors

        version = self._version(request, pk)
        report = authoring.check_version(version)
        links = _node_links(version)
        svg = flowchart.render(
            selectors.snapshot_for(version),
            faulty={p.node for p in report.errors if p.node},
            node_href=links.get,
        )
        return self._page(request, version, "diagram.html", title=f"Diagram of {version}", svg=svg)

    def audit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        return self._page(request, version, "audit.html", title=f"History of {version}", rows=_audit(version))


# The version page lists its content with links instead of editing every row inline: a draft has
# hundreds of rows, and one form carrying them all would exceed DATA_UPLOAD_MAX_NUMBER_FIELDS.
LISTED_CONTENT = (Variable, Node, Recommendation, Reference, SafetyRule, PathwayTestCase)


def _content_lists(request: HttpRequest, version: PathwayVersion) -> list[dict[str, Any]]:
    """Each kind of content of the version: its rows with change links, and where to add one."""
    lists = []
    for model in LISTED_CONTENT:
        opts = model._meta
        name = f"admin:pathways_{opts.model_name}"
        can_add = version.is_draft and request.user.has_perm(f"pathways.add_{opts.model_name}")
        lists.append(
            {
                "title": opts.verbose_name_plural,
                "rows": [(str(row), change_url_of(row)) for row in model.objects.filter(version=version)],
                "changelist_url": f"{reverse(f'{name}_changelist')}?version__id__exact={version.pk}",
                "add_url": f"{reverse(f'{name}_add')}?version={version.pk}" if can_add else "",
                "add_label": f"Add {opts.verbose_name}",
            }
        )
    return lists


def change_url_of(obj: Any) -> str:
    return reverse(f"admin:pathways_{obj._meta.model_name}_change", args=[obj.pk])


def _node_links(version: PathwayVersion) -> dict[str, str]:
    return {
        slug: reverse("admin:pathways_node_change", args=[pk])
        for pk, slug in Node.objects.filter(version=version).values_list("pk", "slug")
    }


def render_checklist(version: PathwayVersion, report: validation.Report) -> SafeString:
    """Errors and warnings, each linking to the faulty step's admin page."""
    links = _node_links(version)
    if not report.problems:
        return format_html(
            '<p class="pathway-check-ok">No problems: every case class ({}) reaches exactly one outcome, '
            "every safety rule and test case holds.</p>",
            report.classes,
        )

    def where(problem: validation.Problem) -> SafeString:
        if problem.node and problem.node in links:
            return format_html(' — <a href="{}">step {}</a>', links[problem.node], problem.node)
        return SafeString("")

    rows = format_html_join(
        "",
        '<li class="pathway-check-{}"><strong>{}</strong> <code>{}</code>: {}{}</li>',
        ((p.severity, p.severity.capitalize(), p.code, p.message, where(p)) for p in report.problems),
    )
    errors, warnings = len(report.errors), len(report.warnings)
    return format_html(
        '<p>{} error(s), {} warning(s){}</p><ul class="pathway-checklist">{}</ul>',
        errors,
        warnings,
        ": publishing is refused until every error is fixed" if errors else "",
        rows,
    )


def _audit(version: PathwayVersion) -> list[Any]:
    """The history rows of the version and of all its content, newest first."""
    rows: list[Any] = list(PathwayVersion.history.filter(id=version.pk).select_related("history_user"))
    for model in (Variable, Node, Edge, Reference, Recommendation, SafetyRule, PathwayTestCase):
        rows += list(model.history.filter(version_id=version.pk).select_related("history_user"))
    for child, parent_model, parent in (
        (NodeField, Node, "node"),
        (EdgeCondition, Edge, "edge"),
        (RecommendationCondition, Recommendation, "recommendation"),
        (SafetyRuleCondition, SafetyRule, "rule"),
    ):
        ids = parent_model.objects.filter(version=version).values("pk")
        rows += list(child.history.filter(**{f"{parent}_id__in": ids}).select_related("history_user"))
    rows.sort(key=lambda row: row.history_date, reverse=True)
    rows = rows[:500]
    for row in rows:
        row.described = f"{row.instance._meta.verbose_name} {_describe_row(row)}"
    return rows


def _describe_row(row: Any) -> str:
    for name in ("slug", "key", "code", "name", "label"):
        if hasattr(row, name):
            return str(getattr(row, name))
    if hasattr(row, "source_id"):
        return f"#{row.id} (edge, order {row.order})"
    if hasattr(row, "op"):
        return f"#{row.id}: {row.op} {row.value}"
    if hasattr(row, "number"):
        return f"{row.number} ({row.status})"
    return f"#{row.id}"


# Content ---------------------------------------------------------------------------------------------


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


@admin.register(Variable)
class VariableAdmin(DraftOnlyAdmin):
    list_display = ("key", "label", "kind", "unit", "optional", "version")
    list_filter = (VersionStatusFilter, "version", "kind", "optional")
    search_fields = ("key", "label")

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # Autocomplete (variables of edge and node inlines) offers only variables of draft versions.
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(version__status=PathwayVersion.Status.DRAFT)
        return super().get_search_results(request, queryset, search_term)


class NodeFieldInline(DraftOnlyInline):
    model = NodeField
    fields = ("order", "variable", "edit_revision")


class OutEdgeInline(DraftOnlyInline):
    model = Edge
    fk_name = "source"
    fields = ("order", "target", "conditions_text", "note", "edit_revision")
    readonly_fields = ("conditions_text",)
    show_change_link = True

    @admin.display(description="Taken when")
    def conditions_text(self, obj: Edge) -> str:
        if obj.pk is None:
            return "Save, then open the edge to add its conditions."
        return describe_rows(obj.conditions.all(), obj.version_id)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # New edges start in the node's version.
            _offer_only(formset.form.base_fields["target"], Node.objects.filter(version=obj.version))
        return formset


@admin.register(Node)
class NodeAdmin(ParentAwareMixin, DraftOnlyAdmin):
    list_display = ("slug", "title", "kind", "stage", "is_start", "version")
    list_filter = (VersionStatusFilter, "version", "kind", "stage", "is_start")
    search_fields = ("slug", "title", "body")
    inlines = [NodeFieldInline, OutEdgeInline]
    readonly_fields = ("recommendations_here",)

    @admin.display(description="Recommendations given here")
    def recommendations_here(self, obj: Node) -> SafeString:
        """Each with its conditions; placing one here is done on the recommendation's page."""
        if obj.pk is None:
            return SafeString("")
        recs = obj.recommendations.prefetch_related("conditions__variable").order_by("order")
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> — {} <em>({})</em></li>',
            (
                (change_url_of(rec), rec.code, rec.title, describe_rows(rec.conditions.all(), obj.version_id))
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
    conditions = [
        engine.Condition(
            row.variable.key, row.op, tuple(row.value) if row.op in engine.SET_OPERATORS else row.value
        )
        for row in rows
    ]
    return " and ".join(c.describe(variables) for c in conditions) or "always"


def _engine_variables(version_id: int) -> list[engine.Variable]:
    return [
        engine.Variable(
            key=v.key, label=v.label, kind=v.kind, unit=v.unit, choices=tuple(map(tuple, v.choices))
        )
        for v in Variable.objects.filter(version_id=version_id)
    ]


class EdgeConditionInline(DraftOnlyInline):
    model = EdgeCondition
    fields = ("variable", "op", "value", "edit_revision")


@admin.register(Edge)
class EdgeAdmin(ParentAwareMixin, DraftOnlyAdmin):
    list_display = ("__str__", "source", "target", "order", "version")
    list_filter = (VersionStatusFilter, "version")
    search_fields = ("source__slug", "target__slug", "note")
    list_select_related = ("version__pathway", "source", "target")
    inlines = [EdgeConditionInline]


class RecommendationConditionInline(DraftOnlyInline):
    model = RecommendationCondition
    fields = ("variable", "op", "value", "edit_revision")


@admin.register(Recommendation)
class RecommendationAdmin(ParentAwareMixin, DraftOnlyAdmin):
    list_display = ("code", "title", "section", "version")
    list_filter = (VersionStatusFilter, "version", "section")
    search_fields = ("code", "title", "text")
    filter_horizontal = ("nodes", "citations")
    inlines = [RecommendationConditionInline]


@admin.register(Reference)
class ReferenceAdmin(DraftOnlyAdmin):
    list_display = ("label", "citation", "url", "version")
    list_filter = (VersionStatusFilter, "version")
    search_fields = ("citation", "url")


class SafetyRuleConditionInline(DraftOnlyInline):
    model = SafetyRuleCondition
    fields = ("variable", "op", "value", "edit_revision")


@admin.register(SafetyRule)
class SafetyRuleAdmin(ParentAwareMixin, DraftOnlyAdmin):
    list_display = ("name", "description", "version")
    list_filter = (VersionStatusFilter, "version")
    search_fields = ("name", "description")
    inlines = [SafetyRuleConditionInline]


@admin.register(PathwayTestCase)
class PathwayTestCaseAdmin(DraftOnlyAdmin):
    list_display = ("name", "expected_outcome", "version")
    list_filter = (VersionStatusFilter, "version")
    search_fields = ("name", "description", "expected_outcome")


@admin.register(Walk)
class WalkAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "is_preview", "created_at", "updated_at", "completed_at")
    list_filter = ("is_preview", "version")
    readonly_fields = (
        "id",
        "version",
        "content_hash",
        "is_preview",
        "answers",
        "revision",
        "created_at",
        "updated_at",
        "completed_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False


class GuidanceNoteConditionInline(DraftOnlyInline):
    model = GuidanceNoteCondition
    fields = ("variable", "op", "value", "edit_revision")


@admin.register(GuidanceNote)
class GuidanceNoteAdmin(ParentAwareMixin, DraftOnlyAdmin):
    """Where newer guidance differs from the source; shown after the management, never routing."""

    list_display = ("code", "source", "checked_on", "version")
    list_filter = (VersionStatusFilter, "version")
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
