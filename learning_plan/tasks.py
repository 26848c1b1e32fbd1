"""The learning plan's Celery tasks live beside the services they drive, as pretix keeps them; Celery's
autodiscovery imports each app's `tasks` module, so they are named here for workers to register."""

from .export import build_portfolio_export

__all__ = ["build_portfolio_export"]
