"""vLLM offline inference: the backend for GPUs (tensor parallel across the GPUs of one node).

All pending problems are queued in one engine so the scheduler keeps the batch full, and the engine is
stepped by hand (vLLM's `LLMEngine` add_request/step loop) so each problem is handed back, and written to
disk, the moment its last rollout finishes instead of when the whole suite does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from curate.evaluate.backends.base import Generation, Request, Sampling


class VLLMBackend:
    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        tokenizer_name: str | None = None,
        tensor_parallel: int = 1,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "auto",
        seed: int = 0,
    ) -> None:
        self.engine_args: dict[str, Any] = {
            "model": model,
            "tokenizer": tokenizer_name or model,
            "tensor_parallel_size": tensor_parallel,
            "max_model_len": max_model_len,
            "gpu_memory_utilization": gpu_memory_utilization,
            "dtype": dtype,
            "seed": seed,
        }

    def generate(
        self, requests: Sequence[Request], sampling: Sampling
    ) -> Iterator[tuple[Request, list[Generation]]]:
        if not requests:
            return
        from vllm import EngineArgs, LLMEngine, SamplingParams
        from vllm.sampling_params import RequestOutputKind

        engine = LLMEngine.from_engine_args(EngineArgs(**self.engine_args))
        pending = {str(index): request for index, request in enumerate(requests)}
        for request_id, request in pending.items():
            if request.prompt_ids is None:
                raise ValueError(f"{request.key}: the vllm backend needs tokenized prompts")
            params = SamplingParams(
                n=sampling.rollouts,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k if sampling.top_k > 0 else -1,
                min_p=sampling.min_p,
                # vLLM's default is 16 tokens: never leave it unset.
                max_tokens=sampling.max_tokens,
                # vLLM seeds the n samples of a request with seed, seed + 1, ...: reproducible per problem,
                # whatever else shares the batch.
                seed=request.seed,
                # Only the finished request, with all n completions gathered.
                output_kind=RequestOutputKind.FINAL_ONLY,
            )
            engine.add_request(request_id, {"prompt_token_ids": request.prompt_ids}, params)
        while engine.has_unfinished_requests():
            for output in engine.step():
                if not output.finished:
                    continue
                completions = sorted(output.outputs, key=lambda c: c.index)
                yield (
                    pending.pop(output.request_id),
                    [
                        Generation(text=c.text, finish_reason=c.finish_reason, num_tokens=len(c.token_ids))
                        for c in completions
                    ],
                )
        if pending:
            raise RuntimeError(f"vLLM finished without returning {len(pending)} requests")
