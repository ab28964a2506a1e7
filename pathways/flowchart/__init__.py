"""Draw a pathway version as an SVG flowchart, optionally with one walk's path highlighted.

``layout`` places the graph (pure Python, cached per graph), ``highlight`` works out what one walk
marks, and ``svg`` writes the markup.
"""

from __future__ import annotations

from .layout import MAX_LINES, Band, Box, Layout, Link, _wrap, layout
from .svg import legend_states, render

__all__ = ["MAX_LINES", "Band", "Box", "Layout", "Link", "_wrap", "layout", "legend_states", "render"]
