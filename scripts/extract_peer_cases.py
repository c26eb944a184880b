"""Extract the (gold, prediction, expected) cases of math-verify's and open-r1's own test suites.

Reads the test files straight from git snapshots of the two repositories (no code of theirs is imported or
run) and writes `tests/data/peer_verify_cases.jsonl`, one case per line with its provenance: repository,
commit, path, line, test function, and the options the test calls the verifier with.

- huggingface/Math-Verify: every `pytest.mark.parametrize` list of a test that compares a gold and a
  prediction (`compare_strings(gold, pred, ...)` or `verify(parse(gold), parse(pred))`), read with `ast`;
  the options (`match_types`, `precision`, `strict`, `allow_set_relation_comp`) come from the call in the
  test's body, a parameter of the case where the call names one. Plain `assert compare_strings(...) == N`
  lines count too. Tests of other things (string extraction configs, timeouts and errors through mocks,
  parser configs) have no such case and are left out.
- huggingface/open-r1: the `accuracy_reward` cases of `tests/test_rewards.py` (completion, solution, the
  asserted reward), the `cosine_scaled_reward` cases (a positive expected reward means judged correct), and
  the `len_reward` cases whose correctness the test states (by its name, or by the `# correct` /
  `# incorrect` comment on the completion).

Run: `python scripts/extract_peer_cases.py --math-verify DIR --open-r1 DIR` with DIR the git directories of
the snapshots (e.g. from `git clone --bare`); it prints a count per test file.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import math
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "peer_verify_cases.jsonl"
MATH_VERIFY = "huggingface/Math-Verify"
OPEN_R1 = "huggingface/open-r1"
DEFAULTS = {"match_types": ["latex", "expr"], "precision": 6, "strict": True, "allow_set_relation_comp": False}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True).stdout


def value(node: ast.AST) -> Any:
    """A literal, or an f-string over `math` (Math-Verify's `f"{math.sqrt(17):.15f}"`), evaluated with
    nothing else in scope."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(value(element) for element in node.elts)
        if isinstance(node, ast.JoinedStr) and {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} <= {"math"}:
            return eval(compile(ast.Expression(node), "<case>", "eval"), {"__builtins__": {}, "math": math})
        raise


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _options(call: ast.Call) -> dict[str, Any]:
    """The keyword options of a `compare_strings` call: literals, or `("param", name)` for a parameter."""
    options: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            continue
        if isinstance(keyword.value, ast.Name):
            options[keyword.arg] = ("param", keyword.value.id)
        else:
            options[keyword.arg] = value(keyword.value)
    return options


def _comparisons(body: Sequence[ast.stmt]) -> Iterator[ast.Call]:
    for node in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        if _is_call(node, "compare_strings"):
            yield node  # type: ignore[misc]


def math_verify_cases(repo: Path, commit: str) -> Iterator[dict[str, Any]]:
    paths = [p for p in git(repo, "ls-tree", "-r", "--name-only", commit, "tests").split() if p.endswith(".py")]
    for path in sorted(paths):
        tree = ast.parse(git(repo, "show", f"{commit}:{path}"))
        for func in [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]:
            calls = list(_comparisons(func.body))
            plain_verify = any(
                _is_call(n, "verify") and n.args and all(_is_call(a, "parse") for a in n.args)  # type: ignore[attr-defined]
                for n in ast.walk(func)
            )
            for decorator in func.decorator_list:
                if not (_is_call(decorator, "") or isinstance(decorator, ast.Call)):
                    continue
                if not (isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "parametrize"):
                    continue
                names = [n.strip() for n in value(decorator.args[0]).split(",")]
                if not {"gold", "pred"} <= set(names) or not (calls or plain_verify):
                    continue
                outcome = "expected" if "expected" in names else "result"
                for element in decorator.args[1].elts:  # type: ignore[attr-defined]
                    case = dict(zip(names, value(element)))
                    if calls:
                        options = {**DEFAULTS, "call": "compare_strings"}
                        for key, option in _options(calls[0]).items():
                            options[key] = case[option[1]] if isinstance(option, tuple) else option
                    else:
                        options = {"call": "verify(parse(gold), parse(pred))"}
                    yield _case(MATH_VERIFY, commit, path, element.lineno, func.name, case["gold"], case["pred"],
                                bool(case[outcome]), options)
            if any(isinstance(d, ast.Call) for d in func.decorator_list):
                continue
            for node in ast.walk(func):  # `assert compare_strings("...", "...", ...) == 1`
                if (
                    isinstance(node, ast.Compare)
                    and _is_call(node.left, "compare_strings")
                    and isinstance(node.ops[0], ast.Eq)
                ):
                    call = node.left
                    options = {**DEFAULTS, "call": "compare_strings", **_options(call)}  # type: ignore[arg-type]
                    gold, pred = (value(a) for a in call.args[:2])  # type: ignore[attr-defined]
                    yield _case(MATH_VERIFY, commit, path, node.lineno, func.name, gold, pred,
                                bool(value(node.comparators[0])), options)


def _comments(source: str) -> dict[int, str]:
    return {
        tok.start[0]: tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }


def _contents(node: ast.AST) -> list[tuple[str, int]]:
    """`[[{"content": X}], ...]` (completions) -> [(X, line)], evaluating `X + "x" * 10` style padding."""
    out = []
    for element in node.elts:  # type: ignore[attr-defined]
        message = element.elts[0] if isinstance(element, ast.List) else element
        content = next(v for k, v in zip(message.keys, message.values) if value(k) == "content")
        out.append((_string(content), element.lineno))
    return out


def _string(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp):
        left, right = _string(node.left), _string(node.right) if not isinstance(node.right, ast.Constant) else node.right.value
        if isinstance(node.op, ast.Add):
            return left + right  # type: ignore[operator]
        if isinstance(node.op, ast.Mult):
            return left * right  # type: ignore[operator]
    return value(node)


def open_r1_cases(repo: Path, commit: str) -> Iterator[dict[str, Any]]:
    path = "tests/test_rewards.py"
    source = git(repo, "show", f"{commit}:{path}")
    comments = _comments(source)
    options = {"call": "accuracy_reward"}
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef):
            continue
        assigned = {
            target.id: node.value
            for node in ast.walk(func)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        completions = assigned.get("completion") or assigned.get("completions")
        solutions = assigned.get("solution") or assigned.get("solutions")
        if func.name == "test_cosine_scaled_reward":
            for element in assigned["test_cases"].elts:  # type: ignore[attr-defined]
                content, solution, _, reward = value(element)
                yield _case(OPEN_R1, commit, path, element.lineno, func.name, solution, content, reward > 0, options)
            continue
        if completions is None or solutions is None or not isinstance(completions, ast.List):
            continue
        preds = _contents(completions)
        golds = _string(solutions) if isinstance(solutions, ast.BinOp) else value(solutions)
        calls_accuracy = any(_is_call(n, "accuracy_reward") for n in ast.walk(func))
        expected: list[bool | None] = [None] * len(preds)
        if calls_accuracy:
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "assertEqual"
                    and isinstance(node.args[0], ast.Subscript)
                ):
                    expected[value(node.args[0].slice)] = value(node.args[1]) == 1.0
        elif func.name.endswith("_correct_answers"):
            expected = [True] * len(preds)
        elif func.name.endswith("_incorrect_answers"):
            expected = [False] * len(preds)
        else:
            for k, (_, line) in enumerate(preds):
                note = comments.get(line, "").lower()
                if re.search(r"\bincorrect\b", note):
                    expected[k] = False
                elif re.search(r"\bcorrect\b", note):
                    expected[k] = True
        for (pred, line), gold, outcome in zip(preds, golds, expected):
            if outcome is not None:
                yield _case(OPEN_R1, commit, path, line, func.name, gold, pred, outcome, options)


def _case(
    repo: str, commit: str, path: str, line: int, test: str, gold: str, pred: str, expected: bool, options: dict
) -> dict[str, Any]:
    return {
        "repo": repo,
        "commit": commit,
        "path": path,
        "line": line,
        "test": test,
        "gold": gold,
        "prediction": pred,
        "expected": expected,
        "options": options,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--math-verify", type=Path, required=True, help="git dir of huggingface/Math-Verify")
    parser.add_argument("--open-r1", type=Path, required=True, help="git dir of huggingface/open-r1")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for repo, extract in ((args.math_verify, math_verify_cases), (args.open_r1, open_r1_cases)):
        commit = git(repo, "rev-parse", "HEAD").strip()
        for case in extract(repo, commit):
            key = json.dumps([case["repo"], case["gold"], case["prediction"], case["options"]], sort_keys=True)
            if key not in seen:  # the same pair asserted twice (the suites repeat a few) counts once
                seen.add(key)
                cases.append(case)
    args.out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    counts: dict[str, int] = {}
    for case in cases:
        counts[f"{case['repo']} {case['path']}"] = counts.get(f"{case['repo']} {case['path']}", 0) + 1
    for where, count in counts.items():
        print(f"{count:>5}  {where}")
    print(f"{len(cases):>5}  cases written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
