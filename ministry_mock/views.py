from django.http import HttpRequest, JsonResponse


def status(request: HttpRequest) -> JsonResponse:
    """The mock answers here whether it runs inside the dev server or alone on its own port."""
    return JsonResponse({"service": "ministry-mock", "status": "ok"})
