"""The ИКП code format: alphabet, check symbol, normalisation of what people type, and bulk generation.

Pure Python on purpose: providers' own systems can copy this module to check a code the way the portal does.

A code is 12 symbols from a 35-symbol alphabet (no letter O, so it cannot be mistaken for zero). The first 11
are random; the 12th makes v1·2^11 + v2·2^10 + … + v11·2 + v12 ≡ 0 (mod 35). Each weight is a power of 2, which
is invertible modulo 35, and neighbouring weights differ by a power of 2 too, so every single mistyped symbol and
every swap of two different neighbours changes the sum: such typos are caught before the database is asked.
"""

import secrets
from typing import Final, Literal

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
BODY_LENGTH: Final = 11
CODE_LENGTH: Final = 12
DISPLAY_SPLIT: Final = 4  # shown as XXXX-XXXXXXXX

_BASE: Final = len(ALPHABET)
_VALUES: Final = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Weight of body position i (0-based) is 2^(11 - i); the check symbol's weight is 1.
_WEIGHTS: Final = tuple(pow(2, BODY_LENGTH - i, _BASE) for i in range(BODY_LENGTH))

CodeFormatReason = Literal["length", "symbol", "check"]


class CodeFormatError(ValueError):
    """Input that cannot be a code: a typo to report to the person, not a lookup to run against the database.

    `normalized` is what the portal read from the input, so the person can see, for example, that an O was
    read as a zero, or which character is not part of the alphabet.
    """

    def __init__(self, reason: CodeFormatReason, normalized: str) -> None:
        super().__init__(f"Not a valid ИКП code ({reason}): {normalized!r}")
        self.reason: CodeFormatReason = reason
        self.normalized = normalized


def _build_input_table() -> dict[int, str]:
    """Map every character people type for a code symbol to that symbol, in one `str.translate` pass.

    Lower case goes to upper case (Latin and Cyrillic, so a stray Cyrillic letter is shown the way it is
    printed), O of either script is zero, and Cyrillic letters that look like Latin ones are those letters.
    """
    look_alikes = {"O": "0", "О": "0", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "Р": "P"}
    look_alikes |= {"С": "C", "Т": "T", "Х": "X", "У": "Y"}
    lower = "abcdefghijklmnopqrstuvwxyz" + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    table = {ord(ch): look_alikes.get(ch.upper(), ch.upper()) for ch in lower}
    table |= {ord(ch): symbol for ch, symbol in look_alikes.items()}
    return table


_INPUT_TABLE: Final = _build_input_table()


def normalize_code(raw: str) -> str:
    """Read typed or pasted input the way a person means it: drop separators, fix case and look-alike letters.

    Anything that is not a letter or digit counts as a separator (dashes of all kinds, spaces, dots, slashes),
    so codes copied from a PDF, an e-mail or a phone note all read the same. Letters outside the alphabet are
    kept, so `parse_code` can say which character is wrong.
    """
    return "".join(ch for ch in raw.translate(_INPUT_TABLE) if ch.isalnum())


def _weighted_sum(symbols: str) -> int:
    return sum(_VALUES[symbol] * weight for symbol, weight in zip(symbols, _WEIGHTS, strict=False)) % _BASE


def check_symbol(body11: str) -> str:
    """Return the 12th symbol for an 11-symbol body: the one that brings the weighted sum to 0 modulo 35."""
    if len(body11) != BODY_LENGTH or any(symbol not in _VALUES for symbol in body11):
        raise ValueError(f"A code body is {BODY_LENGTH} symbols of {ALPHABET}: {body11!r}")
    return ALPHABET[-_weighted_sum(body11) % _BASE]


def is_valid(code12: str) -> bool:
    """Whether a stored-form code (12 symbols, upper case, no dash) has a correct check symbol.

    It does not normalise: use `parse_code` for what people type.
    """
    if len(code12) != CODE_LENGTH or any(symbol not in _VALUES for symbol in code12):
        return False
    return (_weighted_sum(code12[:BODY_LENGTH]) + _VALUES[code12[BODY_LENGTH]]) % _BASE == 0


def parse_code(raw: str) -> str:
    """Turn activation input into the stored form of a code, or say which kind of typo it has.

    A foreign character is reported before a wrong length, as it is the more specific hint (a Cyrillic
    letter that has no Latin look-alike, say), and both before the check symbol, which needs 12 symbols.
    """
    normalized = normalize_code(raw)
    if any(symbol not in _VALUES for symbol in normalized):
        raise CodeFormatError("symbol", normalized)
    if len(normalized) != CODE_LENGTH:
        raise CodeFormatError("length", normalized)
    if not is_valid(normalized):
        raise CodeFormatError("check", normalized)
    return normalized


def format_code(code12: str) -> str:
    """Display form `XXXX-XXXXXXXX`: the dash only helps reading; the database stores the 12 symbols."""
    if len(code12) != CODE_LENGTH:
        raise ValueError(f"A code is {CODE_LENGTH} symbols: {code12!r}")
    return f"{code12[:DISPLAY_SPLIT]}-{code12[DISPLAY_SPLIT:]}"


# Bulk generation turns one random integer below 35^11 into 11 symbols. Rather than 11 divmods and 11 lookups
# per code, it takes the integer apart in pairs of symbols (35^2 = 1225 values): one lead symbol and five pairs.
# For every part, a table holds its text and its share of the weighted sum, already multiplied by its weight.
_PAIR: Final = _BASE * _BASE
_PAIR_TEXT: Final = tuple(a + b for a in ALPHABET for b in ALPHABET)


def _pair_sums(first_position: int) -> tuple[int, ...]:
    """Share of the weighted sum of every symbol pair placed at body positions `first_position` and the next."""
    high, low = _WEIGHTS[first_position], _WEIGHTS[first_position + 1]
    return tuple((a * high + b * low) % _BASE for a in range(_BASE) for b in range(_BASE))


_LEAD_SUM: Final = tuple(value * _WEIGHTS[0] % _BASE for value in range(_BASE))
_SUM_1, _SUM_2, _SUM_3, _SUM_4, _SUM_5 = (_pair_sums(position) for position in (1, 3, 5, 7, 9))
_CHECK: Final = tuple(ALPHABET[-total % _BASE] for total in range(6 * (_BASE - 1) + 1))
_LIMIT: Final = _BASE**BODY_LENGTH


def _draw_codes(count: int) -> list[str]:
    """Draw `count` codes, one random integer each; may contain duplicates."""
    randbelow, text = secrets.randbelow, _PAIR_TEXT
    lead_sum, sum_1, sum_2, sum_3, sum_4, sum_5, check = _LEAD_SUM, _SUM_1, _SUM_2, _SUM_3, _SUM_4, _SUM_5, _CHECK
    codes = []
    for _ in range(count):
        number, p5 = divmod(randbelow(_LIMIT), _PAIR)
        number, p4 = divmod(number, _PAIR)
        number, p3 = divmod(number, _PAIR)
        number, p2 = divmod(number, _PAIR)
        lead, p1 = divmod(number, _PAIR)
        total = lead_sum[lead] + sum_1[p1] + sum_2[p2] + sum_3[p3] + sum_4[p4] + sum_5[p5]
        codes.append(ALPHABET[lead] + text[p1] + text[p2] + text[p3] + text[p4] + text[p5] + check[total])
    return codes


def generate_codes(n: int) -> list[str]:
    """Return `n` distinct new codes in stored form.

    Distinct within the batch only: the database's unique constraint is what guards against codes issued
    before, and the caller draws again for the few that collide.
    """
    if n < 0:
        raise ValueError(f"Cannot generate a negative number of codes: {n}")
    codes = dict.fromkeys(_draw_codes(n))
    while len(codes) < n:
        codes.update(dict.fromkeys(_draw_codes(n - len(codes))))
    return list(codes)


def generate_code() -> str:
    """Return one new code in stored form."""
    return _draw_codes(1)[0]
