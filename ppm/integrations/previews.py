"""Cloud-file preview cards (SPEC §7): the file type from the URL, and the public share page's
OpenGraph / Twitter-card / <title> metadata, read anonymously through the egress guard.

The flow of one refresh (`fetch_preview`):
1. GET the share page through `ppm.egress.fetch` (no credential, no cookie, no redirects, 5 s,
   at most 512 KiB); a transport failure becomes a RefreshFailed with a SPEC §12 code.
2. A 3xx, 401, 403 or 404 means "not public": RefreshFailed("file_not_public"), body never read.
3. A markup body is decoded with its declared charset and parsed with a real HTML parser
   (lexbor); a sign-in page (login wall) is "not public" too, and nothing of it is kept.
4. Every string kept is plain text: control characters removed, whitespace collapsed, trimmed
   and capped. Thumbnails are kept only as absolute https URLs.

`parse_share_page` never raises, whatever the bytes: garbage, binary or empty bodies give an
empty card.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ppm.integrations.providers.base import (
    INVISIBLE,
    RefreshFailed,
    clean_text,
    rate_limited,
    refresh_fetch,
)
from ppm.integrations.registry import provider_for_host

log = logging.getLogger("ppm.integrations.previews")

PREVIEW_TYPES = ("document", "spreadsheet", "presentation", "image", "pdf", "folder", "file")
FETCH_TIMEOUT_SECONDS = 5.0
MAX_PAGE_BYTES = 512 * 1024
TITLE_MAX = 300
DESCRIPTION_MAX = 1000
THUMBNAIL_URL_MAX = 2048
PRIVATE_DETAIL = "Private file — open to view"

_EXTENSIONS = {
    "doc": "document",
    "docx": "document",
    "odt": "document",
    "rtf": "document",
    "txt": "document",
    "md": "document",
    "pages": "document",
    "xls": "spreadsheet",
    "xlsx": "spreadsheet",
    "ods": "spreadsheet",
    "csv": "spreadsheet",
    "numbers": "spreadsheet",
    "ppt": "presentation",
    "pptx": "presentation",
    "odp": "presentation",
    "key": "presentation",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "gif": "image",
    "webp": "image",
    "svg": "image",
    "heic": "image",
    "bmp": "image",
    "tif": "image",
    "tiff": "image",
    "pdf": "pdf",
}

# Response media types that say what the file is (after the URL shape had nothing to say).
_MEDIA_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/msword": "document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "document",
    "application/vnd.oasis.opendocument.text": "document",
    "application/rtf": "document",
    "text/rtf": "document",
    "text/markdown": "document",
    "application/vnd.google-apps.document": "document",
    "application/vnd.apple.pages": "document",
    "application/vnd.ms-excel": "spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet": "spreadsheet",
    "text/csv": "spreadsheet",
    "application/vnd.google-apps.spreadsheet": "spreadsheet",
    "application/vnd.apple.numbers": "spreadsheet",
    "application/vnd.ms-powerpoint": "presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "presentation",
    "application/vnd.oasis.opendocument.presentation": "presentation",
    "application/vnd.google-apps.presentation": "presentation",
    "application/vnd.apple.keynote": "presentation",
    "application/vnd.google-apps.folder": "folder",
}


@dataclass
class Preview:
    title: str = ""
    description: str = ""
    thumbnail_url: str = ""
    preview_type: str = ""


@dataclass
class SharePage:
    """What a share page says about itself. `login_wall` pages must not be used as a card."""

    title: str = ""
    description: str = ""
    thumbnail_url: str = ""
    login_wall: bool = False


# --- the file type ------------------------------------------------------------------------


def preview_type_for_url(url: str) -> str:
    """What the URL's shape says the file is; "file" when it says nothing."""
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return "file"
    if "/folders/" in path or "/folder/" in path or path.endswith("/folder") or path.startswith(("/sh/", "/scl/fo/")):
        return "folder"
    for marker, kind in (
        ("/document/", "document"),
        ("/spreadsheets/", "spreadsheet"),
        ("/presentation/", "presentation"),
    ):
        if marker in path:
            return kind
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if "." in name:
        return _EXTENSIONS.get(name.rsplit(".", 1)[-1], "file")
    return "file"


def preview_type_for_media_type(content_type: str) -> str:
    """What a response Content-Type says the file is; "" when it says nothing (HTML, unknown)."""
    media, _ = _media_type(content_type)
    if media.startswith("image/"):
        return "image"
    return _MEDIA_TYPES.get(media, "")


def preview_type_for(url: str, content_type: str) -> str:
    """SPEC §7: the URL shape first, then the response Content-Type, else "file"."""
    by_url = preview_type_for_url(url)
    if by_url != "file":
        return by_url
    return preview_type_for_media_type(content_type) or "file"


def _media_type(content_type: str) -> tuple[str, str]:
    """("type/subtype" lower-cased, charset label or "") from a Content-Type header value."""
    media, _, params = (content_type or "").partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("'\"").strip()
            break
    return media.strip().lower(), charset


# --- fetching -----------------------------------------------------------------------------


def fetch_preview(url: str) -> Preview:
    """Fetch the public share page anonymously and read its card, or raise RefreshFailed."""
    label = _host_label(url)
    # Only what a browser without cookies would send: no Authorization, no Cookie.
    response = refresh_fetch(
        label,
        url,
        {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"},
        timeout=FETCH_TIMEOUT_SECONDS,
        max_bytes=MAX_PAGE_BYTES,
    )
    log.info("preview fetch of %s answered %s", url, response.status)
    return preview_from_response(url, response.status, response.headers, response.body, label=label)


def preview_from_response(
    url: str, status: int, headers: Mapping[str, str], body: bytes, *, label: str = "The file host"
) -> Preview:
    """The card for one answer (no I/O). Private answers raise RefreshFailed("file_not_public")."""
    if 300 <= status < 400 or status in (401, 403, 404):
        raise RefreshFailed("file_not_public", PRIVATE_DETAIL)  # the body is never looked at
    if status == 429:
        raise rate_limited(label, headers)
    if status >= 500:
        raise RefreshFailed("provider_unreachable", f"{label} is having trouble ({status}).")
    if not 200 <= status < 300:
        raise RefreshFailed("provider_bad_response", f"{label} gave an unexpected answer ({status}).")
    content_type = _header(headers, "Content-Type")
    media, _ = _media_type(content_type)
    kind = preview_type_for(url, content_type)
    url_says_image = preview_type_for_url(url) == "image"
    if media.startswith("image/") or (
        url_says_image and media in ("", "application/octet-stream", "binary/octet-stream")
    ):
        # A direct image link is its own thumbnail (when it is https).
        return Preview(thumbnail_url=clean_thumbnail_url(url, url), preview_type=kind)
    if not _is_markup(media):
        return Preview(preview_type=kind)  # a PDF, an office file, a zip: nothing to read
    page = parse_share_page(body, url, content_type)
    if page.login_wall:
        log.info("preview fetch of %s found a sign-in page", url)
        raise RefreshFailed("file_not_public", PRIVATE_DETAIL)
    return Preview(page.title, page.description, page.thumbnail_url, kind)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict in tests: look case-insensitively
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    return value if isinstance(value, str) else ""


def _is_markup(media: str) -> bool:
    # No Content-Type at all: sniffing a page is safe (we only read metadata out of it).
    return (
        media == ""
        or media.startswith("text/")
        or "html" in media
        or media.endswith("+xml")
        or media == "application/xml"
    )


def _host_label(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    provider = provider_for_host(host)
    return provider.label if provider.is_file_host else "The file host"


# --- decoding -----------------------------------------------------------------------------

# Python codecs for the encodings browsers support (WHATWG Encoding), by codecs.lookup name.
_WEB_CODECS = frozenset(
    {
        "utf-8",
        "utf-16-le",
        "utf-16-be",
        "cp1252",
        "cp1250",
        "cp1251",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "cp866",
        "cp874",
        "tis-620",
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "iso8859-2",
        "iso8859-3",
        "iso8859-4",
        "iso8859-5",
        "iso8859-6",
        "iso8859-7",
        "iso8859-8",
        "iso8859-10",
        "iso8859-13",
        "iso8859-14",
        "iso8859-15",
        "iso8859-16",
        "gbk",
        "gb2312",
        "gb18030",
        "big5",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "shift_jis",
        "cp932",
        "euc_kr",
        "cp949",
    }
)
# WHATWG maps these labels elsewhere than Python would (Latin-1 and ASCII mean windows-1252).
_LABEL_ALIASES = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "latin-1": "cp1252",
    "x-user-defined": "cp1252",
    "utf-16": "utf-16-le",
    "unicode": "utf-16-le",
    "ucs-2": "utf-16-le",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso8859-8",
    "gb2312": "gbk",
    "x-gbk": "gbk",
}
_LABEL_RE = re.compile(r"[a-z0-9._:+-]{1,40}")
_PRESCAN_BYTES = 8192
_META_TAG = re.compile(rb"<meta\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_CHARSET_IN_CONTENT = re.compile(rb"""charset\s*=\s*["']?\s*([^\s"';]+)""", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?(?:-->|$)", re.DOTALL)


def _codec(label: str | bytes | None) -> str | None:
    """The Python codec for a charset label browsers would honour, or None."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    label = label.strip().strip("'\"").strip().lower()
    if not _LABEL_RE.fullmatch(label):
        return None
    if label in _LABEL_ALIASES:
        return _LABEL_ALIASES[label]
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    name = _LABEL_ALIASES.get(name, name)
    return name if name in _WEB_CODECS else None


def _meta_charset(head: bytes) -> str | None:
    """The charset a <meta charset> or <meta http-equiv=Content-Type> in the first bytes declares."""
    head = _COMMENT.sub(b"", head)
    for tag in _META_TAG.finditer(head):
        attributes: dict[bytes, bytes] = {}
        for match in _ATTRIBUTE.finditer(tag.group(1)):
            name = match.group(1).lower()
            value = next((g for g in match.group(2, 3, 4) if g is not None), b"")
            attributes.setdefault(name, value)
        if attributes.get(b"charset"):
            codec = _codec(attributes[b"charset"])
        elif attributes.get(b"http-equiv", b"").strip().lower() == b"content-type":
            found = _CHARSET_IN_CONTENT.search(attributes.get(b"content", b""))
            codec = _codec(found.group(1)) if found else None
        else:
            continue
        if codec:
            # A meta tag readable as ASCII cannot be in UTF-16: browsers then use UTF-8.
            return "utf-8" if codec.startswith("utf-16") else codec
    return None


def _utf16_without_bom(body: bytes) -> str | None:
    """Markup in UTF-16 with no BOM shows as ASCII bytes next to NULs."""
    sample = body[:256]
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls >= pairs * 0.7 and even_nuls <= pairs * 0.1:
        return "utf-16-le"
    if even_nuls >= pairs * 0.7 and odd_nuls <= pairs * 0.1:
        return "utf-16-be"
    return None


def decode_body(body: bytes, http_charset: str = "") -> str:
    """Bytes to text the way a browser picks the encoding: BOM, then the HTTP charset, then a
    <meta> declaration, then UTF-8 (windows-1252 when the bytes are not UTF-8). Never raises."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith(codecs.BOM_UTF16_LE):
        return body[2:].decode("utf-16-le", "replace")
    if body.startswith(codecs.BOM_UTF16_BE):
        return body[2:].decode("utf-16-be", "replace")
    codec = _codec(http_charset) or _meta_charset(body[:_PRESCAN_BYTES]) or _utf16_without_bom(body)
    if codec is None:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            codec = "cp1252"
    try:
        return body.decode(codec, "replace")
    except (LookupError, UnicodeError, ValueError):  # a codec that cannot decode at all
        return body.decode("utf-8", "replace")


# --- cleaning: clean_text lives in providers/base, the one place provider strings are cleaned ---

_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def clean_thumbnail_url(value: str | None, page_url: str) -> str:
    """An absolute https URL for `value` resolved against the page, or "" when there is none."""
    if not value:
        return ""
    try:
        candidate = value.strip(
            "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12"
            "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
        )
        # As a browser's URL parser does: tabs and newlines vanish, backslashes are slashes.
        candidate = re.sub(r"[\t\n\r]", "", candidate).replace("\\", "/")
        if not candidate or INVISIBLE.search(candidate) or any(ch.isspace() and ch != " " for ch in candidate):
            return ""
        scheme = _SCHEME.match(candidate)
        if scheme and (scheme.group(1).lower() != "https" or not urlsplit(candidate).netloc):
            return ""  # another scheme, or "https:x" / "https:///x" that parsers read differently
        absolute = urljoin(page_url, candidate)
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises on a bad port
        if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
            return ""
        if not parts.netloc.isascii():
            host = parts.netloc.encode("idna").decode("ascii")
            absolute = parts._replace(netloc=host).geturl()
        absolute = quote(absolute, safe=_URL_SAFE)
    except (ValueError, UnicodeError):
        return ""
    return absolute if len(absolute) <= THUMBNAIL_URL_MAX else ""


# --- parsing ------------------------------------------------------------------------------

_TITLE_KEYS = ("og:title", "twitter:title")
_DESCRIPTION_KEYS = ("og:description", "twitter:description", "description")
_IMAGE_KEYS = ("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src")

# Sign-in endpoints of the four hosts (and the identity providers they send people to).
_LOGIN_HOSTS = (
    "accounts.google.com",
    "login.microsoftonline.com",
    "login.live.com",
    "login.windows.net",
    "account.box.com",
    "login.box.com",
)
_LOGIN_PATH = re.compile(
    r"/(?:login|log-in|signin|sign-in|servicelogin|v\d/signin|oauth2?/authorize)(?:[/?#.]|$)", re.IGNORECASE
)
# Field names the four hosts' sign-in forms use for the account name.
_LOGIN_FIELDS = frozenset({"identifier", "identifierid", "loginfmt", "login_email", "login", "passwd"})
_SIGN_IN_WORDS = re.compile(r"\b(?:sign|log)[\s-]?in\b", re.IGNORECASE)
_SIGN_IN_TO = re.compile(r" to (?:your|continue|google|microsoft|onedrive|sharepoint|office|dropbox|box)\b")
_TITLE_SEPARATORS = re.compile(r"\s+-+\s+|\s*[|:·•–—]\s*")


def parse_share_page(body: bytes, page_url: str, content_type: str = "") -> SharePage:
    """Read a share page's card. Never raises: unreadable input is an empty card."""
    try:
        return _parse(body, page_url, content_type)
    except Exception:  # the parser is third-party C: a bad page must never become a 500
        log.exception("preview parse of %s failed; keeping an empty card", page_url)
        return SharePage()


def _parse(body: bytes, page_url: str, content_type: str) -> SharePage:
    if not body:
        return SharePage()
    _, charset = _media_type(content_type)
    text = decode_body(body[:MAX_PAGE_BYTES], charset).replace("\x00", "\ufffd")
    if not text.strip():
        return SharePage()
    tree = LexborHTMLParser(text)
    metas = _meta_values(tree)
    element_title = _title_element(tree)
    title = clean_text(_first(metas, _TITLE_KEYS) or element_title, TITLE_MAX)
    description = clean_text(_first(metas, _DESCRIPTION_KEYS), DESCRIPTION_MAX)
    thumbnail = ""
    for key in _IMAGE_KEYS:  # the first occurrence of each key; the next key if it is unusable
        thumbnail = clean_thumbnail_url(metas.get(key), page_url)
        if thumbnail:
            break
    wall = _is_login_wall(tree, page_url, clean_text(element_title, TITLE_MAX))
    return SharePage(title, description, thumbnail, wall)


def _meta_values(tree: LexborHTMLParser) -> dict[str, str]:
    """meta property/name → content, first non-blank occurrence of each key."""
    found: dict[str, str] = {}
    for node in tree.css("meta"):
        attributes = node.attributes
        content = attributes.get("content")
        if not content or not content.strip():
            continue
        for attribute in ("property", "name"):
            key = (attributes.get(attribute) or "").strip().lower()
            if key and key not in found:
                found[key] = content
    return found


def _first(metas: dict[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = clean_text(metas.get(key), DESCRIPTION_MAX)
        if value:
            return metas[key]
    return ""


def _title_element(tree: LexborHTMLParser) -> str:
    """The document's <title> (not an SVG or MathML <title> inside the page)."""
    for node in tree.css("title"):
        if not _inside_foreign_content(node):
            text = node.text(deep=True)
            if text and text.strip():
                return text
    return ""


def _inside_foreign_content(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in ("svg", "math"):
            return True
        parent = parent.parent
    return False


def _is_login_url(value: str | None, page_url: str) -> bool:
    if not value:
        return False
    try:
        parts = urlsplit(urljoin(page_url, value.strip()))
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return host in _LOGIN_HOSTS or bool(_LOGIN_PATH.search(parts.path or ""))


def _is_login_wall(tree: LexborHTMLParser, page_url: str, element_title: str) -> bool:
    """A sign-in page in place of the file: a password box, a form posting to a sign-in endpoint
    or asking for an account name, a redirect to sign-in, or a title that is just "Sign in"."""
    for node in tree.css("input"):
        kind = (node.attributes.get("type") or "").strip().lower()
        name = (node.attributes.get("name") or node.attributes.get("id") or "").strip().lower()
        if kind == "password" or (name in _LOGIN_FIELDS and kind in ("", "text", "email")):
            return True
    for node in tree.css("form"):
        if _is_login_url(node.attributes.get("action"), page_url):
            return True
    for node in tree.css("meta"):
        if (node.attributes.get("http-equiv") or "").strip().lower() == "refresh":
            _, _, target = (node.attributes.get("content") or "").partition("=")
            if _is_login_url(target.strip().strip("'\""), page_url):
                return True
    for rel_node in tree.css("link"):
        if (rel_node.attributes.get("rel") or "").strip().lower() == "canonical" and _is_login_url(
            rel_node.attributes.get("href"), page_url
        ):
            return True
    return _is_sign_in_title(element_title)


def _is_sign_in_title(title: str) -> bool:
    """ "Sign in - Google Accounts", "Google Drive: Sign-in", "Box | Login", "Sign in to your
    account": some part of the title, between separators, is only the words "sign in"/"log in"
    (or "sign in to" your account or a host). A file called "Login flow.pdf" is not one."""
    for part in _TITLE_SEPARATORS.split(title.strip()):
        words = part.strip().lower()
        if not words:
            continue
        match = _SIGN_IN_WORDS.match(words)
        if match and (match.end() == len(words) or _SIGN_IN_TO.match(words[match.end() :])):
            return True
    return False
