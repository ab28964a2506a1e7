from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .. import fragments, stencil
from ..messages import current_language
from ..rendering import render_markdown, safe_href

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text or "")


@register.filter(name="safe_href")
def safe_href_filter(url: str) -> str:
    """The URL if it may be a link (https, mailto, in-page anchor), else an empty string."""
    return safe_href(url)


@register.simple_tag
def recommendation(rec: Any, folded: bool = False) -> SafeString:
    """``pathways/_rec.html`` for ``rec``, rendered once per distinct recommendation and language.

    Every step re-renders all the recommendations given so far, each with its why-trace; they
    only change when the path before them does, so most are the same as on the previous step.
    The key is the whole (frozen) view of the recommendation, so a changed one renders anew.
    ``folded``: only the title shows until it is opened (the workup done along the way).
    """
    if settings.DEBUG:  # templates reload while developing
        return render_to_string("pathways/_rec.html", {"rec": rec, "folded": folded})
    try:
        return _rendered_recommendation(rec, current_language(), folded)
    except TypeError:  # not hashable: render without the cache
        return render_to_string("pathways/_rec.html", {"rec": rec, "folded": folded})


@lru_cache(maxsize=4096)
def _rendered_recommendation(rec: Any, language: str | None, folded: bool) -> SafeString:
    return render_to_string("pathways/_rec.html", {"rec": rec, "folded": folded})


@stencil.hole(register, "step_form")
def step_form(context: Any) -> SafeString:
    """The step's form (crispy, with the form's helper); see :func:`pathways.fragments.step_form`."""
    return fragments.step_form_in(context)


@stencil.hole(register, "progress")
def progress(context: Any) -> SafeString:
    """``pathways/_progress.html``, rendered once per snapshot, language and state of the stages."""
    stages = context["stages"]
    if not fragments.caching():
        return render_to_string("pathways/_progress.html", {"stages": stages})
    key = ("progress", tuple((stage["key"], stage["state"]) for stage in stages))
    return fragments.cached(
        context["snapshot"],
        key,
        lambda: fragments.tidy_safe(render_to_string("pathways/_progress.html", {"stages": stages})),
    )


@stencil.hole(register, "resumed_notice")
def resumed_notice(context: Any) -> SafeString:
    """The warning on a walk reopened after a pause (``pathways/_resumed.html``), else nothing."""
    if not context["resumed"]:
        return SafeString()
    names = ("resumed", "walk", "pathway")
    html = render_to_string("pathways/_resumed.html", {name: context[name] for name in names})
    return fragments.tidy_safe(html) if fragments.caching() else html  # as the step's swap is tidied


@stencil.hole(register, "notices")
def notices(context: Any) -> SafeString:
    """What the last answer changed and converted (``pathways/_changed.html``), else nothing."""
    return fragments.notices(context["changes"], context["conversions"])


@stencil.hole(register, "trail_items")
def trail_items(context: Any) -> SafeString:
    """The answers given so far, one ``pathways/_trail_item.html`` each."""
    # The step page is tidied, the result page (which lists the trail too) is not.
    return fragments.trail_items(context["trail"], tidied=context.get("node") is not None)


@stencil.hole(register, "recs_so_far")
def recs_so_far(context: Any) -> SafeString:
    """The recommendations given so far by section (``pathways/_recs_so_far.html``)."""
    return fragments.recs_so_far(context["snapshot"], context["recommendations"])


@register.simple_tag(takes_context=True)
def step_references(context: Any) -> SafeString:
    """``pathways/_references.html`` for a step (every reference of the version, none marked
    uncited), rendered once per snapshot and language."""
    if not fragments.caching():
        return _included(context, "pathways/_references.html")
    snapshot = context["snapshot"]

    def build() -> SafeString:
        references = list(snapshot.references.values())
        return fragments.tidy_safe(render_to_string("pathways/_references.html", {"references": references}))

    return fragments.cached(snapshot, "references", build)


def _included(context: Any, name: str) -> SafeString:
    """``name`` rendered as ``{% include %}`` renders it (the whole context): the reference the
    cached fragments, rendered from only what they need, are compared with."""
    return mark_safe(context.template.engine.get_template(name).render(context))  # noqa: S308 - a template's output
