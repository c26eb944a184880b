"""User-facing errors: one line that names the file, row or YAML line and says what to do."""

from __future__ import annotations

import re
from typing import Any


class CurateError(Exception):
    """A mistake in the user's input or environment; the CLI prints it as one line, never a traceback."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.where = where
        self.hint = hint
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process, it crosses back to the driver by pickle: keep `where` and `hint`.
        return (_rebuild, (str(self.args[0]) if self.args else "", self.where, self.hint))

    def __str__(self) -> str:
        text = super().__str__()
        if self.where:
            text = f"{self.where}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return " ".join(text.split())  # one line, whatever the parts held


def _rebuild(message: str, where: str | None, hint: str | None) -> CurateError:
    return CurateError(message, where=where, hint=hint)


# What a secret looks like in text a server sent back: Hugging Face tokens, bearer/basic credentials, JWTs,
# `token=...`-style assignments, and long random-looking runs of letters and digits (a 40-digit hex commit
# sha is left alone: it is an address, not a secret).
_SECRETS = (
    re.compile(r"\bhf_[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9._-]+"),
    re.compile(r"(?i)\b(token|api[_-]?key|secret|password|authorization)(\s*[=:]\s*)\S+"),
)
_RANDOM_RUN = re.compile(r"[A-Za-z0-9_\-]{20,}")


def redact(text: str, limit: int = 200) -> str:
    """`text` from a remote service made safe to print: secrets replaced by `[redacted]`, one line, at most
    `limit` characters. Servers echo request headers and URLs in error bodies; a token must never reach a
    terminal or a CI log through them."""
    text = " ".join(text.split())
    text = _SECRETS[0].sub("[redacted]", text)
    text = _SECRETS[1].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _SECRETS[2].sub("[redacted]", text)
    text = _SECRETS[3].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _RANDOM_RUN.sub(lambda m: m.group(0) if _harmless(m.group(0)) else "[redacted]", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _harmless(run: str) -> bool:
    """Words, names and hex digests are fine; a long stretch mixing letters and digits (a key) is not."""
    for part in re.split(r"[-_]", run):
        if len(part) < 20 or re.fullmatch(r"[0-9a-f]+|[A-Za-z]+", part):
            continue
        kinds = sum(bool(re.search(p, part)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
        if kinds == 3 or (kinds == 2 and len(part) >= 32):
            return False
    return True
