"""Prints DATABASE_URL=… REDIS_URL=… for `make test`: what the environment says, else the local PostgreSQL
and Redis when they answer, else nothing (SQLite and local memory)."""

import os
import socket

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/nmo_portal"
# Database 15, so that tests clearing the cache never touch a developer's own Redis data.
LOCAL_REDIS = "redis://127.0.0.1:6379/15"


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_usable(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure means: fall back to SQLite
        return False
    return True


def main() -> None:
    pairs = []
    database = os.environ.get("DATABASE_URL")
    if database is None and answers("127.0.0.1", 5432) and postgres_usable(LOCAL_POSTGRES):
        database = LOCAL_POSTGRES
    if database:
        pairs.append(f"DATABASE_URL={database}")
    redis = os.environ.get("REDIS_URL")
    if redis is None and answers("127.0.0.1", 6379):
        redis = LOCAL_REDIS
    if redis:
        pairs.append(f"REDIS_URL={redis}")
    print(" ".join(pairs))


if __name__ == "__main__":
    main()
