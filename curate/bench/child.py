"""Work the benchmark runs in a fresh process of its own (`python -m curate.bench.child ...`): one filter of a
recipe alone, or one answer-verification method. A fresh process starts cold (no sympy cache, no loaded
tokenizer), and its memory is its own.

    python -m curate.bench.child filter RECIPE INDEX SOURCE WORKERS OUT.json
    python -m curate.bench.child verify METHOD PAIRS.json OUT.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def filter_alone(recipe_path: Path, index: int, source: Path, workers: int) -> dict[str, Any]:
    """Step `index` of the recipe over every row of `source`, wired as `curate.engine.run_recipe` wires it
    (same executor, filter specs and step functions), without the other steps and without writing outputs.
    Seconds include the filter's setup and the executor's start: what the step costs in a run."""
    from curate.engine import filter_context, initial_state, trace_chain
    from curate.executors import make_executor
    from curate.filters import TraceFilter
    from curate.recipe import SourceSpec, load_recipe
    from curate.source import resolve_source
    from curate.spill import spill_folder
    from curate.steps import run_filter_step
    from curate.table import SourceTable
    from curate.tasks import FilterSpec

    recipe = load_recipe(recipe_path).with_overrides(source=SourceSpec(path=str(source)), workers=workers)
    spec = recipe.model
    step = recipe.steps[index]
    assert spec.source is not None  # the one source given above
    resolved = resolve_source(spec.source)
    table = SourceTable(resolved.files)
    started = time.perf_counter()
    executor = make_executor(spec.executor.type, spec.executor.workers, spec.executor.address)
    context = filter_context(recipe, executor.workers)
    filter_spec = FilterSpec(step.name, step.params_dict(), context)
    instance = step.build(context)
    try:
        with spill_folder() as folder:
            state = initial_state(table, resolved, folder)
            if isinstance(instance, TraceFilter):
                trace_chain(recipe, [(step, instance, filter_spec)], table, state, executor, use_cache=False)
            else:
                instance.setup()
                run_filter_step(step, instance, filter_spec, table, state, executor, use_cache=False)
    finally:
        executor.close()
        instance.close()
    seconds = time.perf_counter() - started
    entry = state.funnel[-1]
    return {
        "filter": step.name,
        "level": step.level,
        "rows_in": entry["rows_in"],
        "rows_out": entry["rows_out"],
        "dropped": entry["dropped"],
        "seconds": round(seconds, 3),
        "step_seconds": entry.get("seconds"),
        "generations": entry.get("generations"),
        "workers": executor.workers,
    }


def verify_method(method: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """One timed pass of an answer-verification method over (gold, extracted answer) pairs.

    `mathverify`: math-verify in this process as a script would call it (`$`-wrapped gold, `\\boxed`
    prediction, its own SIGALRM timeouts); `judge`: curate's per-item work (`mathcheck.Judge`) in this
    process, no pool; `verifier-N`: curate's `Verifier` pool with N worker processes, no cache. CPU seconds
    count the pool's workers too (read from /proc), so `cores_busy` shows whether the pool keeps them busy."""
    from curate.bench.monitor import process_cpu_seconds

    if method == "mathverify":
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

        config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
        parse("$1$", config)  # compile its regexes outside the timing, as the pool's warm-up does
        cpu, start = time.process_time(), time.perf_counter()
        for gold, pred in pairs:
            verify(
                parse(f"${gold}$", config, parsing_timeout=5),
                parse(f"\\boxed{{{pred}}}", config, parsing_timeout=5),
                timeout_seconds=5,
            )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    elif method == "judge":
        from curate.mathcheck import Judge

        judge = Judge()
        judge.check("1", "1")
        ordered = sorted(pairs)  # the order the pool sends them in: grouped by gold
        cpu, start = time.process_time(), time.perf_counter()
        for gold, pred in ordered:
            judge.check(gold, pred)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    elif method.startswith("verifier-"):
        from curate.mathcheck import Verifier

        with Verifier(workers=int(method.split("-")[1]), timeout=30.0) as verifier:
            verifier.verify_many([(str(k), str(k)) for k in range(2 * verifier.workers)])  # start the pool
            pids = [w.process.pid for w in verifier._pool]
            before = sum(process_cpu_seconds(pid) for pid in pids)
            cpu, start = time.process_time(), time.perf_counter()
            verifier.verify_many(pairs)
            wall = time.perf_counter() - start
            after = sum(process_cpu_seconds(w.process.pid) for w in verifier._pool)
            cpu = time.process_time() - cpu + after - before
            restarts = verifier.stats["restarts"]
        return {"method": method, "items": len(pairs), "wall_s": wall, "cpu_s": cpu, "restarts": restarts}
    else:
        raise SystemExit(f"unknown method {method!r}")
    return {"method": method, "items": len(pairs), "wall_s": wall, "cpu_s": cpu}


def main(argv: list[str]) -> None:
    kind, *args = argv
    if kind == "filter":
        recipe, index, source, workers, out = args
        result = filter_alone(Path(recipe), int(index), Path(source), int(workers))
    elif kind == "verify":
        method, pairs_file, out = args
        pairs = [(gold, pred) for gold, pred in json.loads(Path(pairs_file).read_text())]
        result = verify_method(method, pairs)
    else:
        raise SystemExit(f"unknown work {kind!r}: filter or verify")
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
