"""HTTP client of the Ministry portal's API (ministry_mock in this project). Only HTTP: no imports of the mock."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        """Worth another try later: the portal is down, overloaded or failed inside."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    @property
    def error_code(self) -> str:
        error = self.body.get("error")
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    @property
    def error_message(self) -> str:
        error = self.body.get("error")
        return str(error.get("message", "")) if isinstance(error, dict) else ""


def call(
    method: str, path: str, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """One request; network failures come back as status 0 rather than exceptions."""
    url = f"{settings.MINISTRY_API_URL}/api/v1/{path.lstrip('/')}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - URL from settings
    request.add_header("Authorization", f"Bearer {settings.MINISTRY_API_TOKEN}")
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=settings.MINISTRY_TIMEOUT_SECONDS) as response:  # noqa: S310
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _json(exc.read()))
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        return Answer(0, {"error": {"code": "unreachable", "message": str(exc)}})


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
