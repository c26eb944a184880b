"""transformers `generate`: slow, one problem at a time, for CPU smoke tests and machines without vLLM.

The global torch RNG is reseeded with each problem's seed before its rollouts are drawn, so a resumed run
draws the same rollouts for the problems it still has to do as an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from curate.errors import CurateError
from curate.evaluate.backends.base import Generation, Request, Sampling


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, *, tokenizer: Any, device: str | None = None, dtype: str = "auto") -> None:
        self.model_name = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype

    def generate(
        self, requests: Sequence[Request], sampling: Sampling
    ) -> Iterator[tuple[Request, list[Generation]]]:
        if not requests:
            return
        import torch
        from transformers import AutoModelForCausalLM

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            loaded: Any = AutoModelForCausalLM.from_pretrained(self.model_name, dtype=self.dtype)
            model = loaded.to(device)
        except OSError as exc:
            raise CurateError(
                f"cannot load model {self.model_name!r} ({str(exc).splitlines()[0]})",
                hint="pass a local model folder or a Hugging Face id this machine can download",
            ) from None
        model.eval()
        stop_ids = _stop_ids(model, self.tokenizer)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else stop_ids[0]
        sample = sampling.temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens,
            # Greedy decoding (temperature 0) gives one answer: computed once, repeated for every rollout.
            "num_return_sequences": sampling.rollouts if sample else 1,
            "do_sample": sample,
            "eos_token_id": stop_ids,
            "pad_token_id": pad_id,
        }
        if sample:
            # Explicit values everywhere: an unset option would fall back to the model's generation_config.
            options.update(
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=max(sampling.top_k, 0),
                min_p=sampling.min_p or None,
            )
        for request in requests:
            if request.prompt_ids is None:
                raise ValueError(f"{request.key}: the transformers backend needs tokenized prompts")
            input_ids = torch.tensor([request.prompt_ids], device=device)
            torch.manual_seed(request.seed)
            with torch.inference_mode():
                output = model.generate(
                    input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **options
                )
            new_tokens = output[:, input_ids.shape[1] :].tolist()
            generations = [self._generation(tokens, stop_ids) for tokens in new_tokens]
            yield request, generations if sample else generations * sampling.rollouts

    def _generation(self, tokens: list[int], stop_ids: list[int]) -> Generation:
        """Cut at the first stop token (what follows is padding); no stop token means the budget ran out."""
        end = next((i for i, t in enumerate(tokens) if t in stop_ids), None)
        if end is None:
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            return Generation(text=text, finish_reason="length", num_tokens=len(tokens))
        text = self.tokenizer.decode(tokens[:end], skip_special_tokens=True)
        return Generation(text=text, finish_reason="stop", num_tokens=end + 1)


def _stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """The model's generation_config EOS ids plus the tokenizer's EOS, as vLLM stops on both."""
    configured = model.generation_config.eos_token_id
    ids = [] if configured is None else [configured] if isinstance(configured, int) else list(configured)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    if not ids:
        raise CurateError(
            f"neither the model nor the tokenizer of {model.name_or_path!r} names an end-of-sequence token",
            hint="set eos_token_id in the model's generation_config.json",
        )
    return ids
