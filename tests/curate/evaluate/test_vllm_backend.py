"""The vLLM backend's use of vLLM's offline API, against a stand-in `vllm` package (vLLM itself needs a
GPU and is not installed here). The stand-in mirrors the documented names and defaults that matter:
`SamplingParams.max_tokens` defaults to 16, requests are added by id and come back from `step()` in
whatever order they finish, and a FINAL_ONLY request carries all its n completions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

STAND_IN = """
import enum
from dataclasses import dataclass
from typing import Any

CALLS: dict[str, Any] = {"requests": []}


class RequestOutputKind(enum.Enum):
    CUMULATIVE = 0
    DELTA = 1
    FINAL_ONLY = 2


@dataclass
class SamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    max_tokens: int | None = 16
    output_kind: RequestOutputKind = RequestOutputKind.CUMULATIVE


@dataclass
class EngineArgs:
    model: str
    tokenizer: str | None = None
    tensor_parallel_size: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    seed: int | None = 0


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list
    finish_reason: str | None


@dataclass
class RequestOutput:
    request_id: str
    outputs: list
    finished: bool


class LLMEngine:
    def __init__(self, args: EngineArgs) -> None:
        self.queue: list = []

    @classmethod
    def from_engine_args(cls, engine_args: EngineArgs) -> "LLMEngine":
        CALLS["engine_args"] = engine_args
        return cls(engine_args)

    def add_request(self, request_id: str, prompt: dict, params: SamplingParams) -> None:
        CALLS["requests"].append((request_id, prompt, params))
        self.queue.append((request_id, prompt, params))

    def has_unfinished_requests(self) -> bool:
        return bool(self.queue)

    def step(self) -> list:
        request_id, prompt, params = self.queue.pop()  # last in, first done
        tokens = min(params.max_tokens, 3)
        outputs = [
            CompletionOutput(i, f"<think>{params.seed + i}</think> \\\\boxed{{{len(prompt['prompt_token_ids'])}}}",
                             [0] * tokens, "length" if params.max_tokens <= 3 else "stop")
            for i in reversed(range(params.n))
        ]
        partial = RequestOutput(request_id, outputs[:1], False)
        return [partial, RequestOutput(request_id, outputs, params.output_kind == RequestOutputKind.FINAL_ONLY)]
"""


@pytest.fixture
def stand_in_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    package = tmp_path / "site" / "vllm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(STAND_IN))
    (package / "sampling_params.py").write_text("from vllm import RequestOutputKind, SamplingParams\n")
    monkeypatch.syspath_prepend(str(package.parent))
    yield
    for name in ("vllm", "vllm.sampling_params"):
        sys.modules.pop(name, None)


def test_vllm_backend_calls(stand_in_vllm, tiny_qwen3: Path, suite_file: Path, tmp_path: Path) -> None:
    import vllm

    args = [
        "eval", "run", "--model", str(tiny_qwen3), "--suite", str(suite_file), "--tensor-parallel", "4",
        "--rollouts", "3", "--judge", "exact", "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    engine_args = vllm.CALLS["engine_args"]
    assert (engine_args.model, engine_args.tensor_parallel_size, engine_args.seed) == (str(tiny_qwen3), 4, 0)
    (_, prompt, params), _ = vllm.CALLS["requests"]
    assert params.max_tokens == 32768  # never vLLM's default of 16
    assert (params.n, params.temperature, params.top_p, params.top_k, params.min_p) == (3, 0.6, 0.95, 20, 0.0)
    assert params.output_kind is vllm.RequestOutputKind.FINAL_ONLY
    assert prompt["prompt_token_ids"][:3] == [151644, 872, 198]  # <|im_start|> user \n: no BOS added
    records = [json.loads(line) for line in (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["p1", 7]
    seed = params.seed
    assert records[0]["completions"][0].startswith(f"<think>{seed}</think>")  # completions in index order
    assert records[0]["num_tokens"] == [3, 3, 3] and records[0]["finish_reasons"] == ["stop"] * 3
    seeds = {p.seed for _, _, p in vllm.CALLS["requests"]}
    assert len(seeds) == 2  # one seed per problem


def test_missing_vllm_is_one_line(tiny_qwen3: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "curate.cli", "eval", "run", "--model", str(tiny_qwen3), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "curate: error: the vllm backend needs vllm, which is not installed (pip install 'curate[vllm]')"
    ]
    assert not out.exists()
