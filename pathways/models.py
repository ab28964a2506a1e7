"""Pathways as data: every node, edge, condition, recommendation and reference is a row."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import engine


class Pathway(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    disclaimer = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text=_("The source document the pathway is drawn from."))

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class PathwayVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField(blank=True, help_text=_("What changed in this version."))
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["pathway", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "number"], name="unique_version_number"),
            models.UniqueConstraint(
                fields=["pathway"],
                condition=Q(status="published"),
                name="one_published_version_per_pathway",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pathway.slug} v{self.number} ({self.status})"


class Variable(models.Model):
    class Kind(models.TextChoices):
        CHOICE = engine.CHOICE, _("Choice")
        BOOLEAN = engine.BOOLEAN, _("Yes / no")
        NUMBER = engine.NUMBER, _("Number")

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="variables")
    key = models.SlugField(max_length=60, help_text=_("Fixed name used by forms, the API and integrators."))
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    unit = models.CharField(max_length=20, blank=True)
    minimum = models.FloatField(null=True, blank=True)
    minimum_inclusive = models.BooleanField(default=True)
    maximum = models.FloatField(null=True, blank=True)
    maximum_inclusive = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True, help_text=_("List of [value, label] pairs."))
    help_text = models.TextField(blank=True)
    optional = models.BooleanField(default=False, help_text=_("Recorded and shown, never required to route."))
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_variable_key"),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True)
                | Q(maximum__isnull=True)
                | Q(minimum__lte=models.F("maximum")),
                name="variable_bounds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Node(models.Model):
    class Kind(models.TextChoices):
        QUESTION = engine.QUESTION, _("Question")
        INFO = engine.INFO, _("Information")
        OUTCOME = engine.OUTCOME, _("Outcome")

    class Stage(models.TextChoices):
        WORKUP = "workup", _("Workup")
        IMAGING = "imaging", _("Imaging")
        PATHOLOGY = "pathology", _("Pathology")
        MANAGEMENT = "management", _("Management")

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="nodes")
    slug = models.SlugField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text=_("Markdown shown with the step."))
    is_start = models.BooleanField(default=False)
    fields = models.ManyToManyField(Variable, through="NodeField", blank=True, related_name="nodes")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_node_slug"),
            models.UniqueConstraint(fields=["version"], condition=Q(is_start=True), name="one_start_node"),
        ]

    def __str__(self) -> str:
        return self.slug


class NodeField(models.Model):
    """A variable asked by a question node, in display order."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="node_fields")
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="node_fields")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["node", "order"]
        constraints = [models.UniqueConstraint(fields=["node", "variable"], name="unique_node_field")]

    def __str__(self) -> str:
        return f"{self.node.slug}: {self.variable.key}"


class Edge(models.Model):
    """A way out of a node, taken when all its conditions hold (first matching order wins)."""

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="out_edges")
    target = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="in_edges")
    order = models.PositiveIntegerField(default=1)
    note = models.TextField(
        blank=True,
        help_text=_("Shown to the clinician when this edge is taken (e.g. how an ambiguity is resolved)."),
    )

    class Meta:
        ordering = ["source", "order"]
        constraints = [models.UniqueConstraint(fields=["source", "order"], name="unique_edge_order")]

    def __str__(self) -> str:
        return f"{self.source.slug} → {self.target.slug} (#{self.order})"


class Condition(models.Model):
    class Operator(models.TextChoices):
        EQ = "eq", "="
        NE = "ne", "≠"
        IN = "in", _("is one of")
        NOT_IN = "not_in", _("is none of")
        LT = "lt", "<"
        LE = "le", "≤"
        GT = "gt", ">"
        GE = "ge", "≥"

    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="+")
    op = models.CharField(max_length=8, choices=Operator.choices)
    value = models.JSONField(help_text=_("A value, or a list of values for 'is one of' / 'is none of'."))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.variable.key} {self.get_op_display()} {self.value}"


class EdgeCondition(Condition):
    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="conditions")


class Reference(models.Model):
    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="references")
    label = models.CharField(max_length=10, help_text=_("The marker shown in citations, e.g. 1."))
    citation = models.TextField()
    url = models.URLField(blank=True)
    note = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "label"], name="unique_reference_label")]

    def __str__(self) -> str:
        return f"[{self.label}] {self.citation[:60]}"


class Recommendation(models.Model):
    class Section(models.TextChoices):
        CAUTION = "caution", _("Cautions")
        GENERAL = "general", _("General")
        WORKUP = "workup", _("Biochemical workup")
        IMAGING = "imaging", _("Imaging")
        SURVEILLANCE = "surveillance", _("Surveillance")
        PREOPERATIVE = "preoperative", _("Symptom control and preoperative care")
        SURGERY = "surgery", _("Surgery")
        SYSTEMIC = "systemic", _("Systemic therapy")
        LOCOREGIONAL = "locoregional", _("Locoregional therapy")
        SPECIAL = "special", _("Special considerations")
        FOLLOWUP = "followup", _("Follow-up")

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="recommendations")
    code = models.CharField(max_length=80, help_text=_("Stable contract code, e.g. nf.observation."))
    section = models.CharField(max_length=14, choices=Section.choices)
    title = models.CharField(max_length=200)
    text = models.TextField(help_text=_("Markdown."))
    note = models.TextField(
        blank=True, help_text=_("How the pathway reads the source here, shown to the clinician.")
    )
    nodes = models.ManyToManyField(
        Node,
        related_name="recommendations",
        blank=True,
        help_text=_("Given when the walk reaches any of these nodes."),
    )
    citations = models.ManyToManyField(Reference, related_name="recommendations")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="unique_recommendation_code")]

    def __str__(self) -> str:
        return self.code


class RecommendationCondition(Condition):
    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="conditions")


class Walk(models.Model):
    """One clinician's walk through a pathway version. Holds answers only, no patient identifiers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(PathwayVersion, on_delete=models.PROTECT, related_name="walks")
    answers = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return str(self.id)
