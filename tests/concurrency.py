"""Running jobs at the same instant, each on its own database connection, for the race tests (PostgreSQL)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

from nmo_portal.errors import PortalError


def run_at_once(jobs: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Start every job together; each outcome is ("ok", result), (code, message) for a refusal the service
    gives, or (exception name, text) for anything else, so that an unexpected error shows in the assertion.

    One outcome per job, in the order of the jobs (so a test can tell whose outcome is whose); a job still
    running after the wait is ("still_running", None), so a hung thread is counted too."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[tuple[str, Any]] = [("still_running", None)] * len(jobs)
    lock = threading.Lock()

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcome: tuple[str, Any] = ("ok", job())
        except PortalError as exc:
            outcome = (exc.code, str(exc.message))
        except Exception as exc:  # noqa: BLE001 - reported in the outcomes, where the test's assertion shows it
            outcome = (type(exc).__name__, str(exc))
        finally:
            connections.close_all()
        with lock:
            outcomes[index] = outcome

    threads = [threading.Thread(target=worker, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with lock:
        return list(outcomes)
