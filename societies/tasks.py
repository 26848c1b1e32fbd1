"""The societies' Celery tasks live beside what they drive (the weekly digest); Celery's autodiscovery imports each
app's `tasks` module, so they are named here for workers to register."""

from .digest import send_announcement_digests

__all__ = ["send_announcement_digests"]
