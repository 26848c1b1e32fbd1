"""The learning plan's Celery tasks live beside what they drive (the accreditation reminders, the portfolio's
export), as pretix keeps them; Celery's autodiscovery imports each app's `tasks` module, so they are named here
for workers to register."""

from .export import build_portfolio_export
from .reminders import send_accreditation_reminders

__all__ = ["build_portfolio_export", "send_accreditation_reminders"]
