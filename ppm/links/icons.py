"""Small inline SVG icons for link statuses: each status has its own shape as well as its
colour, so colour is never the only signal (SPEC §8). Shapes draw in `currentColor`."""

from __future__ import annotations

from markupsafe import Markup

_SHAPES = {
    "closed": '<path d="M2.5 2.5l7 7M9.5 2.5l-7 7" fill="none" stroke="currentColor" stroke-width="2"/>',
    "draft": '<circle cx="6" cy="6" r="4" fill="none" stroke="currentColor" stroke-width="1.8" '
    'stroke-dasharray="2.2 1.6"/>',
    "open": '<circle cx="6" cy="6" r="4" fill="none" stroke="currentColor" stroke-width="2"/>',
    "merged": '<path d="M2 6.5l2.6 2.6L10 3.5" fill="none" stroke="currentColor" stroke-width="2"/>',
    "unknown": '<path d="M2.5 6h7" fill="none" stroke="currentColor" stroke-width="2"/>',
}
LINK_GLYPH_SHAPE = Markup(  # 16×16 units
    '<path d="M6.5 9.5l3-3M7.2 4.3l1.1-1.1a2.6 2.6 0 0 1 3.7 3.7l-1.1 1.1M8.8 11.7l-1.1 1.1a2.6 2.6 0 0 1'
    '-3.7-3.7l1.1-1.1" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>'
)
LINK_GLYPH = Markup(  # noqa: S704 - constant markup
    '<svg class="icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
    f"{LINK_GLYPH_SHAPE}</svg>"
)


def status_shape(status: str) -> Markup:
    """The bare shape (12×12 units), for use inside an SVG such as the Gantt chart."""
    return Markup(_SHAPES.get(status, _SHAPES["unknown"]))  # noqa: S704 - constant markup


def status_icon(status: str) -> Markup:
    """The shape as a standalone decorative icon, for HTML."""
    return icon(status_shape(status))


def icon(shape: Markup) -> Markup:
    """A 12×12 shape as a standalone decorative icon (link statuses, review and CI)."""
    return Markup(  # noqa: S704 - constant markup
        '<svg class="icon" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false">'
        f"{shape}</svg>"
    )
