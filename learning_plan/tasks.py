"""The learning plan's Celery tasks live beside what they drive (the accreditation reminders), as pretix keeps
them; Celery's autodiscovery imports each app's `tasks` module, so they are named here for workers to register."""

from .reminders import send_accreditation_reminders

__all__ = ["send_accreditation_reminders"]
