"""`manage.py check --deploy`: the mock mounted inside a production portal is a mistake worth a warning."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def mock_not_mounted(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.MINISTRY_MOCK_MOUNTED and settings.ROOT_URLCONF == "nmo_portal.urls":
        return [
            Warning(
                "The Ministry mock is mounted at /ministry-mock/ in the portal: anyone holding its token reads "
                "doctors' records there and sets it down.",
                hint="Unset MINISTRY_MOCK_MOUNTED in production; run the mock alone (ROOT_URLCONF=ministry_mock.urls).",
                id="ministry_mock.W001",
            )
        ]
    return []
