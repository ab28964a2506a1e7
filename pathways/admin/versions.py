"""Pathways and their versions in the admin: the version page with its checklist and content, and
its publish, new-draft, preview, diff, diagram and audit pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from simple_history.admin import SimpleHistoryAdmin

from .. import authoring, diff, flowchart, selectors, validation
from ..content_io import export_document
from ..models import (
    Edge,
    GuidanceNote,
    Node,
    Pathway,
    PathwayTestCase,
    PathwayVersion,
    Recommendation,
    Reference,
    SafetyRule,
    Variable,
)
from . import audit
from .content import change_url_of
from .forms import ConflictCheckedForm, DiffForm, PublishForm
from .permissions import LockedUnlessDraft
from .site import WORKFLOW
from .wording import rule_sentence

CHECKLIST_TEMPLATE = "admin/pathways/_checklist.html"


class VersionInline(admin.TabularInline):
    model = PathwayVersion
    fields = ("number", "status", "published_at", "note")
    readonly_fields = ("number", "status", "published_at", "note")
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


class PathwayVersionAdmin(LockedUnlessDraft, SimpleHistoryAdmin):
    form = ConflictCheckedForm
    list_display = ("pathway", "number", "status", "published_at", "published_by", "created_at")
    list_filter = ("status", "pathway")
    search_fields = ("title", "pathway__slug", "note")
    list_select_related = ("pathway", "published_by")
    # The page is an overview: the checklist first, then (in the template) the rules by stage and
    # a link to each part; the texts and the version's record follow, folded.
    fieldsets = (
        ("Validation checklist", {"fields": ("checklist",)}),
        (
            "What clinicians read about the pathway",
            {
                "fields": ("title", "summary", "intended_use", "disclaimer", "source"),
                "classes": ("collapse",),
            },
        ),
        (
            "This version",
            {
                "fields": (
                    "pathway",
                    "number",
                    "status",
                    "note",
                    "based_on",
                    "published_at",
                    "published_by",
                    "created_at",
                    "content_hash",
                    "edit_revision",
                ),
                "classes": ("collapse",),
            },
        ),
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

    def delete_model(self, request: HttpRequest, obj: PathwayVersion) -> None:
        authoring.delete_draft(obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            authoring.delete_draft(version)

    def get_urls(self) -> list[Any]:
        def view(function: Any, allowed: Any) -> Any:
            return self.admin_site.admin_view(allowed(function))

        name = "pathways_pathwayversion"
        get_or_post = require_http_methods(["GET", "POST"])
        return [
            path("<int:pk>/publish/", view(self.publish_view, get_or_post), name=f"{name}_publish"),
            path("<int:pk>/new-draft/", view(self.new_draft_view, require_POST), name=f"{name}_new_draft"),
            path("<int:pk>/preview/", view(self.preview_view, require_POST), name=f"{name}_preview"),
            path("<int:pk>/diff/", view(self.diff_view, require_GET), name=f"{name}_diff"),
            path("<int:pk>/diagram/", view(self.diagram_view, require_GET), name=f"{name}_diagram"),
            path("<int:pk>/audit/", view(self.audit_view, require_GET), name=f"{name}_audit"),
            *super().get_urls(),
        ]

    # The validation checklist -------------------------------------------------------------------

    @admin.display(description="Validation checklist")
    def checklist(self, obj: PathwayVersion) -> SafeString:
        if obj.pk is None:
            return SafeString("")
        return render_to_string(
            CHECKLIST_TEMPLATE, {"checklist": checklist_context(obj, authoring.check_version(obj))}
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = context.get("original")
        if obj is not None:
            context.update(
                self._tools(request, obj),
                content_lists=_content_lists(request, obj),
                stages=rules_by_stage(obj),
            )
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
            authoring.confirm_texts(version, request.POST.getlist("confirm"), user=request.user)
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
            checklist=checklist_context(
                version, validation.Report(problems=problems, classes=report.classes)
            ),
            blocked=bool(report.errors),
            **publish_context(version),
        )

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        if not request.user.has_perm("pathways.add_pathwayversion"):
            raise PermissionDenied
        draft = authoring.new_draft(version)
        messages.success(
            request, f"Version {draft.number} is a new draft copied from version {version.number}."
        )
        return HttpResponseRedirect(reverse("admin:pathways_pathwayversion_change", args=[draft.pk]))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        walk = authoring.start_preview(version)
        return HttpResponseRedirect(
            reverse("pathways:walk_detail", kwargs={"slug": version.pathway.slug, "walk_id": walk.pk})
        )

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        others = PathwayVersion.objects.filter(pathway=version.pathway).exclude(pk=version.pk)
        form = DiffForm(request.GET or None)
        _compare_with(form, others)
        against = None
        if form.is_bound and form.is_valid():
            against = form.cleaned_data["against"]
        elif not form.is_bound:
            against = version.based_on or others.filter(status=PathwayVersion.Status.PUBLISHED).first()
            form = DiffForm(initial={"against": against})
            _compare_with(form, others)
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
        version = self._version(request, pk)
        report = authoring.check_version(version)
        links = _node_links(version)
        svg = flowchart.render(
            selectors.snapshot_for(version),
            faulty={p.node for p in report.errors if p.node},
            node_href=lambda slug: link.href if (link := links.get(slug)) else None,
        )
        return self._page(request, version, "diagram.html", title=f"Diagram of {version}", svg=svg)

    def audit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        # Filterable by version (of the same pathway) and by person.
        chosen = request.GET.get("version", "")
        if chosen.isdigit():
            version = get_object_or_404(PathwayVersion.objects.filter(pathway=version.pathway_id), pk=chosen)
        person = request.GET.get("person", "")
        everyone = audit.audit_entries(version)
        people = sorted({e.who for e in everyone if e.who is not None}, key=lambda user: str(user))
        entries = audit.audit_entries(version, person=int(person)) if person.isdigit() else everyone
        return self._page(
            request,
            version,
            "audit.html",
            title=f"History of {version}",
            entries=entries,
            versions=PathwayVersion.objects.filter(pathway=version.pathway_id).order_by("-number"),
            people=people,
            person=int(person) if person.isdigit() else None,
        )


# The version page lists its content with links instead of editing every row inline: a draft has
# hundreds of rows, and one form carrying them all would exceed DATA_UPLOAD_MAX_NUMBER_FIELDS.
LISTED_CONTENT = (Variable, Node, Recommendation, Reference, SafetyRule, PathwayTestCase, GuidanceNote)


def _content_lists(request: HttpRequest, version: PathwayVersion) -> list[dict[str, Any]]:
    """Each kind of content of the version: its rows with change links, and where to add one."""
    lists = []
    for model in LISTED_CONTENT:
        opts = model._meta
        name = f"admin:pathways_{opts.model_name}"
        can_add = version.is_draft and request.user.has_perm(f"pathways.add_{opts.model_name}")
        lists.append(
            {
                "title": dict(WORKFLOW).get(model, opts.verbose_name_plural),
                "rows": [(_label(row), change_url_of(row)) for row in model.objects.filter(version=version)],
                "changelist_url": f"{reverse(f'{name}_changelist')}?version__id__exact={version.pk}",
                "add_url": f"{reverse(f'{name}_add')}?version={version.pk}" if can_add else "",
                "add_label": "Add one",
            }
        )
    return lists


def _label(row: Any) -> str:
    """A row as an editor knows it: its label or title, not its key or slug."""
    if isinstance(row, Reference):
        return str(row)
    return next((str(getattr(row, name)) for name in ("label", "title") if getattr(row, name, "")), str(row))


def rules_by_stage(version: PathwayVersion) -> list[dict[str, Any]]:
    """Each stage's steps in order, each with its rules as sentences and the recommendations given there.

    Four queries whatever the size of the version: the steps with their recommendations, and the
    rules with their conditions and questions.
    """
    nodes = list(
        Node.objects.filter(version=version)
        .order_by("order", "slug")
        .prefetch_related(Prefetch("recommendations", queryset=Recommendation.objects.order_by("order")))
    )
    edges = (
        Edge.objects.filter(version=version)
        .select_related("target")
        .prefetch_related("conditions__variable")
        .order_by("source_id", "order")
    )
    rules: dict[int, list[tuple[str, str]]] = {}
    for edge in edges:
        rules.setdefault(edge.source_id, []).append((rule_sentence(edge), change_url_of(edge)))
    stages = []
    for value, label in Node.Stage.choices:
        steps = [
            {
                "node": node,
                "url": change_url_of(node),
                "rules": rules.get(node.pk, []),
                "recommendations": [(rec.title, change_url_of(rec)) for rec in node.recommendations.all()],
            }
            for node in nodes
            if node.stage == value
        ]
        if steps:
            stages.append({"label": label, "steps": steps})
    return stages


def _compare_with(form: DiffForm, others: QuerySet[PathwayVersion]) -> None:
    """Offer ``others`` as the versions the diff form may compare with."""
    field = form.fields["against"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = others


@dataclass(frozen=True)
class StepLink:
    """A link to a step's admin page, named by the step's title (an editor reads titles, not slugs)."""

    href: str
    title: str


def _node_links(version: PathwayVersion) -> dict[str, StepLink]:
    return {
        slug: StepLink(reverse("admin:pathways_node_change", args=[pk]), title)
        for pk, slug, title in Node.objects.filter(version=version).values_list("pk", "slug", "title")
    }


def publish_context(version: PathwayVersion) -> dict[str, Any]:
    """What the publish page shows beside the gate: the clinical diff against the version the draft
    is compared with, and the texts that still state a threshold the draft moved."""
    base = authoring.base_of(version)
    if base is None:
        return {"against": None, "changes": [], "stale": []}
    document = export_document(version)
    links = _node_links(version)
    confirmed = PathwayVersion.objects.filter(pk=version.pk).values_list("confirmed_texts", flat=True).get()
    return {
        "against": base,
        "changes": [
            (change, links.get(change.node or ""))
            for change in diff.diff_documents(authoring.document_of(base), document)
        ],
        "stale": [
            (item, (confirmed or {}).get(item.key), links.get(item.node or ""))
            for item in authoring.stale_texts(version, document)
        ],
    }


def checklist_context(version: PathwayVersion, report: validation.Report) -> dict[str, Any]:
    """The context of the checklist: errors and warnings, each with a link to the faulty step's page."""
    links = _node_links(version)
    return {
        "classes": report.classes,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "rows": [(problem, links.get(problem.node or "")) for problem in report.problems],
    }
