"""ministry_sync's Celery tasks live beside the services they drive (`services.py`), as pretix keeps them;
Celery's autodiscovery imports each app's `tasks` module, so they are named here for workers to register."""

from .services import (
    link_ministry_account,
    push_credit_record,
    push_credit_records,
    refresh_held_records,
    resend_undelivered,
)

__all__ = [
    "link_ministry_account",
    "push_credit_record",
    "push_credit_records",
    "refresh_held_records",
    "resend_undelivered",
]
