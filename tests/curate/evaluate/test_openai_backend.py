"""The OpenAI-compatible backend against a local stand-in server speaking the completions protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.errors import CurateError
from curate.evaluate.backends.base import Request, Sampling
from curate.evaluate.backends.openai_api import OpenAIBackend

ANSWERS = {"1+1": "2", "3 \\cdot 4": "13"}  # the stand-in model gets the second problem wrong


class StandIn(BaseHTTPRequestHandler):
    """Canned completions: every choice boxes the answer it knows for the prompt; the reasoning goes in
    `reasoning_content` on the chat endpoint, as vLLM does with a reasoning parser."""

    bodies: list[dict[str, Any]]
    failures: list[int]  # HTTP statuses to answer with before succeeding
    refuse: str | None  # a prompt substring answered with HTTP 400 every time

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.bodies.append({"path": self.path, **body})
        if self.failures:
            self.send_error(self.failures.pop(0), "busy")
            return
        if self.refuse and self.refuse in json.dumps(body):
            self.send_error(400, "prompt too long")
            return
        text = body["prompt"] if self.path.endswith("/completions") and "prompt" in body else json.dumps(body)
        answer = next((a for q, a in ANSWERS.items() if q in text), "0")
        if self.path == "/v1/completions":
            choices = [
                {
                    "index": i,
                    "text": f"<think>\nstep {i}\n</think>\n\n\\boxed{{{answer}}}",
                    "finish_reason": "stop",
                }
                for i in reversed(range(body["n"]))  # out of order on purpose
            ]
        elif self.path == "/v1/chat/completions":
            choices = [
                {
                    "index": i,
                    "message": {
                        "role": "assistant",
                        "reasoning_content": f"step {i}",
                        "content": f"\\boxed{{{answer}}}",
                    },
                    "finish_reason": "length" if i == 0 else "stop",
                }
                for i in range(body["n"])
            ]
        else:
            self.send_error(404)
            return
        payload = json.dumps({"choices": choices, "usage": {"completion_tokens": 7 * body["n"]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[tuple[str, type[StandIn]]]:
    handler = type("Handler", (StandIn,), {"bodies": [], "failures": [], "refuse": None})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", handler
    httpd.shutdown()
    httpd.server_close()


def test_completions_run_end_to_end(
    server, suite_file: Path, qwen3_tokenizer_dir: Path, tmp_path: Path
) -> None:
    url, handler = server
    args = [
        "eval", "run", "--backend", "openai", "--base-url", url, "--model", "stand-in",
        "--tokenizer", str(qwen3_tokenizer_dir), "--suite", str(suite_file), "--rollouts", "3",
        "--max-tokens", "1000", "--judge", "math-verify", "--workers", "1", "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(handler.bodies) == 2
    body = next(b for b in handler.bodies if "1+1" in b["prompt"])
    assert body["path"] == "/v1/completions"
    assert body["model"] == "stand-in" and body["n"] == 3 and body["max_tokens"] == 1000
    assert (body["temperature"], body["top_p"], body["top_k"], body["min_p"]) == (0.6, 0.95, 20, 0.0)
    assert body["prompt"].startswith("<|im_start|>user\nWhat is $1+1$?\nPlease reason step by step")
    assert body["prompt"].endswith("<|im_start|>assistant\n")
    records = [json.loads(line) for line in (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["p1", 7]  # suite order, whatever order the answers came in
    assert records[0]["completions"][0] == "<think>\nstep 0\n</think>\n\n\\boxed{2}"  # sorted by choice index
    assert records[0]["finish_reasons"] == ["stop"] * 3
    # n > 1: the server reports one total, so each completion is counted with the tokenizer: <think> \n
    # step ␣ 0 \n </think> \n\n \ boxed { 2 } = 13 tokens, plus the stop token
    assert records[0]["num_tokens"] == [14, 14, 14]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["overall"]["pass@1"] == 0.5
    assert metrics["overall"]["any@3"] == 0.5 and metrics["overall"]["perfect@3"] == 0.5


def test_chat_mode_restores_the_think_block(server) -> None:
    url, handler = server
    backend = OpenAIBackend("stand-in", base_url=url, api="chat")
    request = Request(
        key="mini/p1",
        messages=[{"role": "user", "content": "What is 1+1?"}],
        prompt=None,
        prompt_ids=None,
        seed=3,
    )
    [(done, generations)] = list(backend.generate([request], Sampling(rollouts=2, max_tokens=50, top_k=0)))
    assert done is request
    assert [g.text for g in generations] == [
        "<think>\nstep 0\n</think>\n\n\\boxed{2}",
        "<think>\nstep 1\n</think>\n\n\\boxed{2}",
    ]
    assert [g.finish_reason for g in generations] == ["length", "stop"]
    assert [g.num_tokens for g in generations] == [None, None]  # no tokenizer, no per-choice count
    body = handler.bodies[0]
    assert body["path"] == "/v1/chat/completions"
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert body["top_k"] == -1 and body["seed"] == 3


def test_retries_then_succeeds(server) -> None:
    url, handler = server
    handler.failures.extend([503, 429])
    backend = OpenAIBackend("stand-in", base_url=url, api="chat", retries=2, backoff=0.01)
    request = Request(
        key="k", messages=[{"role": "user", "content": "1+1"}], prompt=None, prompt_ids=None, seed=0
    )
    [(_, generations)] = list(backend.generate([request], Sampling(rollouts=1)))
    assert (
        generations[0].text.endswith("\\boxed{2}") and generations[0].num_tokens == 7
    )  # n=1: usage is exact
    assert len(handler.bodies) == 3


def test_client_errors_are_not_retried(server) -> None:
    url, handler = server
    handler.failures.append(400)
    backend = OpenAIBackend("stand-in", base_url=url, api="chat", retries=3, backoff=0.01)
    request = Request(key="k", messages=[], prompt=None, prompt_ids=None, seed=0)
    with pytest.raises(CurateError, match="HTTP 400"):
        list(backend.generate([request], Sampling(rollouts=1)))
    assert len(handler.bodies) == 1


def test_unreachable_server_is_one_line() -> None:
    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", api="chat", retries=0)
    request = Request(key="k", messages=[], prompt=None, prompt_ids=None, seed=0)
    with pytest.raises(CurateError, match="no answer from the server"):
        list(backend.generate([request], Sampling(rollouts=1)))


def test_failed_problem_is_retried_by_rerunning(
    server, suite_file: Path, qwen3_tokenizer_dir: Path, tmp_path: Path
) -> None:
    """A problem the server refuses fails the run after the others are written; the rerun asks only for it."""
    url, handler = server
    handler.refuse = "3 \\\\cdot 4"
    args = [
        "eval", "run", "--backend", "openai", "--base-url", url, "--model", "stand-in",
        "--tokenizer", str(qwen3_tokenizer_dir), "--suite", str(suite_file), "--rollouts", "2",
        "--judge", "exact", "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, CurateError)
    assert "1 of 2 problems failed" in str(result.exception) and "HTTP 400" in str(result.exception)
    written = (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in written] == ["p1"]
    handler.refuse = None
    handler.bodies.clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(handler.bodies) == 1 and "3 \\cdot 4" in handler.bodies[0]["prompt"]
    records = [json.loads(line) for line in (tmp_path / "out" / "rollouts.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["p1", 7]
