"""Talking to a ppm server: one GET of the sync delta, with errors a person can act on."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ppm_offline import __version__


class ClientError(Exception):
    """A failure to report to the person running the client (no traceback)."""


class AuthRejected(ClientError):
    """401: the token is wrong, revoked, or missing."""


class ProjectNotFound(ClientError):
    """404: no such project, or the token's user is not a member (ppm does not say which)."""


class ServerUnreachable(ClientError):
    """No answer at all: refused, timed out, name not found."""


class BadResponse(ClientError):
    """The server answered something that is not the sync delta SPEC §9 describes."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused, not followed: the bearer token must not travel to another URL."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def normalize_server(server: str) -> str:
    """`http(s)://host[:port][/prefix]` without a trailing slash, or a ClientError."""
    text = server.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ClientError(f"--server must look like http://127.0.0.1:5000 or https://ppm.example.org, not {server!r}.")
    return text


def is_loopback(server: str) -> bool:
    host = (urllib.parse.urlsplit(server).hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


class SyncClient:
    """Fetches pages of one project's sync delta with a personal API token."""

    def __init__(self, server: str, token: str, *, timeout: float = 30.0) -> None:
        self.server = normalize_server(server)
        self.token = token.strip()
        if not self.token:
            raise AuthRejected("No API token given: pass --token or set PPM_TOKEN.")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects())

    def url_for(self, project_id: str, since: int, limit: int) -> str:
        project = urllib.parse.quote(project_id, safe="")
        query = urllib.parse.urlencode({"since": since, "limit": limit})
        return f"{self.server}/api/v1/projects/{project}/sync/?{query}"

    def fetch_page(self, project_id: str, since: int, limit: int) -> dict[str, Any]:
        url = self.url_for(project_id, since, limit)
        # The scheme is http or https: normalize_server refused anything else.
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            url,
            method="GET",
            headers={
                "Accept": "application/json",
                "User-Agent": f"ppm_offline/{__version__}",
            },
        )
        # Unredirected: never copied onto a redirect (which is refused anyway).
        request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise self._http_error(error, project_id) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                reason = f"no answer within {self.timeout:g} seconds"
            raise ServerUnreachable(f"Cannot reach the ppm server at {self.server}: {reason}.") from None
        try:
            page = json.loads(body)
        except ValueError:
            raise BadResponse(
                f"{self.server} answered with something that is not JSON. Is --server the address of a ppm server?"
            ) from None
        if not isinstance(page, dict):
            raise BadResponse("The server's answer is not a sync delta (not a JSON object).")
        return page

    def _http_error(self, error: urllib.error.HTTPError, project_id: str) -> ClientError:
        detail, code = _error_body(error)
        status = error.code
        if status == 401:
            return AuthRejected(
                "The server rejected the API token (401"
                + (f": {detail}" if detail else "")
                + "). Check --token; a new token can be made at "
                "/me/settings/api-tokens or with `flask --app wsgi ppm create-token EMAIL`."
            )
        if status == 404:
            return ProjectNotFound(
                f"Project {project_id} was not found on {self.server} (404). Check --project, and "
                "that the token's user is a member of the project."
            )
        if 300 <= status < 400:
            location = error.headers.get("Location", "")
            return ClientError(
                f"The server redirected to {location or 'another address'} ({status}); "
                "the token is not sent there. Give the final address with --server."
            )
        if status == 429:
            wait = error.headers.get("Retry-After", "")
            return ClientError(
                "The server is rate-limiting requests (429)"
                + (f"; try again in {wait} seconds." if wait else "; try again shortly.")
            )
        if status >= 500:
            return ClientError(f"The ppm server failed with an error ({status}). Try again later.")
        return ClientError(
            f"The server refused the request ({status}"
            + (f" {code}" if code else "")
            + ")"
            + (f": {detail}" if detail else ".")
        )


def _error_body(error: urllib.error.HTTPError) -> tuple[str, str]:
    """(detail, code) from a ppm error envelope, when the body is one."""
    try:
        body = json.loads(error.read(65536) or b"null")
    except (ValueError, OSError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    detail = str(body["detail"]) if isinstance(body.get("detail"), str) else ""
    code = str(body["code"]) if isinstance(body.get("code"), str) else ""
    fields = body.get("fields")
    if isinstance(fields, dict) and fields:
        detail += (
            " ("
            + "; ".join(
                f"{name}: {' '.join(map(str, msgs))}" for name, msgs in fields.items() if isinstance(msgs, list)
            )
            + ")"
        )
    return str(detail), str(code)
