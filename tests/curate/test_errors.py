"""One-line errors that survive a trip through a worker process, and text from servers made safe."""

from __future__ import annotations

import pickle

import pytest

from curate.errors import CurateError, redact


def test_an_error_keeps_its_place_and_hint_across_processes() -> None:
    error = CurateError("uuid is null", where="a.parquet row index 3", hint="fix the row")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) == "a.parquet row index 3: uuid is null (fix the row)"


def test_an_error_is_one_line() -> None:
    assert str(CurateError("first\nsecond", where="x")) == "x: first second"


@pytest.mark.parametrize(
    "text",
    [
        "denied for hf_AbCdEfGhIjKlMnOpQrStUv0123",
        "Authorization: Bearer sk-LongSecretValue1234567890abcdef",
        "https://hub/api?token=abc123&x=1",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "key Zx9QmP2LkR8vTn4WcY7bHs3JdF6gK1aE leaked",
    ],
)
def test_secrets_are_redacted(text: str) -> None:
    safe = redact(text)
    assert "[redacted]" in safe
    for secret in ("AbCdEfGh", "LongSecret", "abc123", "eyJzdWIi", "Zx9QmP2L"):
        assert secret not in safe


def test_addresses_and_names_are_kept() -> None:
    text = "commit 0123456789abcdef0123456789abcdef01234567 of open-r1/OpenR1-Math-220k-extended not found"
    assert redact(text) == text
    assert len(redact("x" * 500, limit=100)) == 100
