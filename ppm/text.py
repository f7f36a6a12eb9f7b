"""Rules for text people type, shared by every capability."""

from __future__ import annotations

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
