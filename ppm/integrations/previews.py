"""Cloud-file preview cards (SPEC §7): the file type from the URL, and the public share page's
OpenGraph metadata. (Filled in by the previews work; the type-from-URL rules live here.)"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ppm.integrations.providers.base import RefreshFailed

PREVIEW_TYPES = ("document", "spreadsheet", "presentation", "image", "pdf", "folder", "file")
_EXTENSIONS = {
    "doc": "document", "docx": "document", "odt": "document", "rtf": "document", "txt": "document",
    "md": "document", "pages": "document",
    "xls": "spreadsheet", "xlsx": "spreadsheet", "ods": "spreadsheet", "csv": "spreadsheet",
    "numbers": "spreadsheet",
    "ppt": "presentation", "pptx": "presentation", "odp": "presentation", "key": "presentation",
    "png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "webp": "image", "svg": "image",
    "heic": "image", "bmp": "image", "tif": "image", "tiff": "image",
    "pdf": "pdf",
}


@dataclass
class Preview:
    title: str = ""
    description: str = ""
    thumbnail_url: str = ""
    preview_type: str = ""


def preview_type_for_url(url: str) -> str:
    """What the URL's shape says the file is; "file" when it says nothing."""
    path = urlsplit(url).path.lower()
    if "/folders/" in path or "/folder/" in path or path.endswith("/folder") or \
            path.startswith(("/sh/", "/scl/fo/")):
        return "folder"
    for marker, kind in (("/document/", "document"), ("/spreadsheets/", "spreadsheet"),
                         ("/presentation/", "presentation")):
        if marker in path:
            return kind
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if "." in name:
        return _EXTENSIONS.get(name.rsplit(".", 1)[-1], "file")
    return "file"


def fetch_preview(url: str) -> Preview:
    """Fetch the public share page and read its card (not yet built: refuses honestly)."""
    raise RefreshFailed("provider_unreachable", "File previews are not available yet.")
