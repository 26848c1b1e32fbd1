"""Marking many things done at once, each at most once: the rows of a batch of e-mails (a digest, a reminder)
inserted in one statement, skipping those that exist, telling which this statement inserted, so that the caller
mails those and no other. Two runs at once insert each row once: a row another run inserted and has not committed
yet makes this statement wait for that run's outcome, then skip it or insert it."""

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert_once(
    model: type[models.Model], *, columns: Sequence[str], rows: Sequence[Sequence[Any]], unique: Sequence[str]
) -> set[tuple[Any, ...]]:
    """INSERT … ON CONFLICT (`unique`) DO NOTHING RETURNING `unique` (PostgreSQL and SQLite alike); returns the
    `unique` values of the rows this statement inserted. `columns` and `unique` are column names of `model`'s
    table; `unique` must be the columns of one of its unique constraints."""
    if not rows:
        return set()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    names, keys = ", ".join(map(quote, columns)), ", ".join(map(quote, unique))
    with connection.cursor() as cursor:
        cursor.execute(
            # the table's and columns' own names and a placeholder per value formatted in; the values are parameters
            f"INSERT INTO {table} ({names}) VALUES {placeholders} "  # noqa: S608
            f"ON CONFLICT ({keys}) DO NOTHING RETURNING {keys}",
            [value for row in rows for value in row],
        )
        return {tuple(row) for row in cursor.fetchall()}
