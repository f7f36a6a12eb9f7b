"""Project keys and task keys (SPEC §20): pure rules, no database.

A project key is 2 to 10 characters, a letter then letters or digits, stored upper-case. A task's
key is `{PROJECT KEY}-{number}`; its branch name is the key in lower case and the slug of its name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

KEY_MIN = 2
KEY_MAX = 10
FALLBACK_KEY = "PRJ"
BRANCH_MAX = 60

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]{1,9}")
# A task reference: a project key, a dash and a number (any letter case).
_TASK_KEY = re.compile(r"([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})")
_WORD = re.compile(r"[A-Za-z0-9]+")


def valid_key(value: str) -> bool:
    return _KEY.fullmatch(value) is not None


def normal_key(value: str) -> str:
    return value.strip().upper()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _leading_letter(text: str) -> str:
    """The text from its first letter on (a key starts with a letter)."""
    for index, char in enumerate(text):
        if char.isalpha():
            return text[index:]
    return ""


def key_base(name: str) -> str:
    """The key a project's name suggests before checking it is free: the initials of its words
    (two or more of them), else its first three letters and digits, else `PRJ`."""
    words = _WORD.findall(_ascii(name))
    initials = _leading_letter("".join(word[0] for word in words))[:KEY_MAX].upper()
    if len(words) >= 2 and len(initials) >= KEY_MIN:
        return initials
    letters = _leading_letter("".join(words))[:3].upper()
    return letters if len(letters) >= KEY_MIN else FALLBACK_KEY


def derive_key(name: str, taken: Container[str]) -> str:
    """A free key for a project called `name`: the base, then base + 2, 3, … (cut to fit)."""
    base = key_base(name)
    if base not in taken:
        return base
    suffix = 2
    while True:
        text = str(suffix)
        candidate = base[: KEY_MAX - len(text)] + text
        if candidate not in taken:
            return candidate
        suffix += 1


def task_key(project_key: str, number: int) -> str:
    return f"{project_key}-{number}"


def split_task_key(value: str) -> tuple[str, int] | None:
    """(upper-case project key, number) of a task key like `web-12`, or None."""
    found = _TASK_KEY.fullmatch(value.strip())
    if found is None:
        return None
    return found.group(1).upper(), int(found.group(2))


def branch_name(key: str, name: str) -> str:
    """`{key lower-case}-{name slug}`, at most 60 characters, cut at a `-` (SPEC §20)."""
    words = [word.lower() for word in _WORD.findall(_ascii(name))]
    whole = "-".join([key.lower(), *words])
    if len(whole) <= BRANCH_MAX:
        return whole
    cut = whole[: BRANCH_MAX + 1]
    dash = cut.rfind("-")
    # Never shorter than the key itself.
    return cut[:dash] if dash >= len(key) else whole[:BRANCH_MAX]
