"""Pathways as data: every node, edge, condition, recommendation and reference is a row."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import document, engine, immutability
from .immutability import DRAFT, ImmutableVersionError
from .jsonfields import StrictJSONField


def _including(kwargs: dict[str, Any], *names: str) -> dict[str, Any]:
    """``save()`` arguments that also write ``names`` when only some fields are written."""
    if kwargs.get("update_fields") is not None:
        kwargs["update_fields"] = {*kwargs["update_fields"], *names}
    return kwargs


class VersionContent(models.Model):
    """Content that belongs to one pathway version, editable only while that version is a draft.

    ``version_path`` is the lookup from the row to its version. ``revision`` counts saves, so a
    form rendered with an older revision can be refused instead of overwriting a colleague.
    """

    version_path = "version"

    revision = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with immutability.saving_content(self):
            self.revision += 1
            super().save(*args, **_including(kwargs, "revision"))

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        with immutability.deleting_content(self):
            return super().delete(*args, **kwargs)

    def _refuse_links_across_versions(self, version_id: int | None, *names: str) -> None:
        """Refuse a link (by field name) to a row of another version than ``version_id``.

        Without a version of its own, the row takes that of its first link.
        """
        errors = {}
        for name in names:
            field = self._meta.get_field(name)
            assert isinstance(field, models.ForeignKey), name
            if getattr(self, field.attname) is None:
                continue
            row = getattr(self, name)
            if version_id is None:
                version_id = row.version_id
            elif row.version_id != version_id:
                errors[name] = ValidationError(
                    _("%(row)s belongs to another version."), code="other-version", params={"row": row}
                )
        if errors:
            raise ValidationError(errors)


class Pathway(models.Model):
    """A pathway's stable name. Everything a clinician reads belongs to its versions."""

    slug = models.SlugField(
        unique=True,
        help_text=_("Used in walk links and the API; fixed once a version has been published."),
    )
    revision = models.PositiveIntegerField(default=0, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def save(self, *args: Any, **kwargs: Any) -> None:
        if message := immutability.slug_change_refusal(self):
            raise ImmutableVersionError(message)
        self.revision += 1
        super().save(*args, **_including(kwargs, "revision"))

    def clean(self) -> None:
        if message := immutability.slug_change_refusal(self):
            raise ValidationError({"slug": message})

    @property
    def slug_is_fixed(self) -> bool:
        """Walks and API callers know the pathway by its slug once a version has been published."""
        return self.pk is not None and self.versions.exclude(status=DRAFT).exists()


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
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drafts",
        help_text=_("The version this draft was copied from."),
    )
    content_hash = models.CharField(max_length=80, blank=True)
    revision = models.PositiveIntegerField(default=0, editable=False)
    confirmed_texts = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text=_(
            "Texts that still state a threshold the draft moved, confirmed as still correct: "
            "by key (the text as it read when confirmed), who confirmed it and when."
        ),
    )

    # What the clinician reads about the pathway: part of the version, so it cannot change once
    # published (and is covered by the content hash, as the document's "pathway" block).
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    intended_use = models.TextField(blank=True)
    disclaimer = models.TextField(blank=True)
    source = models.TextField(blank=True, help_text=_("The source document the pathway is drawn from."))

    history = HistoricalRecords()
    _change_reason: str  # read by django-simple-history when the next save records a history row

    TEXT_FIELDS = ("title", "summary", "intended_use", "disclaimer", "source")

    class Meta:
        ordering = ["pathway", "-number"]
        permissions = [("publish_pathwayversion", "Can publish a pathway version")]
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        changed = immutability.check_version_save(self)
        self.revision += 1
        super().save(*args, **_including(kwargs, "revision", *changed))

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        immutability.refuse_deleting_version(self)
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Variable(VersionContent):
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
    choices = StrictJSONField(default=list, blank=True, help_text=_("List of [value, label] pairs."))
    help_text = models.TextField(blank=True)
    optional = models.BooleanField(default=False, help_text=_("Recorded and shown, never required to route."))
    other_units = StrictJSONField(
        default=list,
        blank=True,
        verbose_name=_("other units"),
        help_text=_(
            "Units the number may also be entered in, each with its conversion and where it comes from."
        ),
    )
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

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
        return self.label

    def as_engine(self) -> engine.Variable:
        """This row as the engine reads it, through the document format's one builder."""
        return document.variable(
            document.variable_item(
                key=self.key,
                label=self.label,
                kind=self.kind,
                unit=self.unit,
                minimum=self.minimum,
                minimum_inclusive=self.minimum_inclusive,
                maximum=self.maximum,
                maximum_inclusive=self.maximum_inclusive,
                choices=[[str(value), str(label)] for value, label in (self.choices or ())],
                help=self.help_text,
                optional=self.optional,
                other_units=list(self.other_units or ()),
            )
        )


class Node(VersionContent):
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
    fields: models.ManyToManyField[Variable, NodeField] = models.ManyToManyField(
        Variable, through="NodeField", blank=True, related_name="nodes"
    )
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="unique_node_slug"),
            models.UniqueConstraint(fields=["version"], condition=Q(is_start=True), name="one_start_node"),
        ]

    def __str__(self) -> str:
        return self.title


class NodeField(VersionContent):
    """A variable asked by a question node, in display order."""

    version_path = "node__version"

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="node_fields")
    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="node_fields")
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["node", "order"]
        constraints = [models.UniqueConstraint(fields=["node", "variable"], name="unique_node_field")]

    def __str__(self) -> str:
        return f"{self.node.title}: {self.variable.label}"

    def clean(self) -> None:
        self._refuse_links_across_versions(None, "node", "variable")


class Edge(VersionContent):
    """A way out of a node, taken when all its conditions hold (first matching order wins)."""

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="out_edges")
    target = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="in_edges")
    order = models.PositiveIntegerField(default=1)
    note = models.TextField(
        blank=True,
        help_text=_("Shown to the clinician when this edge is taken (e.g. how an ambiguity is resolved)."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "order"]
        constraints = [models.UniqueConstraint(fields=["source", "order"], name="unique_edge_order")]

    def __str__(self) -> str:
        return f"{self.source.title} → {self.target.title}"

    def clean(self) -> None:
        self._refuse_links_across_versions(self.version_id, "source", "target")


class Condition(VersionContent):
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
    value = StrictJSONField(help_text=_("A value, or a list of values for 'is one of' / 'is none of'."))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        variable = self.variable.as_engine()
        condition = engine.Condition(variable.key, self.op, self.value)
        try:
            return condition.describe({variable.key: variable})
        except (TypeError, ValueError, KeyError):  # a value being edited that does not fit yet
            return f"{variable.label} {self.get_op_display()} {self.value}"

    def clean(self) -> None:
        parent = self.version_path.split("__")[0]  # the edge, recommendation or rule
        self._refuse_links_across_versions(None, parent, "variable")


class EdgeCondition(Condition):
    version_path = "edge__version"

    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="conditions")

    history = HistoricalRecords()


class Reference(VersionContent):
    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="references")
    label = models.CharField(max_length=10, help_text=_("The marker shown in citations, e.g. 1."))
    citation = models.TextField()
    url = models.URLField(blank=True)
    note = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "label"], name="unique_reference_label")]

    def __str__(self) -> str:
        return f"[{self.label}] {self.citation[:60]}"


class Recommendation(VersionContent):
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

    history = HistoricalRecords(m2m_fields=["nodes", "citations"])

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="unique_recommendation_code")]

    def __str__(self) -> str:
        return self.title


class RecommendationCondition(Condition):
    version_path = "recommendation__version"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="conditions")

    history = HistoricalRecords()


class SafetyRule(VersionContent):
    """When all conditions hold, every walk must include / must never include these codes.

    A condition holds only when the walk asked its variable; a rule without conditions applies to
    every complete walk. The publish gate checks every class of cases against every rule.
    """

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="safety_rules")
    name = models.SlugField(max_length=80, help_text=_("Short stable name, e.g. insulinoma-ssa-caution."))
    description = models.TextField(blank=True)
    must_include = StrictJSONField(default=list, blank=True, help_text=_("Recommendation codes."))
    must_exclude = StrictJSONField(default=list, blank=True, help_text=_("Recommendation codes."))
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="unique_safety_rule_name")]

    def __str__(self) -> str:
        return self.name


class SafetyRuleCondition(Condition):
    version_path = "rule__version"

    rule = models.ForeignKey(SafetyRule, on_delete=models.CASCADE, related_name="conditions")

    history = HistoricalRecords()


class PathwayTestCase(VersionContent):
    """A case and what its walk must yield; every one must pass before the version is published."""

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="test_cases")
    name = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    case = StrictJSONField(default=dict, help_text=_("The case, as the evaluation API takes it."))
    must_include = StrictJSONField(default=list, blank=True, help_text=_("Recommendation codes."))
    must_exclude = StrictJSONField(default=list, blank=True, help_text=_("Recommendation codes."))
    expected_outcome = models.SlugField(max_length=80, blank=True, help_text=_("Outcome node slug."))
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "name"]
        verbose_name = _("test case")
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="unique_test_case_name")]

    def __str__(self) -> str:
        return self.name


class GuidanceNote(VersionContent):
    """Where newer guidance differs from the source: shown after the management, never routing it.

    Shown on a complete walk that is given any of ``when_codes`` (none: every complete walk), none
    of ``unless_codes``, and on which all its conditions hold.
    """

    version = models.ForeignKey(PathwayVersion, on_delete=models.CASCADE, related_name="guidance_notes")
    code = models.CharField(max_length=80, help_text=_("Stable code, e.g. newer.prrt."))
    text = models.TextField(help_text=_("Markdown: what the newer guidance says."))
    source = models.TextField(help_text=_("Authors, journal or body, year, DOI or PMID where one exists."))
    source_url = models.URLField(blank=True, help_text=_("An https DOI or PubMed link."))
    checked_on = models.DateField(help_text=_("When the note was last checked against its source."))
    when_codes = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Shown when any of these recommendation codes is given; empty: every complete walk."),
    )
    unless_codes = models.JSONField(
        default=list, blank=True, help_text=_("Not shown when any of these recommendation codes is given.")
    )
    order = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order", "code"]
        verbose_name = _("newer-guidance note")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_guidance_note_code"),
            models.CheckConstraint(condition=Q(code__startswith="newer."), name="guidance_note_code_newer"),
        ]

    def __str__(self) -> str:
        return self.code


class GuidanceNoteCondition(Condition):
    version_path = "note__version"

    note = models.ForeignKey(GuidanceNote, on_delete=models.CASCADE, related_name="conditions")

    history = HistoricalRecords()


class GateReport(models.Model):
    """The publish gate's report on a content, kept by the content's hash and the gate's own.

    Validating a version enumerates every class of walk; the report is shared by every server
    process, so the publish page, the publish and the page after it validate a content once.
    """

    key = models.CharField(max_length=120, unique=True, help_text=_("Content hash : gate fingerprint."))
    problems = models.JSONField(default=list)
    classes = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class ParsedExpression(models.Model):
    """A FHIRPath expression of an export as fhirpathpy parses it, kept for every server process.

    Parsing (ANTLR) is most of the publish gate's FHIR check in a process that has not checked a
    version before; versions share most of their expressions, so each is parsed once.
    """

    key = models.CharField(max_length=80, unique=True, help_text=_("Parser version and expression, hashed."))
    expression = models.TextField()
    tree = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class Walk(models.Model):
    """One clinician's walk through a pathway version. Holds answers only, no patient identifiers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(PathwayVersion, on_delete=models.PROTECT, related_name="walks")
    answers = StrictJSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(
        max_length=80, blank=True, help_text=_("The content hash of the version when the walk started.")
    )
    is_preview = models.BooleanField(default=False, help_text=_("A staff preview of a draft."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return str(self.id)


CONTENT_MODELS: tuple[type[VersionContent], ...] = (
    Variable,
    Node,
    NodeField,
    Edge,
    EdgeCondition,
    Reference,
    Recommendation,
    RecommendationCondition,
    SafetyRule,
    SafetyRuleCondition,
    PathwayTestCase,
    GuidanceNote,
    GuidanceNoteCondition,
)


immutability.guard(
    version=PathwayVersion,
    content=CONTENT_MODELS,
    links=(Recommendation.nodes.through, Recommendation.citations.through),
)
