"""User-facing errors: one line that names the file, row or YAML line and says what to do."""

from __future__ import annotations


class CurateError(Exception):
    """A mistake in the user's input or environment; the CLI prints it as one line, never a traceback."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.where = where
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if self.where:
            text = f"{self.where}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return text
