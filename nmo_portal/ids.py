"""The range of the portal's ids (BigAutoField): a number past it names nothing, and the databases refuse it
in a query (SQLite raises OverflowError), so a parameter that becomes an id is checked against it first."""

from typing import Final

MAX_ID: Final = 2**63 - 1
