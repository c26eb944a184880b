"""`answer_verify`: keep a generation only when its final answer is right.

The final answer is the last top-level `\\boxed{...}` after `</think>`, or the run of consecutive boxes
ending there when the gold lists several parts (`curate.mathcheck.extract_answer`), judged against the row's
`answer` by math-verify in worker processes with a hard per-answer timeout and a disk cache
(`curate.mathcheck.Verifier`). OpenR1's own labels do not always reproduce (a generation that
boxes two values, a bare option letter accepted against a full answer), hence the default `reverify`.

Modes:
- `reverify` (default): ignore the dataset's labels; keep a generation whose boxed answer math-verify accepts.
- `trust_labels`: keep a generation the dataset labels correct, without reading it. The label is
  `correctness_math_verify`; where that is not True and `llama_fallback` is on, the Llama-3.3-70B judge's
  `correctness_llama` decides when it is present (null means the judge was not run on that row, about 88% of
  rows). This reproduces what OpenR1 counts in `correctness_count`.
- `agree`: keep only a generation that both our verification and the dataset's label accept.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from curate.filters import KEEP, Drop, FilterParams, Trace, TraceFilter, Verdict, register
from curate.mathcheck import Verifier, VerifyResult, config_id, extract_answer

# Verifier status -> drop reason (a "correct" status keeps the trace).
REASONS = {
    "wrong": "wrong_answer",
    "timeout": "verify_timeout",
    "gold_unparsable": "gold_unparsable",
    "pred_unparsable": "pred_unparsable",
    "error": "verify_error",
}
_SHOWN = 80  # characters of an answer quoted in a drop's detail
_EXAMPLES = 5  # examples per drop reason in the report


class AnswerVerifyParams(FilterParams):
    mode: Literal["reverify", "trust_labels", "agree"] = "reverify"
    timeout: float = Field(5.0, gt=0, le=600, description="seconds math-verify may spend on one answer")
    workers: int | None = Field(None, ge=1, description="worker processes; default: the recipe's workers")
    llama_fallback: bool = Field(True, description="labels: use correctness_llama where math-verify said no")


def dataset_label(trace: Trace, llama_fallback: bool = True) -> bool | None:
    """The dataset's verdict on a generation (see the module docstring); None when it has none."""
    if trace.correctness_math_verify is True:
        return True
    if llama_fallback and trace.correctness_llama is not None:
        return bool(trace.correctness_llama)
    return trace.correctness_math_verify


def verdict_store(cache_dir: str | None) -> Path | None:
    """Where math-verify verdicts are kept: `$CURATE_VERDICTS` when set, else the run's cache folder. The
    store is SQLite in WAL mode, which needs a disk local to the machine: on a cluster whose cache folder is
    on a network filesystem, each node points `CURATE_VERDICTS` at its own local disk."""
    local = os.environ.get("CURATE_VERDICTS")
    if local:
        return Path(local)
    return Path(cache_dir) / "mathcheck.sqlite" if cache_dir else None


def _short(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


@register("answer_verify")
class AnswerVerify(TraceFilter[AnswerVerifyParams]):
    """Keep generations whose boxed final answer is correct (see the module docstring for the modes)."""

    reads_think = True  # the final answer is the box after `</think>`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verifier: Verifier | None = None
        self._verifier_stats: dict[str, int] | None = None  # kept past close(): the engine reports after it


    def required_columns(self) -> tuple[str, ...]:
        """The reference answer to judge against; the dataset's labels to trust."""
        mode = self.params.mode
        labels = ("correctness_math_verify",) if mode != "reverify" else ()
        return (*(("answer",) if mode != "trust_labels" else ()), *labels)

    def fingerprint_extra(self) -> str:
        # Verdicts depend on the extraction/judging code and the math-verify/sympy versions, not only on
        # this module and the parameters.
        return config_id()

    def setup(self) -> None:
        if self.params.mode != "trust_labels" and self._verifier is None:
            cache = verdict_store(self.context.cache_dir)
            workers = self.params.workers or max(1, self.context.workers)
            self._verifier = Verifier(workers=workers, timeout=self.params.timeout, cache_path=cache)

    def counters(self) -> dict[str, int]:
        """The verifier's own counts (cache hits, timeouts, restarts), summed over every worker that ran."""
        if self._verifier is not None:
            return dict(self._verifier.stats)
        return dict(self._verifier_stats or {})

    def close(self) -> None:
        if self._verifier is not None:
            self._verifier_stats = dict(self._verifier.stats)
            self._verifier.close()
            self._verifier = None

    def filter(self, trace: Trace) -> Verdict:
        return self.filter_batch([trace])[0]

    def filter_batch(self, traces: Sequence[Trace]) -> list[Verdict]:
        """All generations of the batch go to the verifier in one call: deduplicated, cached, batched."""
        params = self.params
        if params.mode == "trust_labels":
            return [self._by_label(trace) for trace in traces]
        self.setup()
        assert self._verifier is not None
        answers = [extract_answer(trace.text, trace.answer) for trace in traces]
        asked = [i for i, answer in enumerate(answers) if answer is not None]
        results = self._verifier.verify_many([(traces[i].answer, answers[i]) for i in asked])
        by_index: dict[int, VerifyResult] = dict(zip(asked, results))
        verdicts: list[Verdict] = []
        for i, trace in enumerate(traces):
            result = by_index.get(i)
            if result is None:
                verdicts.append(
                    Drop(
                        "no_boxed",
                        f"generation {trace.index}: no closed \\boxed{{}} after </think>",
                        {"generation": trace.index},
                    )
                )
            elif params.mode == "reverify":
                verdicts.append(self._by_verification(trace, answers[i], result))
            else:
                verdicts.append(self._by_both(trace, answers[i], result))
        return verdicts

    def _info(self, trace: Trace, answer: str | None, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "generation": trace.index,
            "extracted": answer,
            "gold": trace.answer,
            "status": status,
            **extra,
        }

    def _by_verification(self, trace: Trace, answer: str | None, result: VerifyResult) -> Verdict:
        if result.ok:
            return KEEP
        return Drop(
            REASONS[result.status],
            f"generation {trace.index}: boxed {_short(answer or '')} vs answer {_short(trace.answer)}: "
            f"{result.status.replace('_', ' ')}",
            self._info(trace, answer, result.status),
        )

    def _by_label(self, trace: Trace) -> Verdict:
        label = dataset_label(trace, self.params.llama_fallback)
        if label is True:
            return KEEP
        info = {
            "generation": trace.index,
            "correctness_math_verify": trace.correctness_math_verify,
            "correctness_llama": trace.correctness_llama,
        }
        if label is None:
            return Drop(
                "label_missing", f"generation {trace.index}: the dataset has no correctness label", info
            )
        return Drop("label_false", f"generation {trace.index}: the dataset labels it incorrect", info)

    def _by_both(self, trace: Trace, answer: str | None, result: VerifyResult) -> Verdict:
        label = dataset_label(trace, self.params.llama_fallback)
        if result.status not in ("correct", "wrong"):  # no verdict of ours to agree with
            return self._by_verification(trace, answer, result)
        if result.ok and label is True:
            return KEEP
        if not result.ok and label is not True:
            return self._by_verification(trace, answer, result)
        ours = "correct" if result.ok else "wrong"
        theirs = {True: "correct", False: "incorrect", None: "missing"}[label]
        return Drop(
            "label_disagrees",
            f"generation {trace.index}: math-verify says {ours} for boxed {_short(answer or '')} vs answer "
            f"{_short(trace.answer)}; the dataset's label is {theirs}",
            self._info(trace, answer, result.status, label=label),
        )

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any] | None:
        """Drop counts per reason and the first few examples of each (the verifier's counters, which depend on
        batching and the cache, go to stats.json, keeping this report identical across runs)."""
        counts = Counter(drop.reason for _, drop in drops)
        examples: dict[str, list[dict[str, Any]]] = {}
        for uuid, drop in sorted(drops, key=lambda item: item[0]):
            shown = examples.setdefault(drop.reason, [])
            if len(shown) < _EXAMPLES:
                shown.append({"uuid": uuid, **(drop.info or {})})
        return {
            "mode": self.params.mode,
            "timeout_s": self.params.timeout,
            "judge": config_id(),
            "dropped": dict(sorted(counts.items())),
            "examples": examples,
        }
