"""Draw a pathway version as an SVG flowchart, optionally with one walk's path highlighted.

``layout`` places the graph with Graphviz's dot (cached per graph), ``labels`` words the arrows'
criteria and what tells boxes of one title apart, ``highlight`` works out what one walk marks, and
``svg`` writes the markup.
"""

from __future__ import annotations

from .layout import MAX_LINES, Band, Box, Layout, LayoutUnavailable, Link, layout, wrap
from .svg import legend_states, render

__all__ = [
    "MAX_LINES",
    "Band",
    "Box",
    "Layout",
    "LayoutUnavailable",
    "Link",
    "layout",
    "legend_states",
    "render",
    "wrap",
]
