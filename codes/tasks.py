"""The codes' Celery tasks live beside the services they drive (issuance, certificates), as pretix keeps them;
Celery's autodiscovery imports each app's `tasks` module, so they are named here for workers to register."""

from .certificates import build_event_certificates, build_missed_certificates, mail_certificates, mail_due_certificates
from .issuance import issue_batch

__all__ = [
    "build_event_certificates",
    "build_missed_certificates",
    "issue_batch",
    "mail_certificates",
    "mail_due_certificates",
]
