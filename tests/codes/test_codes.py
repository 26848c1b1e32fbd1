"""The ИКП code format as SPEC.md states it: the reference arithmetic is written out here, not imported."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codes.format import CodeFormatError, check_symbol, format_code, generate_code, generate_codes, is_valid, parse_code

SPEC_ALPHABET = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"

# What people may type for a symbol, besides the symbol itself and its lower case.
TYPED_VARIANTS = {
    "0": ["O", "o", "О", "о"],  # Latin and Cyrillic O
    "A": ["А", "а"],
    "B": ["В", "в"],
    "C": ["С", "с"],
    "E": ["Е", "е"],
    "H": ["Н", "н"],
    "K": ["К", "к"],
    "M": ["М", "м"],
    "P": ["Р", "р"],
    "T": ["Т", "т"],
    "X": ["Х", "х"],
    "Y": ["У", "у"],
}
SEPARATORS = ["", " ", "  ", "-", "‐", "–", "—", "−", ".", "_", "/", "\\", "#", ",", "\t", "\n", "\u00a0"]


def spec_check_value(body: str) -> int:
    """v12 from the formula: v1·2^11 + … + v11·2 + v12 ≡ 0 (mod 35)."""
    total = sum(SPEC_ALPHABET.index(symbol) * 2 ** (11 - i) for i, symbol in enumerate(body))
    return -total % 35


bodies = st.text(alphabet=SPEC_ALPHABET, min_size=11, max_size=11)
valid_codes = bodies.map(lambda body: body + SPEC_ALPHABET[spec_check_value(body)])


@st.composite
def typed_forms(draw: st.DrawFn, code: str) -> str:
    """The code as a person might type it: any case, look-alike letters, separators anywhere."""
    typed = []
    for symbol in code:
        typed.append(draw(st.sampled_from(SEPARATORS)))
        typed.append(draw(st.sampled_from([symbol, symbol.lower(), *TYPED_VARIANTS.get(symbol, [])])))
    typed.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(typed)


def test_known_vector_matches_the_formula_worked_by_hand() -> None:
    # Body 0123456789A has values 0..10:
    # 1·1024 + 2·512 + 3·256 + 4·128 + 5·64 + 6·32 + 7·16 + 8·8 + 9·4 + 10·2 = 4072 = 35·116 + 12,
    # so v12 = 35 - 12 = 23, the 24th symbol, N (4072 + 23 = 4095 = 35·117).
    assert spec_check_value("0123456789A") == 23
    assert check_symbol("0123456789A") == "N"
    assert is_valid("0123456789AN")
    assert parse_code("0123-456789AN") == "0123456789AN"


def test_last_symbol_z_has_value_34_because_there_is_no_o() -> None:
    # Z = 34 ≡ -1 and 2^12 - 2 = 4094 ≡ -1 (mod 35): the body sums to 1, so the check symbol is Z again.
    assert check_symbol("ZZZZZZZZZZZ") == "Z"
    assert is_valid("ZZZZZZZZZZZZ")


@given(bodies)
def test_check_symbol_agrees_with_the_formula_for_any_body(body: str) -> None:
    assert check_symbol(body) == SPEC_ALPHABET[spec_check_value(body)]


@given(st.data())
def test_code_reads_back_whatever_case_look_alikes_and_separators_are_typed(data: st.DataObject) -> None:
    code = data.draw(valid_codes)
    typed = data.draw(typed_forms(code))
    assert parse_code(typed) == code


@given(valid_codes)
def test_every_single_symbol_change_is_caught_as_a_typo(code: str) -> None:
    for position, original in enumerate(code):
        for replacement in SPEC_ALPHABET.replace(original, ""):
            changed = code[:position] + replacement + code[position + 1 :]
            assert not is_valid(changed)
            with pytest.raises(CodeFormatError) as error:
                parse_code(changed)
            assert error.value.reason == "check"
            assert error.value.normalized == changed


@given(valid_codes)
def test_every_swap_of_different_neighbours_is_caught_as_a_typo(code: str) -> None:
    for position in range(len(code) - 1):
        left, right = code[position], code[position + 1]
        if left == right:
            continue
        swapped = code[:position] + right + left + code[position + 2 :]
        with pytest.raises(CodeFormatError) as error:
            parse_code(swapped)
        assert error.value.reason == "check"


def test_generated_codes_are_distinct_valid_and_free_of_letter_o() -> None:
    codes = generate_codes(800)

    assert len(codes) == 800
    assert len(set(codes)) == 800
    for code in codes:
        assert re.fullmatch(f"[{SPEC_ALPHABET}]{{12}}", code)
        assert "O" not in code
        assert spec_check_value(code[:11]) == SPEC_ALPHABET.index(code[11])
        assert is_valid(code)
        assert parse_code(format_code(code).lower()) == code


def test_generated_codes_use_every_symbol_at_every_position() -> None:
    # 800 codes put each symbol at a position about 23 times; a miss by chance is below one in 10^7.
    codes = generate_codes(800)
    for position in range(12):
        assert {code[position] for code in codes} == set(SPEC_ALPHABET)


def test_single_generated_code_is_valid() -> None:
    code = generate_code()
    assert len(code) == 12
    assert is_valid(code)


def test_generating_no_codes_gives_an_empty_batch() -> None:
    assert generate_codes(0) == []


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("", ""),
        ("0123-456789A", "0123456789A"),
        ("0123-456789AN-7", "0123456789AN7"),
        ("о123 456 789 аn 0", "0123456789AN0"),
    ],
)
def test_wrong_length_is_reported_with_what_was_read(typed: str, normalized: str) -> None:
    with pytest.raises(CodeFormatError) as error:
        parse_code(typed)
    assert error.value.reason == "length"
    assert error.value.normalized == normalized


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("0123-456Ж89AN", "0123456Ж89AN"),
        ("0123-456щ89AN", "0123456Щ89AN"),
        ("0123-456Ж89", "0123456Ж89"),  # also too short: the foreign letter is the more useful hint
        ("0123-4567-89AÑ", "0123456789AÑ"),
    ],
)
def test_character_outside_the_alphabet_is_reported_with_what_was_read(typed: str, normalized: str) -> None:
    with pytest.raises(CodeFormatError) as error:
        parse_code(typed)
    assert error.value.reason == "symbol"
    assert error.value.normalized == normalized


def test_wrong_check_symbol_is_reported_with_what_was_read() -> None:
    with pytest.raises(CodeFormatError) as error:
        parse_code("o123-456789a-m")
    assert error.value.reason == "check"
    assert error.value.normalized == "0123456789AM"


def test_code_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="0123456789AM"):
        parse_code("0123456789AM")


def test_hash_and_other_punctuation_are_separators_not_foreign_symbols() -> None:
    assert parse_code("#0123#456789AN#") == "0123456789AN"
    assert parse_code("0.1.2.3/4_5:6;7(8)9*A+N") == "0123456789AN"


def test_is_valid_accepts_only_the_stored_form() -> None:
    assert is_valid("0123456789AN")
    assert not is_valid("0123-456789AN")
    assert not is_valid("0123456789an")
    assert not is_valid("O123456789AN")
    assert not is_valid("0123456789A")
    assert not is_valid("")


@pytest.mark.parametrize("body", ["0123456789", "0123456789AB", "O123456789A", "0123456789a"])
def test_check_symbol_refuses_a_body_that_is_not_eleven_alphabet_symbols(body: str) -> None:
    with pytest.raises(ValueError, match="body"):
        check_symbol(body)


def test_display_form_is_four_symbols_dash_eight_symbols() -> None:
    assert format_code("0123456789AN") == "0123-456789AN"
    code = generate_code()
    shown = format_code(code)
    assert re.fullmatch(f"[{SPEC_ALPHABET}]{{4}}-[{SPEC_ALPHABET}]{{8}}", shown)
    assert shown.replace("-", "") == code


def test_display_form_refuses_a_code_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="12 symbols"):
        format_code("0123456789A")
