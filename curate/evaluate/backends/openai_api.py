"""An OpenAI-compatible server (`vllm serve`, SGLang): one request per problem asking for all its rollouts.

`completions` mode (default) sends the prompt already rendered through the chat template, so the server sees
exactly the tokens the offline backends see; `chat` mode sends the messages and lets the server template
them (with `enable_thinking`). top_k and min_p are not OpenAI parameters: they travel as extra body fields,
which vLLM and SGLang read. Requests run concurrently on threads and are retried on connection errors,
429 and 5xx with exponential back-off. Only the standard library is used.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from curate.errors import CurateError, redact
from curate.evaluate.backends.base import Generation, Request, Sampling
from curate.evaluate.prompts import TEMPLATE_KWARGS

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "http://127.0.0.1:8000/v1",
        api: str = "completions",
        api_key: str | None = None,
        concurrency: int = 16,
        retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 3600.0,
        tokenizer: Any = None,
    ) -> None:
        if api not in ("completions", "chat"):
            raise ValueError(f"api must be 'completions' or 'chat', not {api!r}")
        self.model = model
        self.url = base_url.rstrip("/") + ("/completions" if api == "completions" else "/chat/completions")
        self.api = api
        self.api_key = api_key
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        # Counts tokens per completion when the server reports only a total for n > 1.
        self.tokenizer = tokenizer

    def generate(
        self, requests: Sequence[Request], sampling: Sampling
    ) -> Iterator[tuple[Request, list[Generation]]]:
        """Problems run on daemon threads (an interrupted run exits at once instead of waiting out requests
        that can take an hour); one that fails for good is reported after the others are written, so a
        rerun retries only it."""
        if not requests:
            return
        todo: queue.SimpleQueue[Request] = queue.SimpleQueue()
        for request in requests:
            todo.put(request)
        done: queue.SimpleQueue[tuple[Request, list[Generation] | BaseException]] = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    request = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put((request, self._complete(request, sampling)))
                except BaseException as exc:  # handed to the main thread, which decides
                    done.put((request, exc))

        for number in range(min(self.concurrency, len(requests))):
            threading.Thread(target=work, name=f"curate-eval-{number}", daemon=True).start()
        failures: list[tuple[Request, BaseException]] = []
        try:
            for _ in range(len(requests)):
                request, result = done.get()
                if isinstance(result, CurateError):
                    log.error("%s", result)
                    failures.append((request, result))
                elif isinstance(result, BaseException):
                    raise result
                else:
                    yield request, result
        finally:
            stop.set()
        if failures:
            raise CurateError(
                f"{len(failures)} of {len(requests)} problems failed (first: {failures[0][1]})",
                hint="rerun the same command to retry them; finished problems are kept",
            )

    def body(self, request: Request, sampling: Sampling) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "n": sampling.rollouts,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k if sampling.top_k > 0 else -1,
            "min_p": sampling.min_p,
            "seed": request.seed,
        }
        if self.api == "completions":
            if request.prompt is None:
                raise ValueError(f"{request.key}: completions mode needs a rendered prompt")
            body["prompt"] = request.prompt
        else:
            body["messages"] = request.messages
            body["chat_template_kwargs"] = dict(TEMPLATE_KWARGS)
        return body

    def _complete(self, request: Request, sampling: Sampling) -> list[Generation]:
        response = self._post(self.body(request, sampling), request.key)
        choices = response.get("choices")
        if not isinstance(choices, list) or len(choices) != sampling.rollouts:
            got = len(choices) if isinstance(choices, list) else "no"
            raise CurateError(
                f"{request.key}: the server returned {got} choices for n={sampling.rollouts}",
                where=self.url,
                hint="is this an OpenAI-compatible server that supports n?",
            )
        choices = sorted(choices, key=lambda c: c.get("index", 0))
        texts = [self._text(choice) for choice in choices]
        usage = response.get("usage") or {}
        if len(texts) == 1 and isinstance(usage.get("completion_tokens"), int):
            counts: list[int | None] = [usage["completion_tokens"]]
        elif self.tokenizer is not None:
            # Re-encoded text, plus the stop token the server generated but did not return (as vLLM counts).
            counts = [
                len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
                + (choice.get("finish_reason") == "stop")
                for text, choice in zip(texts, choices)
            ]
        else:
            counts = [None] * len(texts)
        return [
            Generation(text=text, finish_reason=choice.get("finish_reason"), num_tokens=count)
            for text, choice, count in zip(texts, choices, counts)
        ]

    def _text(self, choice: dict[str, Any]) -> str:
        if self.api == "completions":
            return choice.get("text") or ""
        message = choice.get("message") or {}
        content = message.get("content") or ""
        # Servers started with a reasoning parser split the think block off; put it back where the judge
        # expects it.
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            return f"<think>\n{reasoning.strip()}\n</think>\n\n{content.strip()}"
        return content

    def _post(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        delay, attempt = self.backoff, 0
        while True:
            try:
                req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as reply:
                    return json.loads(reply.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = redact(exc.read().decode("utf-8", "replace"), limit=300)
                if exc.code not in RETRY_STATUS or attempt == self.retries:
                    raise CurateError(
                        f"{key}: the server answered HTTP {exc.code}: {detail}", where=self.url
                    ) from None
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = str(getattr(exc, "reason", exc))
                if attempt == self.retries:
                    raise CurateError(
                        f"{key}: no answer from the server ({reason})",
                        where=self.url,
                        hint="start it (e.g. `vllm serve MODEL`) or pass --base-url",
                    ) from None
            except (json.JSONDecodeError, UnicodeDecodeError):
                if attempt == self.retries:
                    raise CurateError(f"{key}: the server's answer is not JSON", where=self.url) from None
                reason = "an answer that is not JSON"
            attempt += 1
            log.warning("%s: %s; retry %d/%d in %.1fs", key, reason, attempt, self.retries, delay)
            time.sleep(delay)
            delay = min(delay * 2, 60.0)
