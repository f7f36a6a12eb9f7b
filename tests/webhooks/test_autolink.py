"""The key parser (SPEC §20) on its own: a table of cases (§20's examples and false friends),
and properties over any text (never raises, only keys that are in the text, bounded time)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppm.webhooks.autolink import MAX_KEYS, find_references

KEYS = {"WEB", "OLD"}


def refs(branch: str = "", title: str = "", body: str = "") -> dict[str, bool]:
    return {ref.key: ref.closes for ref in find_references(branch, title, body, KEYS)}


@pytest.mark.parametrize(
    ("branch", "title", "body", "expected"),
    [
        # §20: where a key stands alone
        ("feature/web-12-buttons", "", "", {"WEB-12": True}),
        ("web-12-buttons", "", "", {"WEB-12": True}),
        ("", "[WEB-12] Buttons", "", {"WEB-12": True}),
        ("", "Buttons (web-12)", "", {"WEB-12": True}),
        ("", "", "See (web-12) and [WEB-13].", {"WEB-12": False, "WEB-13": False}),
        ("xweb-12", "XWEB-12 WEB-123x", "WEB-12x XWEB-12", {}),
        ("", "", "WEB-123", {"WEB-123": False}),
        ("", "", "see WEB-12, WEB-123", {"WEB-12": False, "WEB-123": False}),
        ("", "", "éWEB-12 WEB-12é WEB_3", {}),
        ("", "", "feature_web-12 done", {"WEB-12": False}),
        # former keys resolve too; keys of other projects are ignored
        ("", "", "OLD-4 and API-5", {"OLD-4": False}),
        # closing words, any case, optional colon, then spaces
        ("", "", "Fixes WEB-1", {"WEB-1": True}),
        ("", "", "closes: WEB-1", {"WEB-1": True}),
        ("", "", "RESOLVED:WEB-1", {"WEB-1": True}),
        ("", "", "Completing  WEB-1", {"WEB-1": True}),
        ("", "", "fixed\tWEB-1", {"WEB-1": True}),
        ("", "", "prefix WEB-1", {"WEB-1": False}),
        ("", "", "fixes the WEB-1 bug", {"WEB-1": False}),
        # lists after a closing word
        ("", "", "Fixes WEB-1, WEB-2 and WEB-3", {"WEB-1": True, "WEB-2": True, "WEB-3": True}),
        ("", "", "Closes WEB-1, API-9, and WEB-3", {"WEB-1": True, "WEB-3": True}),
        ("", "", "Fixes WEB-1 & WEB-2", {"WEB-1": True, "WEB-2": True}),
        ("", "", "Fixes WEB-1. Also see WEB-2", {"WEB-1": True, "WEB-2": False}),
        ("", "", "Fixes WEB-1 see WEB-2", {"WEB-1": True, "WEB-2": False}),
        # negations
        ("", "", "This does not fix WEB-1", {"WEB-1": False}),
        ("", "", "no fix WEB-1", {"WEB-1": False}),
        ("", "", "don't close WEB-1, WEB-2", {"WEB-1": False, "WEB-2": False}),
        ("", "", "It doesn’t resolve WEB-1", {"WEB-1": False}),
        ("", "", "won't complete WEB-1; never fixes WEB-2", {"WEB-1": False, "WEB-2": False}),
        ("", "", "nothing fixes WEB-1", {"WEB-1": True}),
        # a closing occurrence anywhere wins; branch and title always close
        ("", "", "see WEB-1\n\nFixes WEB-1", {"WEB-1": True}),
        ("", "Don't fix WEB-1", "", {"WEB-1": True}),
        # skipped inside the body: code spans, fenced blocks, quoted lines
        ("", "", "Run `fix WEB-1` first", {}),
        ("", "", "Run ``a ` WEB-1`` then WEB-2", {"WEB-2": False}),
        ("", "", "```\nFixes WEB-1\n```\nFixes WEB-2", {"WEB-2": True}),
        ("", "", "~~~~python\nWEB-1\n~~~~\n", {}),
        ("", "", "```\nWEB-1 never closed", {}),
        ("", "", "> Fixes WEB-1\nFixes WEB-2", {"WEB-2": True}),
        ("", "", "   > WEB-1", {}),
        ("", "", "a ` stray backtick\n\nFixes WEB-3 `x`", {"WEB-3": True}),
        # false friends: another site's address, e-mail addresses, version numbers
        ("", "", "https://jira.example.com/browse/WEB-1", {}),
        ("", "", "see [WEB-2](https://example.com/WEB-1)", {"WEB-2": False}),
        ("", "", "www.example.com/web-1/page", {}),
        ("", "See https://example.com/WEB-1 for WEB-12", "", {"WEB-12": True}),
        ("", "", "mail web-1@example.com or dev@web-2.example.com", {}),
        ("", "", "bump to WEB-1.2.0 and v.WEB-3", {}),
        ("", "", "WEB-1. The end", {"WEB-1": False}),
        ("", "", "Fixes WEB-0 and WEB-012", {}),
    ],
)
def test_cases(branch: str, title: str, body: str, expected: dict[str, bool]) -> None:
    assert refs(branch, title, body) == expected


def test_version_numbers_are_not_keys_of_a_project_named_like_a_version() -> None:
    found = find_references("", "Release V2-3.1", "upgrade to v2-3.4.5 and 1.V2-3", {"V2"})
    assert found == []
    assert [r.key for r in find_references("", "", "V2-3 done", {"V2"})] == ["V2-3"]


def test_order_of_first_appearance_and_at_most_fifty() -> None:
    body = " ".join(f"WEB-{n}" for n in range(60, 0, -1))
    found = find_references("web-7-x", "", body, KEYS)
    assert len(found) == MAX_KEYS
    assert [r.key for r in found[:3]] == ["WEB-7", "WEB-60", "WEB-59"]
    assert found[0].closes and not found[1].closes
    assert "WEB-1" not in {r.key for r in found}


def test_a_key_past_the_limit_does_not_take_a_place_but_a_known_key_can_still_close() -> None:
    body = " ".join(f"WEB-{n}" for n in range(1, 51)) + " WEB-99 fixes WEB-3"
    found = {r.key: r.closes for r in find_references("", "", body, KEYS)}
    assert "WEB-99" not in found and found["WEB-3"] is True


texts = st.text(alphabet=st.sampled_from(list("WEBOLDweb-12x0 ,.:`>\n~@/&")) | st.characters(), max_size=300)


@settings(max_examples=300, deadline=None)
@given(branch=texts, title=texts, body=texts)
def test_never_raises_and_only_returns_keys_in_the_text(branch: str, title: str, body: str) -> None:
    found = find_references(branch, title, body, KEYS)
    whole = f"{branch}\n{title}\n{body}".upper()
    assert len(found) <= MAX_KEYS
    assert len({r.key for r in found}) == len(found)
    for ref in found:
        assert ref.key in whole
        assert ref.prefix in KEYS and ref.number >= 1


@settings(max_examples=5, deadline=None)
@given(chunk=st.text(alphabet=st.sampled_from(list("WEBweb-1, fix`>\n@:/.w")), min_size=1, max_size=40))
def test_one_mebibyte_takes_bounded_time(chunk: str) -> None:
    text = (chunk * ((1 << 20) // len(chunk) + 1))[: 1 << 20]
    started = time.monotonic()
    find_references(text, text, text, KEYS)
    # Generous (a shared, loaded machine): a backtracking parser takes minutes here.
    assert time.monotonic() - started < 60
