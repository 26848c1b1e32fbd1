"""СНИЛС: the insurance number that identifies a doctor at the Ministry.

Eleven digits, the last two a control sum of the first nine (weights 9…1, taken modulo 101, with 100
written as 00). Numbers up to 001-001-998 were issued before the control sum existed and are accepted
as they are.
"""

import re
from typing import Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s\-‐‑–—]+")
_LAST_NUMBER_WITHOUT_CONTROL = 1001998


def normalize_snils(value: str) -> str:
    """Strip the spaces and dashes people type; '112-233-445 95' → '11223344595'."""
    return _SEPARATORS.sub("", value or "")


def snils_control(number: str) -> str:
    """The two control digits for the first nine digits of a СНИЛС."""
    total = sum(int(digit) * weight for digit, weight in zip(number[:9], range(9, 0, -1), strict=True))
    total %= 101
    return f"{0 if total == 100 else total:02d}"


def format_snils(value: str) -> str:
    value = normalize_snils(value)
    if len(value) != 11:
        return value
    return f"{value[0:3]}-{value[3:6]}-{value[6:9]} {value[9:11]}"


def validate_snils(value: str) -> None:
    number = normalize_snils(value)
    if not number.isdigit() or not number.isascii() or len(number) != 11:
        raise ValidationError(
            _("A СНИЛС has 11 digits, for example 112-233-445 95."),
            code="snils_length",
        )
    if int(number[:9]) > _LAST_NUMBER_WITHOUT_CONTROL and number[9:] != snils_control(number):
        raise ValidationError(
            _("This СНИЛС has a wrong control sum: please check the digits against your card."),
            code="snils_control",
        )


SNILS_LENGTH: Final = 11


def snils_cell(raw: object) -> str:
    """A СНИЛС cell normalized to its digits ("" when empty); not validated."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return f"{raw:0{SNILS_LENGTH}d}"  # a СНИЛС typed into a number cell has lost its leading zeros
    return normalize_snils("" if raw is None else str(raw).strip())
