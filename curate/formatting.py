"""The verl `MultiTurnSFTDataset` row: messages exactly as training (and `token_length`) will see them."""

from __future__ import annotations

import re
from typing import Any

_THINK = re.compile(r"\s*<think>\s*(.*?)\s*</think>\s*(.*)", re.DOTALL)


def normalize_trace(text: str) -> str:
    """`<think>\\n{reasoning}\\n</think>\\n\\n{answer}`: the shape under which a verbatim ChatML rendering of
    the turn equals the stock Qwen3 template applied to the whole conversation (so token counts agree).
    Text without a well-formed think block is returned stripped."""
    match = _THINK.fullmatch(text)
    if match is None or "<think>" in match.group(1) or "</think>" in match.group(2):
        return text.strip()
    reasoning, answer = match.group(1), match.group(2).strip()
    return f"<think>\n{reasoning}\n</think>\n\n{answer}"


def build_messages(
    problem: str,
    generation: str,
    *,
    user_template: str = "{problem}",
    system_prompt: str | None = None,
    normalize_think: bool = True,
) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": user_template.replace("{problem}", problem)})
    content = normalize_trace(generation) if normalize_think else generation
    messages.append({"role": "assistant", "content": content})
    return messages


def format_kwargs(spec: Any) -> dict[str, Any]:
    """The `build_messages` keywords of a recipe's `format` section."""
    return {
        "user_template": spec.user_template,
        "system_prompt": spec.system_prompt,
        "normalize_think": spec.normalize_think,
    }
