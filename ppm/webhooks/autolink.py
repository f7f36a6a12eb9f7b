"""Task keys named in a pull or merge request (SPEC §20): text in, keys and intent out. Pure: no
database, no Flask; every step is one pass over the text (no regular expression here can
backtrack more than a few characters), so 1 MiB of hostile text costs milliseconds, not minutes.

Where keys are read: the head branch name and the title (every key there closes the task), and
the body (a key right after a closing word closes, with every key of a list that follows it;
any other mention only mentions). In the body, fenced code blocks, quoted lines and code spans
are skipped; everywhere, web addresses and e-mail addresses are skipped (`WEB-1` in another
site's URL is not a reference), and so is a key that is part of a version number (`V2-3.1`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

MAX_KEYS = 50

CLOSING_WORDS = (
    "close closes closed closing fix fixes fixed fixing resolve resolves resolved resolving "
    "complete completes completed completing"
).split()
NEGATIONS = ("not", "no", "don't", "doesn't", "won't", "never")

_CLOSING = frozenset(CLOSING_WORDS)
_LONGEST_CLOSING = max(len(word) for word in CLOSING_WORDS)
_LONGEST_NEGATION = max(len(word) for word in NEGATIONS)
_LOOK_BACK = 40  # characters before a key searched for a closing word (the longest fits easily)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
# Each alternative starts only where its first run starts (the look-behinds) and its runs are
# possessive, so no position of the text is tried twice: linear in the length of the text.
_URL_CHARS = r"[^\s<>\"'`()\[\]{}|\\^]"
_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://" + _URL_CHARS + r"*+"
    r"|(?<![A-Za-z0-9.])www\." + _URL_CHARS + r"*+"
    r"|(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++"
)
# A key-shaped token of any project, for lists that name keys of several projects.
_ANY_KEY = r"[A-Za-z][A-Za-z0-9]{1,9}-[0-9]+"
_SEPARATOR = r"[ \t]*+(?:,[ \t]*+(?:(?:and|&)[ \t]++)?|(?:and|&)[ \t]++)"
# Between two keys of one list: separators, perhaps around keys of other projects.
_LIST_GAP = re.compile(_SEPARATOR + r"(?:" + _ANY_KEY + _SEPARATOR + r")*", re.ASCII | re.IGNORECASE)
_LIST_REACH = 200  # how far apart two keys of one list may be


def _key_pattern(prefixes: Collection[str]) -> re.Pattern[str]:
    """The keys of these project keys (any letter case): no letter or digit right before or
    after (Unicode's idea of them), no `.` before and no `.digit` after (a version number), and
    a number from 1 with no leading zero."""
    cased = [
        "".join(f"[{char.upper()}{char.lower()}]" if char.isalpha() else re.escape(char) for char in prefix)
        for prefix in sorted(prefixes, key=len, reverse=True)
    ]
    return re.compile(r"(?<![^\W_])(?<!\.)(" + "|".join(cased) + r")-([1-9][0-9]{0,8})(?![^\W_])(?!\.[0-9])")


@dataclass(frozen=True)
class Reference:
    key: str  # upper-case, as named: "WEB-12" (a former project key stays as written)
    prefix: str  # the project key part: "WEB"
    number: int
    closes: bool


# --- skipping what is not prose -------------------------------------------------------


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each (start, end) span replaced by spaces (positions stay where they were)."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in spans:
        if start < at:
            start = at
        if end <= start:
            continue
        parts.append(text[at:start])
        parts.append(" " * (end - start))
        at = end
    parts.append(text[at:])
    return "".join(parts)


def _address_spans(text: str) -> list[tuple[int, int]]:
    """Web addresses (`scheme://…`, `www.…`) and e-mail addresses, in order, not overlapping."""
    return [match.span() for match in _ADDRESS.finditer(text)]


def _code_span_spans(paragraph: str, offset: int) -> list[tuple[int, int]]:
    """Code spans of one paragraph: a run of backticks up to the next run of the same length."""
    runs = [(match.start(), match.end()) for match in _BACKTICKS.finditer(paragraph)]
    following: list[int] = [-1] * len(runs)
    last_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        following[index] = last_of_length.get(length, -1)
        last_of_length[length] = index
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        closer = following[index]
        if closer < 0:
            index += 1
            continue
        spans.append((offset + runs[index][0], offset + runs[closer][1]))
        index = closer + 1
    return spans


def _prose_of_body(body: str) -> str:
    """The body with fenced code blocks, quoted lines and code spans blanked out."""
    lines = body.splitlines(keepends=True)
    kept: list[str] = []
    fence = ""
    for line in lines:
        if fence:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = ""
            kept.append("\n")
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            kept.append("\n")
        elif line.lstrip().startswith(">"):
            kept.append("\n")
        else:
            kept.append(line)
    text = "".join(kept)
    text = _blank(text, _address_spans(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for blank_line in re.finditer(r"\n[ \t]*\n", text):
        spans.extend(_code_span_spans(text[start : blank_line.start()], start))
        start = blank_line.end()
    spans.extend(_code_span_spans(text[start:], start))
    return _blank(text, spans)


def _prose_of_line(text: str) -> str:
    """A branch name or title: only addresses are skipped."""
    return _blank(text, _address_spans(text))


# --- finding keys ---------------------------------------------------------------------


def _word_before(text: str, end: int, longest: int) -> tuple[str, int] | None:
    """The word ending at `end` (letters and apostrophes, at most `longest` of them, with no
    letter or digit right before it) and where it starts; None when there is none."""
    start = end
    while start > 0 and end - start <= longest and (text[start - 1].isalpha() or text[start - 1] in "'’"):
        start -= 1
    if start == end or end - start > longest or (start > 0 and text[start - 1].isalnum()):
        return None
    return text[start:end].lower().replace("’", "'"), start


def _spaces_before(text: str, end: int, low: int) -> int:
    while end > low and text[end - 1] in " \t":
        end -= 1
    return end


def _closing_before(text: str, start: int) -> bool:
    """Whether a closing word stands right before `start` (then an optional `:`, then spaces),
    not itself right after a negation. Walks back a bounded number of characters."""
    low = max(0, start - _LOOK_BACK)
    end = _spaces_before(text, start, low)
    if end > 0 and text[end - 1] == ":":
        end -= 1
    elif end == start:
        return False
    word = _word_before(text, end, _LONGEST_CLOSING)
    if word is None or word[0] not in _CLOSING:
        return False
    word_start = word[1]
    gap_start = _spaces_before(text, word_start, max(0, word_start - _LOOK_BACK))
    if gap_start == word_start:
        return True
    negation = _word_before(text, gap_start, _LONGEST_NEGATION)
    return negation is None or negation[0] not in NEGATIONS


Occurrence = tuple[int, int, str, int, bool]  # start, end, upper-case prefix, number, closes


def _occurrences(text: str, pattern: re.Pattern[str], *, body: bool) -> list[Occurrence]:
    """The keys of the prose, each with whether it closes: every one in a branch name or title;
    in a body, one right after a closing word, or in a list that follows a closing key."""
    found: list[Occurrence] = []
    previous_end = -1
    previous_closes = False
    for match in pattern.finditer(text):
        start, end = match.span()
        if not body:
            closes = True
        else:
            closes = (
                previous_closes
                and start - previous_end <= _LIST_REACH
                and _LIST_GAP.fullmatch(text, previous_end, start) is not None
            ) or _closing_before(text, start)
        found.append((start, end, match.group(1).upper(), int(match.group(2)), closes))
        previous_end, previous_closes = end, closes
    return found


def find_references(
    branch: str, title: str, body: str, prefixes: Collection[str], limit: int = MAX_KEYS
) -> list[Reference]:
    """The keys of a project (`prefixes`: its current and former keys) that a pull or merge
    request names, at most `limit` distinct ones in order of first appearance (branch, title,
    body), each closing if any of its occurrences closes."""
    wanted = {prefix.upper() for prefix in prefixes if prefix}
    if not wanted:
        return []
    pattern = _key_pattern(wanted)
    occurrences = _occurrences(_prose_of_line(branch or ""), pattern, body=False)
    occurrences += _occurrences(_prose_of_line(title or ""), pattern, body=False)
    occurrences += _occurrences(_prose_of_body(body or ""), pattern, body=True)
    closes: dict[tuple[str, int], bool] = {}
    for _start, _end, prefix, number, closing in occurrences:
        key = (prefix, number)
        if key in closes:
            closes[key] = closes[key] or closing
        elif len(closes) < limit:
            closes[key] = closing
    return [Reference(f"{prefix}-{number}", prefix, number, closing) for (prefix, number), closing in closes.items()]
