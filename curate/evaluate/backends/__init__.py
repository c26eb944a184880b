"""Generation backends: vLLM offline (GPUs), an OpenAI-compatible server, transformers (CPU smoke tests).

Each backend module imports its heavy dependency only when it generates, so `curate eval score` and the
other backends work where vLLM or torch is not installed.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from curate.errors import CurateError
from curate.evaluate.backends.base import Backend

BACKENDS = ("vllm", "openai", "transformers")
_EXTRAS = {"vllm": ("vllm",), "transformers": ("torch", "transformers")}


def check_available(name: str) -> None:
    """Fail in one line, before anything is loaded or written, when the backend's packages are missing."""
    if name not in BACKENDS:
        raise CurateError(f"unknown backend {name!r}", hint=f"use one of {', '.join(BACKENDS)}")
    missing = [pkg for pkg in _EXTRAS.get(name, ()) if importlib.util.find_spec(pkg) is None]
    if missing:
        extra = "vllm" if name == "vllm" else "eval"
        raise CurateError(
            f"the {name} backend needs {' and '.join(missing)}, which is not installed",
            hint=f"pip install 'curate[{extra}]'",
        )


def make_backend(name: str, model: str, *, tokenizer: Any = None, **options: Any) -> Backend:
    """The backend `name` for `model`; `tokenizer` (a loaded Hugging Face tokenizer) is what the
    transformers backend decodes with and the openai backend counts tokens with.

    options: vllm -- tokenizer_name, tensor_parallel, max_model_len, gpu_memory_utilization, seed;
    openai -- base_url, api, api_key, concurrency, retries, backoff, timeout."""
    check_available(name)
    if name == "vllm":
        from curate.evaluate.backends.offline_vllm import VLLMBackend

        return VLLMBackend(model, **options)
    if name == "openai":
        from curate.evaluate.backends.openai_api import OpenAIBackend

        return OpenAIBackend(model, tokenizer=tokenizer, **options)
    from curate.evaluate.backends.hf import TransformersBackend

    return TransformersBackend(model, tokenizer=tokenizer, **options)
