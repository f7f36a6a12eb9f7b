"""ppm/egress.py is the only module that may speak HTTP to the outside (SPEC §10)."""

from __future__ import annotations

import ast
from pathlib import Path

PPM = Path(__file__).resolve().parents[2] / "ppm"
FORBIDDEN = ("requests", "urllib3", "http.client", "urllib.request", "httpx", "aiohttp", "pycurl")
ALLOWED_FILE = PPM / "egress.py"


def _imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from http import client` / `from urllib import request`
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def offenders(root: Path = PPM) -> dict[str, list[str]]:
    bad: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if path == ALLOWED_FILE:
            continue
        mods = sorted(m for m in _imported_modules(ast.parse(path.read_text(), str(path))) if _forbidden(m))
        if mods:
            bad[str(path.relative_to(root.parent))] = mods
    return bad


def test_only_egress_imports_http_clients() -> None:
    assert ALLOWED_FILE.exists()
    assert offenders() == {}, "only ppm/egress.py may import an HTTP client; use ppm.egress.fetch"


def test_the_scanner_catches_every_form(tmp_path: Path) -> None:
    pkg = tmp_path / "ppm"
    pkg.mkdir()
    forms = [
        "import requests",
        "import urllib3.util",
        "from http import client",
        "from urllib import request",
        "import urllib.request as ur",
        "from http.client import HTTPConnection",
        "x = __import__('requests')",
        "def f():\n    import httpx",
    ]
    for i, src in enumerate(forms):
        (pkg / f"m{i}.py").write_text(src + "\n")
    (pkg / "fine.py").write_text("import json\nfrom urllib.parse import urlsplit\nimport http\n")
    assert sorted(offenders(pkg)) == sorted(f"ppm/m{i}.py" for i in range(len(forms)))
