"""The HTTP face of the Ministry portal mock: JSON in and out, a bearer token, no sessions.

Every view reads its body, calls one service and shapes the answer; the rules live in services.py.
"""

import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import services
from .models import Faults, ReceivedRecord, Specialist, SpecialistCycle

logger = logging.getLogger(__name__)

P = ParamSpec("P")
Handler = Callable[Concatenate[HttpRequest, P], HttpResponse]

DEFAULT_TOKEN = "dev-ministry-token"  # noqa: S105 - the mock's development token; deployments set MINISTRY_API_TOKEN


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> JsonResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return JsonResponse({"error": error}, status=status, json_dumps_params={"ensure_ascii": False})


def answer(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _authorized(request: HttpRequest) -> bool:
    expected = str(getattr(settings, "MINISTRY_API_TOKEN", DEFAULT_TOKEN))
    if expected == DEFAULT_TOKEN and not settings.DEBUG:
        # The development token is public (it is in the README): outside development it opens nothing, even
        # if settings were made to accept it.
        logger.error("Ministry mock: refusing the development token with DEBUG off; set MINISTRY_API_TOKEN.")
        return False
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def ministry_api(*methods: str, control: bool = False) -> Callable[[Handler[P]], Handler[P]]:
    """Method check, bearer token, then (except on control endpoints) the simulated faults; a MinistryError
    raised anywhere below becomes its JSON error."""

    def decorate(handler: Handler[P]) -> Handler[P]:
        @functools.wraps(handler)
        def view(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request.method not in methods:
                response = error_response(405, "method_not_allowed", "Метод не поддерживается.")
                response["Allow"] = ", ".join(methods)
                return response
            if not _authorized(request):
                response = error_response(401, "unauthorized", "Нужен действующий токен доступа.")
                response["WWW-Authenticate"] = 'Bearer realm="ministry-mock"'
                return response
            try:
                if not control:
                    services.faults_apply()
                return handler(request, *args, **kwargs)
            except services.MinistryError as exc:
                return error_response(exc.status, exc.code, str(exc.message), exc.fields)

        return csrf_exempt(view)

    return decorate


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise services.InvalidRequest("Тело запроса — не JSON.", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise services.InvalidRequest("Тело запроса должно быть JSON-объектом.", code="invalid_json")
    return data


def _cycle_json(cycle: SpecialistCycle) -> dict[str, Any]:
    return {
        "id": cycle.id,
        "specialty_code": cycle.specialty_code,
        "starts_on": cycle.starts_on.isoformat(),
        "ends_on": cycle.ends_on.isoformat(),
    }


def _specialist_json(specialist: Specialist) -> dict[str, Any]:
    return {
        "specialist_id": specialist.id,
        "full_name": specialist.full_name,
        "cycles": [_cycle_json(cycle) for cycle in specialist.cycles.order_by("starts_on", "id")],
    }


def _receipt_json(record: ReceivedRecord) -> dict[str, Any]:
    return {"id": record.id, "cycle_id": record.cycle_id, "idempotency_key": record.idempotency_key}


def _record_json(record: ReceivedRecord) -> dict[str, Any]:
    # The specialty of the cycle the record was filed under; a record outside every cycle keeps the one it was
    # sent with, so that the sender can still tell which specialty it counts in.
    sent_with = record.payload.get("specialty_code") if isinstance(record.payload, dict) else None
    return {
        **_receipt_json(record),
        "specialty_code": record.cycle.specialty_code if record.cycle else str(sent_with or ""),
        "kind": record.kind,
        "zet": record.zet,
        "title": record.title,
        "earned_on": record.earned_on.isoformat(),
        "source_ref": record.source_ref,
        "received_at": record.received_at.isoformat(),
    }


def _faults_json(faults: Faults) -> dict[str, Any]:
    return {"latency_ms": faults.latency_ms, "failure_rate": faults.failure_rate, "down": faults.down}


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """The 404 of the mock running alone: JSON, as the portal's 404 page needs the portal's own URLs."""
    return error_response(404, "not_found", "Адрес не найден.")


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(500, "internal_error", "Внутренняя ошибка портала.")


def status(request: HttpRequest) -> JsonResponse:
    """The mock answers here whether it runs inside the dev server or alone on its own port."""
    return JsonResponse({"service": "ministry-mock", "status": "ok"})


def index(request: HttpRequest) -> JsonResponse:
    """What a person opening the mock in a browser needs: what it holds and how it is set to behave. Counts
    only, no personal data, as it needs no token; the admin shows the rows."""
    return answer(
        {
            "service": "ministry-mock",
            "stands_for": "https://edu.rosminzdrav.ru",
            "specialists": Specialist.objects.count(),
            "records": ReceivedRecord.objects.count(),
            "faults": _faults_json(Faults.current()),
            "endpoints": [
                "POST api/v1/accounts/link",
                "POST api/v1/records (Idempotency-Key)",
                "GET api/v1/specialists/<snils>/records",
                "GET|PUT api/v1/_faults",
                "POST api/v1/_specialists",
                "POST api/v1/_reset",
                "GET status/",
            ],
        }
    )


@ministry_api("POST")
def account_link(request: HttpRequest) -> HttpResponse:
    specialist, registered = services.account_link(data=_body(request))
    # Said only when true: the demo's mock did not know the СНИЛС and registered the specialist just now.
    return answer({**_specialist_json(specialist), **({"registered": True} if registered else {})})


@ministry_api("POST")
def records_receive(request: HttpRequest) -> HttpResponse:
    record, created = services.record_receive(
        idempotency_key=request.headers.get("Idempotency-Key", ""), data=_body(request)
    )
    return answer(_receipt_json(record), status=201 if created else 200)


@ministry_api("GET")
def specialist_records(request: HttpRequest, snils: str) -> HttpResponse:
    found = services.specialist_records(snils=snils)
    return answer({"records": [_record_json(record) for record in found.records], "progress": found.progress})


@ministry_api("GET", "PUT", control=True)
def faults(request: HttpRequest) -> HttpResponse:
    if request.method == "PUT":
        return answer(_faults_json(services.faults_update(data=_body(request))))
    return answer(_faults_json(Faults.current()))


@ministry_api("POST", control=True)
def specialist_create(request: HttpRequest) -> HttpResponse:
    specialist, created = services.specialist_upsert(data=_body(request))
    return answer({**_specialist_json(specialist), "snils": specialist.snils}, status=201 if created else 200)


@ministry_api("POST", control=True)
def reset(request: HttpRequest) -> HttpResponse:
    return answer({"deleted_records": services.records_reset()})
