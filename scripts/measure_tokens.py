"""Token counting throughput, MB/s of UTF-8 text, on realistic rows: raw tiktoken, our counter, Hugging Face.

The texts are the training rows `token_length` counts: real OpenR1 problems with real long-think traces
(tests/data (the real-data file), or any jsonl with `user_prompt`/`problem` and `regenerated_content`/`generation` fields)
rendered as ChatML, repeated up to `--mb` megabytes. Every timing is the best of `--repeats` runs, and the
runs of the different counters are interleaved so that a busy machine slows them alike.

    python scripts/measure_tokens.py [--data FILE.jsonl] [--mb 8] [--repeats 5] [--no-hf] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curate.bench.components import token_rates
from curate.errors import CurateError
from curate.filters import Drop, FilterContext, Trace
from curate.filters.token_length import TokenLength
from curate.formatting import build_messages
from curate.tokenizers import chatml, load_counter

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / "tests" / "data" / "openr1_problems_with_regenerations.jsonl"
)


def load_pairs(path: Path) -> list[tuple[str, str]]:
    """(problem, trace) pairs of a jsonl file."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [
        (
            row.get("user_prompt") or row.get("problem") or "",
            row.get("regenerated_content") or row.get("generation") or "",
        )
        for row in rows
    ]
    if not pairs:
        raise SystemExit(f"{path}: no rows")
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--mb", type=float, default=8.0, help="megabytes of text to count per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-hf", action="store_true", help="skip the Hugging Face tokenizer")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    base = load_pairs(args.data)
    size = sum(len(chatml(build_messages(p, t)).encode()) for p, t in base)
    pairs = base * max(1, round(args.mb * 1e6 / size))
    conversations = [build_messages(p, t) for p, t in pairs]
    traces = [
        Trace(row_id=i, uuid=str(i), problem=p, answer="", index=0, text=t) for i, (p, t) in enumerate(pairs)
    ]
    length_filter = TokenLength(TokenLength.Params(max_tokens=16384), FilterContext())
    length_filter.setup()
    texts = [chatml(m) for m in conversations]
    counter = load_counter("qwen3")
    encoding, threads = counter.encoding, counter.threads
    # The kernel comparison is `curate bench`'s (`token_rates`); the study adds the single-thread and
    # message/trace-level paths beside it.
    extra: dict[str, Callable[[], Any]] = {
        "tiktoken encode, 1 thread": lambda: [encoding.encode(t, allowed_special="all") for t in texts],
        "tiktoken encode_ordinary, 1 thread": lambda: [encoding.encode_ordinary(t) for t in texts],
        f"tiktoken encode_ordinary_batch ({threads} threads)": lambda: encoding.encode_ordinary_batch(
            texts, num_threads=threads
        ),
        "curate count_batch (messages)": lambda: counter.count_batch(conversations),
        "token_length filter_batch (traces)": lambda: length_filter.filter_batch(traces),
    }
    try:
        measured = token_rates(texts, repeats=args.repeats, extra=extra, hf=not args.no_hf)
    except CurateError as exc:
        raise SystemExit(str(exc)) from None
    results, per_cpu = measured["mb_per_s"], measured["mb_per_cpu_s"]
    raw = results[measured["raw"]]
    print(
        f"{measured['megabytes']:.1f} MB of ChatML rows ({len(texts)} rows from {args.data.name}), best of {args.repeats}"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print(f"  {'':45s} {'wall MB/s':>10s} {'vs raw batch':>13s} {'MB/CPU-s':>9s}")
    for name, rate in results.items():
        print(f"  {name:45s} {rate:10.2f} {rate / raw:13.0%} {per_cpu[name]:9.2f}")
    ratio = measured["count_texts_over_tiktoken"]
    print(f"count_texts / raw tiktoken encode_batch: {ratio:.2f} (target >= 0.80)")
    base_traces = traces[: len(base)]
    print("rows over max_tokens that the byte bound drops without BPE (distinct rows):")
    bounds = {}
    for max_tokens in (2048, 4096, 8192, 16384):
        verdicts = TokenLength(TokenLength.Params(max_tokens=max_tokens), FilterContext()).filter_batch(
            base_traces
        )
        long_rows = [v for v in verdicts if isinstance(v, Drop)]
        by_bound = sum(1 for v in long_rows if v.info and v.info["exact"] is False)
        bounds[max_tokens] = {"rows": len(base), "too_long": len(long_rows), "by_bound": by_bound}
        print(
            f"  max_tokens {max_tokens:6d}: {len(long_rows):4d} of {len(base)} too long, {by_bound:4d} by the bound"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"megabytes": measured["megabytes"], "mb_per_s": results, "ratio": ratio}, indent=2)
        )


if __name__ == "__main__":
    main()
