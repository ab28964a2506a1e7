"""Authoring in the admin: drafts are edited, published versions are read-only.

Every content form carries the revision it was rendered with; saving over a newer revision is
refused with a conflict message instead of silently overwriting a colleague's edit. Publishing goes
through the publish gate (pathways.validation) and asks for a change note.

``permissions`` says what is locked, ``forms`` holds the admin's forms, ``versions`` the pathway and
version pages, ``content`` the admins of a version's content, ``walks`` the walks; this module
registers them.
"""

from __future__ import annotations

from django.contrib import admin

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
    Walk,
)
from .content import (
    EdgeAdmin,
    GuidanceNoteAdmin,
    NodeAdmin,
    PathwayTestCaseAdmin,
    RecommendationAdmin,
    ReferenceAdmin,
    SafetyRuleAdmin,
    VariableAdmin,
)
from .site import install
from .versions import PathwayAdmin, PathwayVersionAdmin
from .walks import WalkAdmin

admin.site.register(Pathway, PathwayAdmin)
admin.site.register(PathwayVersion, PathwayVersionAdmin)
admin.site.register(Variable, VariableAdmin)
admin.site.register(Node, NodeAdmin)
admin.site.register(Edge, EdgeAdmin)
admin.site.register(Recommendation, RecommendationAdmin)
admin.site.register(Reference, ReferenceAdmin)
admin.site.register(SafetyRule, SafetyRuleAdmin)
admin.site.register(PathwayTestCase, PathwayTestCaseAdmin)
admin.site.register(GuidanceNote, GuidanceNoteAdmin)
admin.site.register(Walk, WalkAdmin)
install(admin.site)
