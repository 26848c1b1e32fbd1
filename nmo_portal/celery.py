import os
from typing import Any

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmo_portal.settings")

app = Celery("nmo_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task: Any, /, **kwargs: Any) -> None:
    """Send `task` with keyword arguments once the current transaction commits (at once outside one).

    A worker must never look for a row that a rolled-back transaction never wrote, nor miss one that a
    still-open transaction has not yet made visible.
    """
    transaction.on_commit(lambda: task.delay(**kwargs))
