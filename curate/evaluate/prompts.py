"""The evaluation prompt: the problem plus Qwen's boxed-answer instruction, through the model's chat template.

Every backend sends the same token ids (or, for a chat server, the same messages), so runs on vLLM, an
OpenAI-compatible server and transformers are comparable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.errors import CurateError

# README, "Evaluate: `curate eval`": Qwen3's thinking-mode math instruction, on its own line after the problem.
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
# Thinking mode: Qwen3's template reads this flag; templates without it ignore the extra variable.
TEMPLATE_KWARGS: dict[str, Any] = {"enable_thinking": True}


def user_message(problem: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{problem}\n{INSTRUCTION}"}]


def load_tokenizer(name: str, chat_template: Path | None = None) -> Any:
    """The model's Hugging Face tokenizer, optionally with its chat template replaced by a jinja file."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise CurateError(
            "this backend renders prompts with the transformers tokenizer, which is not installed",
            hint="pip install 'curate[eval]'",
        ) from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise CurateError(
            f"cannot load a tokenizer from {name!r} ({str(exc).splitlines()[0]})",
            hint="pass a local model folder, or --tokenizer with a folder holding the tokenizer files",
        ) from None
    if chat_template is not None:
        try:
            tokenizer.chat_template = chat_template.read_text(encoding="utf-8")
        except OSError as exc:
            raise CurateError(
                f"cannot read the chat template ({exc.strerror})", where=str(chat_template)
            ) from None
    if not tokenizer.chat_template:
        raise CurateError(
            f"the tokenizer of {name!r} has no chat template",
            hint="pass --chat-template FILE.jinja (e.g. the Qwen3 template)",
        )
    return tokenizer


def render(tokenizer: Any, problem: str) -> str:
    """The chat-templated prompt text, ending with the assistant generation prompt."""
    return tokenizer.apply_chat_template(
        user_message(problem), tokenize=False, add_generation_prompt=True, **TEMPLATE_KWARGS
    )


def encode(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a rendered prompt; the template already holds any BOS, so none is added."""
    return list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
