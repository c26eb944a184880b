"""What every generation backend takes and gives back.

A backend receives all pending problems at once and yields each problem's rollouts as soon as they are all
done, in whatever order they finish, so the runner can write them to disk one problem at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    """Sampling settings shared by all backends (Qwen3 thinking mode by default, README, "Evaluate: `curate eval`")."""

    rollouts: int = 16
    max_tokens: int = 32768
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20  # <= 0: no top-k cut
    min_p: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Request:
    """One problem's prompt. `prompt` is the chat-templated text and `prompt_ids` its tokens (None where a
    chat server applies the template to `messages` itself); `seed` is this problem's sampling seed."""

    key: str
    messages: list[dict[str, str]]
    prompt: str | None
    prompt_ids: list[int] | None
    seed: int


@dataclass(frozen=True)
class Generation:
    """One rollout. `finish_reason` is "length" when it hit max_tokens; `num_tokens` counts generated
    tokens, the stop token included (None where the backend cannot tell)."""

    text: str
    finish_reason: str | None
    num_tokens: int | None


class Backend(Protocol):
    name: str

    def generate(
        self, requests: Sequence[Request], sampling: Sampling
    ) -> Iterator[tuple[Request, list[Generation]]]:
        """Yield (request, its `sampling.rollouts` generations) per problem as each problem completes."""
        ...
