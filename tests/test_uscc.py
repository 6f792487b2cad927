import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspect_kit.registry import uscc
from tests.helpers import random_uscc

# Codes printed on real business licences (public information).
PUBLISHED = ["9144030071526726XG", "91330100716105852F", "91110108551385082Q"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert uscc.problem(code) is None


def test_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS[:6] == (1, 3, 9, 27, 19, 26)
    assert len(uscc.ALPHABET) == 31 and not set("IOZSV") & set(uscc.ALPHABET)


@given(st.integers(0, 2**32), st.integers(0, 16), st.integers(1, 30))
def test_any_single_substitution_is_detected(seed, pos, shift):
    code = random_uscc(random.Random(seed))
    assert uscc.is_valid(code)
    alphabet = uscc.ALPHABET
    replaced = alphabet[(alphabet.index(code[pos]) + shift) % 31]
    if 2 <= pos < 8 and not replaced.isdigit():
        replaced = str((int(code[pos]) + 1) % 10)
    corrupted = code[:pos] + replaced + code[pos + 1 :]
    assert corrupted != code
    assert not uscc.is_valid(corrupted)


@pytest.mark.parametrize(
    "code, reason",
    [
        ("9144030071526726X", "18 characters"),
        ("9144030071526726XGG", "18 characters"),
        ("9144030071526726XH", "check character is 'H', expected 'G'"),
        ("9144030071526726IG", "outside GB 32100"),
        ("91440A0071526726XG", "division code"),
    ],
)
def test_invalid_codes_say_why(code, reason):
    assert reason in uscc.problem(code)
