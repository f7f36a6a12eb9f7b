"""The share-page parser (SPEC §7): a table of real-world-shaped pages from the four hosts,
missing and duplicate tags, relative images, hostile values and declared charsets; it never
raises, whatever the bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm.integrations.previews import (
    DESCRIPTION_MAX,
    THUMBNAIL_URL_MAX,
    TITLE_MAX,
    SharePage,
    clean_text,
    clean_thumbnail_url,
    decode_body,
    parse_share_page,
)
from tests.previews.conftest import html_page, og

DRIVE = "https://drive.google.com/file/d/1AbCdEf/view?usp=sharing"
DOCS = "https://docs.google.com/spreadsheets/d/1XyZ/edit?usp=sharing"
DROPBOX = "https://www.dropbox.com/scl/fi/k3j2h/plan.pdf?rlkey=abc&dl=0"
BOX = "https://app.box.com/s/9z8y7x6w"
ONEDRIVE = "https://onedrive.live.com/?cid=ABC123&id=ABC123%21104&authkey=%21AFx"
SHAREPOINT = "https://acme-my.sharepoint.com/:x:/g/personal/ann_acme_com/EaBcD?e=Xy12"

# --- real-world-shaped share pages ------------------------------------------------------------

GOOGLE_DRIVE_PAGE = """<!DOCTYPE html><html lang="en" dir="ltr"><head>
<meta name="google" content="notranslate"><meta http-equiv="X-UA-Compatible" content="IE=edge;">
<meta name="referrer" content="origin"><title>Q3 budget.pdf - Google Drive</title>
<meta property="og:title" content="Q3 budget.pdf"><meta property="og:type" content="article">
<meta property="og:site_name" content="Google Docs">
<meta property="og:url" content="https://drive.google.com/file/d/1AbCdEf/view?usp=sharing&amp;usp=embed_facebook">
<meta property="og:image" content="https://lh7-us.googleusercontent.com/docs/AHkbwyKx=w1200-h630-p">
<meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="shortcut icon" href="https://ssl.gstatic.com/images/branding/product/1x/drive_2020q4_32dp.png">
<script nonce="x">window.WIZ_global_data = {"a": "<title>not this</title>"};</script>
</head><body><div class="ndfHFb-c4YZDc"><a class="gb_Aa" target="_top"
href="https://accounts.google.com/ServiceLogin?service=wise&amp;passive=1209600&amp;continue=https://drive.google.com/file/d/1AbCdEf/view">
Sign in</a></div><noscript><img src="https://drive.google.com/thumbnail?id=1AbCdEf"></noscript></body></html>"""

GOOGLE_SHEETS_PAGE = """<!DOCTYPE html><html lang="en-GB"><head>
<meta name="referrer" content="strict-origin-when-cross-origin">
<meta property="og:title" content="Launch checklist"><meta property="og:type" content="article">
<meta property="og:site_name" content="Google Docs">
<meta property="og:image" content="https://lh3.googleusercontent.com/docs/ADP-xyz=w1200-h630-p">
<meta property="og:description" content="Sheet1&#10;Task,Owner,Done&#10;Write the plan,Ann,TRUE">
<meta name="google" content="notranslate"><title>Launch checklist - Google Sheets</title>
<meta name="description" content="not the og one"></head><body><div id="docs-editor"></div></body></html>"""

DROPBOX_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta property="og:site_name" content="Dropbox"/><meta property="og:title" content="plan.pdf"/>
<meta property="og:description" content="Shared with Dropbox"/>
<meta property="og:url" content="https://www.dropbox.com/scl/fi/k3j2h/plan.pdf?rlkey=abc&amp;dl=0"/>
<meta property="og:image" content="https://www.dropbox.com/temp_thumb_from_token/s/k3j2h?preserve_transparency=False&amp;size=1200x1200&amp;size_mode=4"/>
<meta name="twitter:card" content="summary_large_image"/><meta name="twitter:site" content="@Dropbox"/>
<meta name="twitter:title" content="twitter title loses"/>
<title>Dropbox - plan.pdf - Simplify your life</title></head>
<body><header><a href="/login">Log in</a><a href="/register">Sign up</a></header>
<div id="embedded-app"></div></body></html>"""

BOX_PAGE = """<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">
<title>Box | Roadmap 2025.pptx</title>
<meta name="description" content="Box is the Content Cloud: one secure platform for your content">
<meta property="og:title" content="Roadmap 2025.pptx"><meta property="og:site_name" content="Box">
<meta property="og:image:secure_url" content="https://app.box.com/representation/file_version_123/image_2048_jpg/1.jpg?shared_name=9z8y7x6w">
<meta property="og:image" content="http://app.box.com/representation/insecure.jpg">
<meta name="twitter:card" content="summary"><meta name="robots" content="noindex">
</head><body><div id="app" data-reactroot=""></div></body></html>"""

ONEDRIVE_PAGE = """<!DOCTYPE html><html dir="ltr"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="Budget 2025.xlsx">
<meta name="twitter:description" content="Excel workbook shared from OneDrive">
<meta name="twitter:image" content="https://southcentralus1-mediap.svc.ms/transform/thumbnail?provider=spo&amp;inputFormat=xlsx&amp;cs=fFNQTw&amp;w=1200">
<title>Budget 2025.xlsx</title></head><body><div id="root"></div></body></html>"""

SHAREPOINT_PAGE = """<html><head><title>Quarterly review.docx</title>
<meta name="description" content="Word document on Acme SharePoint">
<meta property="og:image" content="/_layouts/15/getpreview.ashx?path=/personal/ann/Documents/review.docx">
</head><body></body></html>"""

PAGES: list[tuple[str, str, str, SharePage]] = [
    (
        "google-drive-file",
        DRIVE,
        GOOGLE_DRIVE_PAGE,
        SharePage("Q3 budget.pdf", "", "https://lh7-us.googleusercontent.com/docs/AHkbwyKx=w1200-h630-p"),
    ),
    (
        "google-sheets",
        DOCS,
        GOOGLE_SHEETS_PAGE,
        SharePage(
            "Launch checklist",
            "Sheet1 Task,Owner,Done Write the plan,Ann,TRUE",
            "https://lh3.googleusercontent.com/docs/ADP-xyz=w1200-h630-p",
        ),
    ),
    (
        "dropbox",
        DROPBOX,
        DROPBOX_PAGE,
        SharePage(
            "plan.pdf",
            "Shared with Dropbox",
            "https://www.dropbox.com/temp_thumb_from_token/s/k3j2h?preserve_transparency=False&size=1200x1200"
            "&size_mode=4",
        ),
    ),
    (
        "box-secure-url-first",
        BOX,
        BOX_PAGE,
        SharePage(
            "Roadmap 2025.pptx",
            "Box is the Content Cloud: one secure platform for your content",
            "https://app.box.com/representation/file_version_123/image_2048_jpg/1.jpg?shared_name=9z8y7x6w",
        ),
    ),
    (
        "onedrive-twitter-card-only",
        ONEDRIVE,
        ONEDRIVE_PAGE,
        SharePage(
            "Budget 2025.xlsx",
            "Excel workbook shared from OneDrive",
            "https://southcentralus1-mediap.svc.ms/transform/thumbnail?provider=spo&inputFormat=xlsx&cs=fFNQTw&w=1200",
        ),
    ),
    (
        "sharepoint-title-and-relative-image",
        SHAREPOINT,
        SHAREPOINT_PAGE,
        SharePage(
            "Quarterly review.docx",
            "Word document on Acme SharePoint",
            "https://acme-my.sharepoint.com/_layouts/15/getpreview.ashx?path=/personal/ann/Documents/review.docx",
        ),
    ),
]


@pytest.mark.parametrize(("page_url", "body", "expected"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_share_pages_of_the_four_hosts(page_url: str, body: str, expected: SharePage) -> None:
    assert parse_share_page(body.encode(), page_url, "text/html; charset=utf-8") == expected


# --- precedence, missing and duplicate tags ---------------------------------------------------

PAGE = "https://www.dropbox.com/s/abc/notes.txt"


def card(body: str | bytes, page_url: str = PAGE, content_type: str = "text/html") -> SharePage:
    return parse_share_page(body.encode() if isinstance(body, str) else body, page_url, content_type)


@pytest.mark.parametrize(
    ("head", "title"),
    [
        ([og("og:title", "OG"), og("twitter:title", "TW")], "OG"),
        ([og("twitter:title", "TW"), og("og:title", "OG")], "OG"),
        ([og("twitter:title", "TW")], "TW"),
        ([], "Element"),
    ],
)
def test_title_precedence(head: list[str], title: str) -> None:
    assert card(html_page(*head, title="Element")).title == title


@pytest.mark.parametrize(
    ("head", "description"),
    [
        ([og("description", "MD"), og("twitter:description", "TW"), og("og:description", "OG")], "OG"),
        ([og("description", "MD"), og("twitter:description", "TW")], "TW"),
        ([og("description", "MD")], "MD"),
        ([], ""),
    ],
)
def test_description_precedence(head: list[str], description: str) -> None:
    assert card(html_page(*head)).description == description


@pytest.mark.parametrize(
    ("head", "image"),
    [
        (
            [
                og("twitter:image", "https://t.example/t.png"),
                og("og:image", "https://o.example/o.png"),
                og("og:image:secure_url", "https://s.example/s.png"),
            ],
            "https://s.example/s.png",
        ),
        (
            [og("twitter:image", "https://t.example/t.png"), og("og:image", "https://o.example/o.png")],
            "https://o.example/o.png",
        ),
        ([og("twitter:image", "https://t.example/t.png")], "https://t.example/t.png"),
        # An unusable value of a better key gives way to the next key.
        (
            [og("og:image", "http://o.example/o.png"), og("twitter:image", "https://t.example/t.png")],
            "https://t.example/t.png",
        ),
        ([], ""),
    ],
)
def test_image_precedence(head: list[str], image: str) -> None:
    assert card(html_page(*head)).thumbnail_url == image


def test_first_occurrence_of_each_key_wins() -> None:
    page = (
        html_page(
            og("og:title", "First"),
            og("og:title", "Second"),
            og("og:description", "One"),
            og("og:description", "Two"),
            og("og:image", "https://a.example/1.png"),
            og("og:image", "https://a.example/2.png"),
            title="T1",
        )
        + "<title>T2</title>"
    )
    assert card(page) == SharePage("First", "One", "https://a.example/1.png")
    assert card(html_page(title="T1") + "<title>T2</title>").title == "T1"


def test_first_occurrence_wins_even_when_it_is_an_unusable_image() -> None:
    page = html_page(og("og:image", "javascript:alert(1)"), og("og:image", "https://a.example/2.png"))
    assert card(page).thumbnail_url == ""


def test_property_and_name_attributes_and_key_case_are_all_read() -> None:
    page = html_page(
        '<meta name="og:title" content="by name">',
        '<meta property="OG:Description" content="upper">',
        '<meta content="https://a.example/i.png" property="og:image">',
    )
    assert card(page) == SharePage("by name", "upper", "https://a.example/i.png")


def test_blank_values_do_not_count() -> None:
    page = html_page(
        og("og:title", "  "),
        og("og:title", "Real"),
        '<meta property="og:description">',
        og("twitter:description", "tw"),
        title="T",
    )
    assert card(page) == SharePage("Real", "tw", "")


def test_no_metadata_at_all_is_an_empty_card() -> None:
    assert card("<html><head></head><body><p>Hello</p></body></html>") == SharePage()


def test_meta_in_the_body_and_title_outside_head_are_still_read() -> None:
    page = "<html><body><title>Late</title><div><meta property='og:description' content='in body'></div>"
    assert card(page) == SharePage("Late", "in body", "")


def test_an_svg_title_is_not_the_page_title() -> None:
    page = "<html><body><svg><title>icon</title></svg></body></html>"
    assert card(page).title == ""
    assert card(page.replace("<body>", "<head><title>Real</title></head><body>")).title == "Real"


def test_a_title_inside_a_script_is_not_read() -> None:
    assert card("<script>document.write('<title>x</title>')</script>").title == ""


# --- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_url", "value", "stored"),
    [
        ("https://app.box.com/s/abc", "/thumb/1.png", "https://app.box.com/thumb/1.png"),
        ("https://app.box.com/s/abc", "thumb.png", "https://app.box.com/s/thumb.png"),
        ("https://app.box.com/s/abc", "../img/2.png?x=1&y=2", "https://app.box.com/img/2.png?x=1&y=2"),
        ("https://app.box.com/s/abc", "//cdn.box.com/3.png", "https://cdn.box.com/3.png"),
        ("http://app.box.com/s/abc", "//cdn.box.com/3.png", ""),  # protocol-relative on an http page
        ("http://app.box.com/s/abc", "/thumb/1.png", ""),  # relative to an http page
        ("http://app.box.com/s/abc", "https://cdn.box.com/4.png", "https://cdn.box.com/4.png"),
        ("https://app.box.com/s/abc", "http://cdn.box.com/5.png", ""),
        ("https://app.box.com/s/abc", "HTTPS://CDN.box.com/6.png", "https://CDN.box.com/6.png"),
        ("https://app.box.com/s/abc", "  https://cdn.box.com/7.png\n", "https://cdn.box.com/7.png"),
        ("https://app.box.com/s/abc", "https://cdn.box.com/a b.png", "https://cdn.box.com/a%20b.png"),
        ("https://app.box.com/s/abc", "https://cdn.box.com/\u00e9t\u00e9.png", "https://cdn.box.com/%C3%A9t%C3%A9.png"),
        ("https://app.box.com/s/abc", "javascript:alert(1)", ""),
        ("https://app.box.com/s/abc", " JaVaScRiPt:alert(1)", ""),
        ("https://app.box.com/s/abc", "java\tscript:alert(1)", ""),
        ("https://app.box.com/s/abc", "data:image/png;base64,iVBORw0KGgo=", ""),
        ("https://app.box.com/s/abc", "vbscript:msgbox", ""),
        ("https://app.box.com/s/abc", "ftp://cdn.box.com/1.png", ""),
        ("https://app.box.com/s/abc", "https://user:pw@cdn.box.com/1.png", ""),
        ("https://app.box.com/s/abc", "https://cdn.box.com:99999/1.png", ""),
        ("https://app.box.com/s/abc", "https:///nohost.png", ""),
        ("https://app.box.com/s/abc", "https://cdn.box.com/\u202eevil.png", ""),
        ("https://app.box.com/s/abc", "", ""),
    ],
)
def test_thumbnail_urls(page_url: str, value: str, stored: str) -> None:
    assert clean_thumbnail_url(value, page_url) == stored
    assert card(html_page(og("og:image", value)), page_url).thumbnail_url == stored


def test_a_thumbnail_url_longer_than_the_cap_is_dropped_not_cut() -> None:
    fits = "https://cdn.example/" + "a" * (THUMBNAIL_URL_MAX - len("https://cdn.example/"))
    assert clean_thumbnail_url(fits, PAGE) == fits
    assert clean_thumbnail_url(fits + "a", PAGE) == ""


# --- hostile values -----------------------------------------------------------------------------


def test_script_in_a_title_stays_plain_text() -> None:
    page = "<html><head><title><script>alert(1)</script> Budget</title></head></html>"
    assert card(page).title == "<script>alert(1)</script> Budget"
    tagged = html_page(
        og("og:title", "&lt;img src=x onerror=alert(1)&gt;"),
        og("og:description", "&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"),
    )
    assert card(tagged) == SharePage("<img src=x onerror=alert(1)>", '"><script>alert(2)</script>', "")


def test_entities_are_decoded_once_into_plain_text() -> None:
    page = html_page(og("og:title", "Q3 &amp; Q4 &lt;draft&gt; &amp;amp;"))
    assert card(page).title == "Q3 & Q4 <draft> &amp;"


def test_a_100_kb_attribute_is_capped() -> None:
    huge = "x" * 100_000
    page = html_page(
        og("og:title", huge),
        og("og:description", "d" * 100_000),
        og("og:image", "https://cdn.example/" + huge),
        og("twitter:image", "https://cdn.example/ok.png"),
    )
    result = card(page)
    assert result.title == "x" * TITLE_MAX
    assert result.description == "d" * DESCRIPTION_MAX
    assert result.thumbnail_url == "https://cdn.example/ok.png"


def test_control_characters_and_whitespace_are_cleaned() -> None:
    page = html_page(
        og("og:title", "  Plan\t\t\u0007for\u200b\u202e Q3 \r\n\n  \u00a0"),
        og("og:description", "line one&#10;&#10;line\u0000two &#x1b;[31m red"),
    )
    result = card(page)
    assert result.title == "Plan for\u200b Q3"
    assert result.description == "line one line\ufffdtwo [31m red"


def test_clean_text_caps_after_collapsing() -> None:
    assert clean_text(" a \n\n b ", 300) == "a b"
    assert clean_text("word " * 100, 12) == "word word wo"
    assert clean_text("ab        cd", 3) == "ab"  # never ends with a space


def test_broken_nesting_is_parsed_like_a_browser_would() -> None:
    page = (
        "<html><head><meta property='og:title' content='Broken <b>nesting'><div><p>"
        "<meta property=og:description content=unquoted value></span></td></table>"
        "<title>Unclosed <i>title</html>"
    )
    result = card(page)
    assert result.title == "Broken <b>nesting"
    assert result.description == "unquoted"


def test_an_unclosed_title_swallows_the_rest_but_is_capped() -> None:
    page = "<html><head><title>Runaway " + "<p>more</p>" * 200
    result = card(page)
    assert result.title.startswith("Runaway <p>more</p>")
    assert len(result.title) == TITLE_MAX


def test_a_comment_hides_tags() -> None:
    page = "<html><head><!-- <meta property='og:title' content='hidden'> --><title>Shown</title></head></html>"
    assert card(page).title == "Shown"


# --- charsets ----------------------------------------------------------------------------------

CAFE = "Caf\u00e9 cr\u00e8me \u00bd"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f"<meta charset='iso-8859-1'><title>{CAFE}</title>".encode("latin-1"), "text/html"),
        (
            f'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><title>{CAFE}</title>'.encode(
                "latin-1"
            ),
            "text/html",
        ),
        (f"<title>{CAFE}</title>".encode("latin-1"), "text/html; charset=latin1"),
        (f"<title>{CAFE}</title>".encode("latin-1"), 'text/html; charset="ISO-8859-1"'),
        (f"<title>{CAFE}</title>".encode("latin-1"), "text/html"),  # not UTF-8: windows-1252
        (f"<meta charset=windows-1252><title>{CAFE} \u20ac</title>".encode("cp1252"), "text/html"),
        (f"<meta charset=utf-8><title>{CAFE}</title>".encode(), "text/html"),
        (f"<title>{CAFE}</title>".encode(), "text/html"),
        (f"<meta charset='utf-16'><title>{CAFE}</title>".encode("utf-16"), "text/html"),  # BOM
        (f"<title>{CAFE}</title>".encode("utf-16-le"), "text/html; charset=utf-16"),
        (f"<title>{CAFE}</title>".encode("utf-16-be"), "text/html; charset=UTF-16BE"),
        (f"<meta charset='utf-16'><title>{CAFE}</title>".encode("utf-16-le"), "text/html"),  # no BOM
        (f"<meta charset='utf-16'><title>{CAFE}</title>".encode("utf-16-be"), "text/html"),
        ("\ufeff".encode() + f"<title>{CAFE}</title>".encode(), "text/html; charset=latin1"),  # BOM wins
        # The HTTP header wins over the document's own declaration.
        (f"<meta charset='utf-8'><title>{CAFE}</title>".encode("latin-1"), "text/html; charset=iso-8859-1"),
    ],
)
def test_declared_charsets_are_honoured(body: bytes, content_type: str) -> None:
    assert card(body, content_type=content_type).title.startswith(CAFE)


def test_other_declared_charsets() -> None:
    title = "\u041e\u0442\u0447\u0451\u0442"  # Russian "report"
    assert card(f"<meta charset=koi8-r><title>{title}</title>".encode("koi8-r")).title == title
    japanese = "\u4f1a\u8b70\u8cc7\u6599"
    body = f'<meta http-equiv=content-type content="text/html;charset=Shift_JIS"><title>{japanese}</title>'
    assert card(body.encode("shift_jis")).title == japanese


@pytest.mark.parametrize(
    "label",
    ["utf-7", "base64", "rot13", "zlib", "hex", "unicode_escape", "idna", "x-nonsense", "../../etc", "utf-8\x00", ""],
)
def test_unknown_or_unsafe_charsets_fall_back_to_utf8(label: str) -> None:
    body = f"<meta charset='{label}'><title>{CAFE} +AGEAbABlAHIAdA-</title>".encode()
    assert card(body).title == f"{CAFE} +AGEAbABlAHIAdA-"
    assert card(body, content_type=f"text/html; charset={label}").title == f"{CAFE} +AGEAbABlAHIAdA-"


def test_a_meta_that_says_utf16_in_an_ascii_document_means_utf8() -> None:
    assert card(f"<meta charset=utf-16><title>{CAFE}</title>".encode()).title == CAFE


def test_decode_body_never_raises_on_undecodable_bytes() -> None:
    assert decode_body(b"\x81\x8d\x8f\x90\x9d", "windows-1252")
    assert decode_body(b"\xff\xfe\x00", "")  # odd-length UTF-16
    assert decode_body(b"\x80abc", "shift_jis")


# --- garbage, binary, empty --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t ",
        b"\x00" * 1000,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>",
        b"PK\x03\x04\x14\x00\x06\x00",
        bytes(range(256)) * 16,
        b"<" * 10_000,
        b"<meta" * 5000,
        b"<!--" + b"x" * 1000,
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b'{"json": true}',
    ],
)
def test_garbage_binary_and_empty_bodies_give_an_empty_card(body: bytes) -> None:
    assert card(body) == SharePage()


@given(
    body=st.binary(max_size=4096),
    content_type=st.text(max_size=60),
    page_url=st.sampled_from([DRIVE, DROPBOX, "http://app.box.com/s/a", "https://x/", "not a url"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_parser_never_raises_on_arbitrary_bytes(body: bytes, content_type: str, page_url: str) -> None:
    result = parse_share_page(body, page_url, content_type)
    _assert_clean(result)


_TAGS = st.sampled_from(
    [
        "<title>",
        "</title>",
        "<meta property='og:title' content='",
        "<meta name=description content=",
        "<meta property=og:image content=",
        "'>",
        '"',
        "<svg>",
        "<meta charset=",
        "utf-16",
        "latin1",
        "<!--",
        "-->",
        "<script>",
        "&amp;",
        "&#0;",
        "\x00",
        "\ufeff",
        "//",
        "https:",
    ]
)


@given(
    parts=st.lists(st.one_of(_TAGS, st.text(max_size=20)), max_size=40),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252"]),
)
@settings(max_examples=300, deadline=None)
def test_the_parser_never_raises_on_tag_soup(parts: list[str], encoding: str) -> None:
    body = "".join(parts).encode(encoding, "replace")
    _assert_clean(parse_share_page(body, DROPBOX, "text/html"))


def _assert_clean(result: Any) -> None:
    assert isinstance(result, SharePage)
    assert len(result.title) <= TITLE_MAX and len(result.description) <= DESCRIPTION_MAX
    for text in (result.title, result.description):
        assert text == text.strip()
        assert "  " not in text
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in text)
    assert result.thumbnail_url == "" or result.thumbnail_url.startswith("https://")
    assert len(result.thumbnail_url) <= THUMBNAIL_URL_MAX


@given(st.text(max_size=200), st.integers(min_value=0, max_value=50))
def test_clean_text_is_idempotent_and_capped(value: str, limit: int) -> None:
    once = clean_text(value, limit)
    assert len(once) <= limit
    assert clean_text(once, limit) == once


@given(st.text(max_size=100))
def test_clean_thumbnail_url_only_ever_returns_https(value: str) -> None:
    stored = clean_thumbnail_url(value, "https://app.box.com/s/abc")
    assert stored == "" or (stored.startswith("https://") and stored.isascii() and " " not in stored)
