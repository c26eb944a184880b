"""`token_length`: every emitted row must fit verl's `data.max_length`, counted as verl will count it.

The row is the user turn plus the selected assistant turn (`build_messages` with the recipe's `format`),
rendered with the training template `curate train` sets (ChatML, each turn verbatim, `<think>` block
included) and tokenised with the model's tokenizer. A longer row would make verl raise mid-epoch.

Byte bounds decide without BPE where they can (`TokenCounter.lower_bound`/`upper_bound` say which bounds
are proven): a row whose lower bound already exceeds `max_tokens`, or whose upper bound (its UTF-8 bytes) is
under `min_tokens`, is dropped without being tokenised; a row whose upper bound is within `max_tokens` (and
no `min_tokens` is set) is kept without being tokenised. Its exact count, the `num_tokens` output column, is
then taken by the writer, with this same tokenizer, for the rows the draw actually writes: most surviving
rows are never written (a 45K draw from a ~180K pool), so they are never tokenised at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from curate.filters import KEEP, Drop, FilterParams, Keep, TokenBound, Trace, TraceFilter, Verdict, register
from curate.formatting import build_messages
from curate.tokenizers import TokenCounter, chatml, load_counter, tokenizer_fingerprint


class TokenLengthParams(FilterParams):
    max_tokens: int = Field(16384, ge=1, description="largest row kept, in tokens (verl's data.max_length)")
    min_tokens: int = Field(0, ge=0, description="smallest row kept, in tokens")
    tokenizer: str = Field(
        "qwen3",
        description="`qwen3` (bundled, offline), a tiktoken encoding name, or a tokenizer.json path "
        "(relative to the recipe file)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> TokenLengthParams:
        if self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens ({self.min_tokens}) is above max_tokens ({self.max_tokens})")
        return self


@register("token_length")
class TokenLength(TraceFilter[TokenLengthParams]):
    """Keep rows of `min_tokens` to `max_tokens` tokens; their exact count becomes `num_tokens`."""

    _counter: TokenCounter | None = None

    @property
    def spec(self) -> str:
        """The tokenizer spec, with a relative tokenizer.json path taken from the recipe's folder."""
        from curate.tokenizers import is_path_spec

        spec = self.params.tokenizer
        if spec != "qwen3" and is_path_spec(spec) and self.context.recipe_dir:
            path = Path(spec).expanduser()
            if not path.is_absolute():
                return str(Path(self.context.recipe_dir) / path)
        return spec

    def check(self) -> None:
        from curate.tokenizers import check_spec

        if self.spec != "qwen3":
            check_spec(self.spec)

    def setup(self) -> None:
        self._counter = load_counter(self.spec)

    def counter(self) -> TokenCounter:
        if self._counter is None:
            self.setup()
        assert self._counter is not None
        return self._counter

    def fingerprint_extra(self) -> str:
        """The tokenizer's bytes: they are not in the parameters, which only name it."""
        return tokenizer_fingerprint(self.spec)

    def token_bound(self) -> TokenBound:
        return TokenBound(self.params.max_tokens, self.spec)

    def filter(self, trace: Trace) -> Verdict:
        return self.filter_batch([trace])[0]

    def filter_batch(self, traces: Sequence[Trace]) -> list[Verdict]:
        counter = self.counter()
        params = self.params
        kwargs = self.context.format_kwargs
        texts = [chatml(build_messages(t.problem, t.text, **kwargs)) for t in traces]
        verdicts: list[Verdict | None] = [None] * len(texts)
        todo: list[int] = []
        for i, text in enumerate(texts):
            # The bound counts digits and word starts, under half the characters of natural text: shorter rows
            # are just counted. This gate changes no decision, only whether a sure drop carries its exact count.
            if len(text) > 2 * params.max_tokens and (low := counter.lower_bound(text)) > params.max_tokens:
                verdicts[i] = self._too_long(low, exact=False)
            elif (high := counter.upper_bound(text)) < params.min_tokens:
                verdicts[i] = self._too_short(high, exact=False)
            elif not params.min_tokens and high <= params.max_tokens:
                verdicts[i] = KEEP  # fits for certain; the writer counts it if it is written
            else:
                todo.append(i)
        for i, n in zip(todo, counter.count_texts([texts[i] for i in todo])):
            if n > params.max_tokens:
                verdicts[i] = self._too_long(n, exact=True)
            elif n < params.min_tokens:
                verdicts[i] = self._too_short(n, exact=True)
            else:
                verdicts[i] = Keep(fields={"num_tokens": n})
        return [v for v in verdicts if v is not None]

    def _too_long(self, n: int, *, exact: bool) -> Drop:
        bound, name = self.params.max_tokens, self.params.tokenizer
        count = f"{n} tokens" if exact else f"at least {n} tokens (byte bound, not tokenised)"
        return Drop(
            "too_long",
            f"{count} > max_tokens {bound} ({name})",
            {"num_tokens": n, "exact": exact, "max_tokens": bound},
        )

    def _too_short(self, n: int, *, exact: bool) -> Drop:
        bound, name = self.params.min_tokens, self.params.tokenizer
        count = f"{n} tokens" if exact else f"at most {n} tokens (byte bound, not tokenised)"
        return Drop(
            "too_short",
            f"{count} < min_tokens {bound} ({name})",
            {"num_tokens": n, "exact": exact, "min_tokens": bound},
        )

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """Drops per reason, how many a byte bound decided, and the exact counts of the too-long rows."""
        params = self.params
        reasons = Counter(d.reason for _, d in drops)
        info = [(uuid, d.reason, d.info or {}) for uuid, d in drops]
        exact = sorted(i["num_tokens"] for _, reason, i in info if reason == "too_long" and i.get("exact"))
        return {
            "tokenizer": params.tokenizer,
            "max_tokens": params.max_tokens,
            "min_tokens": params.min_tokens,
            "dropped": dict(sorted(reasons.items())),
            "decided_by_byte_bound": sum(1 for _, _, i in info if i.get("exact") is False),
            "too_long_counted": {
                "rows": len(exact),
                "min": exact[0] if exact else None,
                "median": exact[len(exact) // 2] if exact else None,
                "max": exact[-1] if exact else None,
            },
        }
