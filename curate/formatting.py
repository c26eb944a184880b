"""The verl `MultiTurnSFTDataset` row: messages exactly as training (and `token_length`) will see them."""

from __future__ import annotations

from typing import Any


def normalize_trace(text: str) -> str:
    """`<think>\n{reasoning}\n</think>\n\n{answer}`: the shape under which a verbatim ChatML rendering of
    the turn equals the stock Qwen3 template applied to the whole conversation (so token counts agree).
    Text without exactly one well-formed leading think block is returned stripped. Plain string scans, not a
    regex: this runs on every candidate trace."""
    body = text.lstrip()
    end = body.find("</think>")
    if not body.startswith("<think>") or end < 0:
        return text.strip()
    reasoning, answer = body[7:end].strip(), body[end + 8 :].strip()
    if "<think>" in reasoning or "</think>" in answer:
        return text.strip()
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
