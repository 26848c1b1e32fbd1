"""HTTP client of the Ministry portal's API (ministry_mock in this project). Only HTTP: no imports of the mock."""

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    # The answer was longer than the caller would read: its body is dropped unread.
    oversized: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and not self.oversized

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
    method: str,
    path: str,
    payload: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    max_bytes: int | None = None,
) -> Answer:
    """One request; network failures come back as status 0 rather than exceptions. With `max_bytes`, a longer
    body is not parsed: the answer says `oversized`."""
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
            return _answer(response.status, _read(response, max_bytes), max_bytes)
    except urllib.error.HTTPError as exc:
        return _answer(exc.code, _read(exc, max_bytes), max_bytes)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        return Answer(0, {"error": {"code": "unreachable", "message": str(exc)}})


class Session:
    """Several requests over one kept-open HTTP connection (a batch of records), reconnecting if dropped."""

    def __init__(self) -> None:
        parts = urllib.parse.urlsplit(settings.MINISTRY_API_URL)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def call(
        self, method: str, path: str, payload: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        body = json.dumps(payload).encode() if payload is not None else None
        all_headers = {
            "Authorization": f"Bearer {settings.MINISTRY_API_TOKEN}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        }
        url = f"{self.prefix}/api/v1/{path.lstrip('/')}"
        for attempt in (1, 2):  # a kept-open connection the server closed meanwhile is opened once more
            try:
                if self.connection is None:
                    factory = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
                    self.connection = factory(self.host, self.port, timeout=settings.MINISTRY_TIMEOUT_SECONDS)
                self.connection.request(method, url, body=body, headers=all_headers)
                response = self.connection.getresponse()
                answer = Answer(response.status, _json(response.read()))
                if response.will_close:
                    self.close()
                return answer
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt == 2 or isinstance(exc, TimeoutError):
                    return Answer(0, {"error": {"code": "unreachable", "message": str(exc)}})
        return Answer(0, {"error": {"code": "unreachable", "message": ""}})


def _read(stream: Any, max_bytes: int | None) -> bytes:
    """The body, or with a bound one byte past it: enough to tell a body too long from one that fits exactly."""
    return bytes(stream.read() if max_bytes is None else stream.read(max_bytes + 1))


def _answer(status: int, raw: bytes, max_bytes: int | None) -> Answer:
    if max_bytes is not None and len(raw) > max_bytes:
        return Answer(status, {}, oversized=True)
    return Answer(status, _json(raw))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: arrays nested deeper than the parser goes
        return {}
    return value if isinstance(value, dict) else {}
