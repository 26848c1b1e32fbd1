import logging
import os
from typing import Any

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmo_portal.settings")

logger = logging.getLogger(__name__)

app = Celery("nmo_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task: Any, /, **kwargs: Any) -> None:
    """Send `task` with keyword arguments once the current transaction commits (at once outside one).

    A worker must never look for a row that a rolled-back transaction never wrote, nor miss one that a
    still-open transaction has not yet made visible. A broker that cannot be reached (or a failing task in
    the in-process mode) never turns a committed action into an error page: work that must not be lost
    is kept in the database (the Ministry outbox) and picked up again by the periodic task.
    """

    def send() -> None:
        try:
            task.delay(**kwargs)
        except Exception:
            logger.exception("Could not enqueue %s(%s)", getattr(task, "name", task), kwargs)

    transaction.on_commit(send)
