"""Rules for text people type, shared by every capability."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppm.errors import ValidationCollector

# Characters that reorder displayed text: they can make a label read differently than it is.
_BIDI_CONTROLS = {*(chr(c) for c in range(0x202A, 0x202F)), *(chr(c) for c in range(0x2066, 0x206A))}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as typed text, or None. Refuses control characters (NUL
    included: PostgreSQL cannot store it), lone surrogates and bidirectional overrides."""
    for ch in value:
        code = ord(ch)
        if (code < 32 and not (multiline and ch in "\t\n\r")) or code == 127:
            return "must not contain control characters"
        if 0xD800 <= code <= 0xDFFF:
            return "contains a character that is not valid text"
        if ch in _BIDI_CONTROLS:
            return "must not contain text-direction control characters"
    return None


def unreadable(value: str) -> bool:
    """NUL and other control characters (tab and line breaks aside) or a lone surrogate: no
    field or id of ppm holds them, and PostgreSQL can neither store NUL nor encode a surrogate."""
    for ch in value:
        code = ord(ch)
        if (code < 32 and ch not in "\t\n\r") or code == 127 or 0xD800 <= code <= 0xDFFF:
            return True
    return False


def unreadable_field(data: object) -> str | None:
    """The top-level field of a parsed JSON body whose value (at any depth: lists, nested
    objects, their keys) holds characters `unreadable` refuses; "body" for a bad top-level key
    or a bare string body; None when all is readable."""
    if not isinstance(data, dict):
        return "body" if _holds_unreadable(data) else None
    for key, value in data.items():
        if unreadable(str(key)):
            return "body"
        if _holds_unreadable(value):
            return str(key)
    return None


def _holds_unreadable(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unreadable(item):
                return True
        elif isinstance(item, dict):
            if any(unreadable(str(key)) for key in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def readable_object(
    data: Any, shape: str = "Send a JSON object with Content-Type: application/json."
) -> Mapping[str, Any]:
    """The body a write service works on: a JSON object (or a form's dict) whose strings, at
    any depth, hold no NUL, control character or lone surrogate, else a 400 naming the field.
    The one place request text is checked (SPEC §19); services call it after routing the
    project and checking the role (SPEC §12's order of refusals)."""
    errors = ValidationCollector()
    if not isinstance(data, Mapping):
        errors.add("body", shape)
        errors.raise_if_any()
    field = unreadable_field(dict(data))
    if field is not None:
        errors.add(field, "This contains a character that is not allowed (a control character or an invalid one).")
        errors.raise_if_any()
    return data
