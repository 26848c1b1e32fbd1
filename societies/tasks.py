"""The societies' Celery tasks live beside what they drive (the weekly digest, the prepared society reports);
Celery's autodiscovery imports each app's `tasks` module, so they are named here for workers to register."""

from .digest import send_announcement_digests
from .report_prepared import prepare_society_report, prepare_society_reports

__all__ = ["prepare_society_report", "prepare_society_reports", "send_announcement_digests"]
