"""The smaller class: Ctrl-C says so, values that YAML or a template would silently bend are refused, and
a remote server's error text never carries a secret to the terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.hostile.cli import assert_ok, assert_user_error, process_env, run_here, snapshot
from tests.hostile.conftest import Workspace
from tests.hubserver import point_client_at

pytestmark = pytest.mark.timeout(240)
SECRET = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def _interrupt(ws: Workspace, args: list[str], after: str, delay: float) -> tuple[int, str]:
    """Start `curate ARGS` as a terminal would, and press Ctrl-C (SIGINT to the whole process group)
    `delay` seconds after `after` appears in its log."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "curate.cli", *args],
        cwd=ws.root,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if after in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert not after or seen.wait(120), "".join(lines)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    return proc.returncode, "".join(lines)


@pytest.mark.parametrize("delay", [0.0, 1.5, 4.0])
def test_ctrl_c_during_a_run_says_so_and_keeps_the_previous_output(
    ws: Workspace, capfd: pytest.CaptureFixture[str], delay: float
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    previous = snapshot(ws.out)
    slow = ws.root / "slow.yaml"
    slow.write_text(
        ws.recipe.read_text()
        .replace("{path: data/src.parquet}", "{sample: true, rows: 3000}")
        .replace(
            "  - finish_reason: {allowed: [stop]}\n",
            "  - finish_reason: {allowed: [stop]}\n  - answer_verify: {}\n",
        )
        .replace("{size: 10, test_size: 2}", "{size: 100}")
    )
    assert_ok(run_here(capfd, "run", str(slow), "--out", "out/warm"))  # the sample is generated once
    code, err = _interrupt(ws, ["run", str(slow), "--no-cache", "--workers", "2"], "source: 3000 rows", delay)
    if code == 0:
        pytest.skip("the run finished before Ctrl-C")
    assert code == 130, err
    assert err.rstrip().splitlines()[-1] == "curate: interrupted; existing outputs were left untouched", err
    assert "Traceback" not in err, err
    assert snapshot(ws.out) == previous


def test_ctrl_c_while_generating_a_sample_leaves_no_temp_file(ws: Workspace) -> None:
    code, err = _interrupt(ws, ["sample", "--out", "gen/s.parquet", "--rows", "50000"], "", 3.0)
    assert code == 130, err
    assert "curate: interrupted" in err and "Traceback" not in err, err
    assert not (ws.root / "gen").exists() or os.listdir(ws.root / "gen") == []


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ("seed: 7", "seed: true", ("recipe.yaml:3", "seed", "expected a number, got true")),
        ("{size: 10, test_size: 2}", "{size: true, test_size: 2}", ("sample.size", "got true")),
        ("{size: 10, test_size: 2}", "{size: 10, weights: {olympiads: true}}", ("olympiads", "got true")),
        ("finish_reason: {allowed: [stop]}", "token_length: {max_tokens: yes}", ("max_tokens", "got true")),
    ],
)
def test_yaml_booleans_are_not_numbers(
    ws: Workspace, capfd: pytest.CaptureFixture[str], old: str, new: str, fragments: tuple[str, ...]
) -> None:
    ws.recipe.write_text(ws.recipe.read_text().replace(old, new))
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), *fragments)


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("Solve: {problem}\nAnswer format: {answer}", "{answer}"),
        ("{problem} ({difficulty})", "{difficulty}"),
        ("Put the result in \\boxed{answer} and use \\frac{a}{b}, x^{n}: {problem}", None),
        ("{problem}", None),
    ],
)
def test_user_template_placeholders(
    ws: Workspace, capfd: pytest.CaptureFixture[str], template: str, error: str | None
) -> None:
    ws.recipe.write_text(ws.recipe.read_text() + f"format: {{user_template: {json.dumps(template)}}}\n")
    outcome = run_here(capfd, "run", str(ws.recipe))
    if error:
        assert_user_error(outcome, "unknown placeholder", error)
        return
    assert_ok(outcome)
    messages = pq.read_table(ws.out / "train.parquet").column("messages").to_pylist()
    users = [m[0]["content"] for m in messages]
    assert all("{problem}" not in u for u in users)
    assert all(u.startswith(template.split("{problem}")[0]) for u in users)


class _Refusing(BaseHTTPRequestHandler):
    """A Hub that refuses everything with 400 and an error text that echoes the caller's token, as a
    misconfigured proxy might."""

    def _refuse(self) -> None:
        body = json.dumps(
            {"error": f"Bad request for token {SECRET}; Authorization: Bearer {SECRET}"}
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Error-Message", f"bad request, token={SECRET}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._refuse()

    def do_HEAD(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._refuse()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def refusing_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    point_client_at(monkeypatch, url, tmp_path / "hf-home")
    monkeypatch.setenv("HF_TOKEN", SECRET)
    yield url
    server.shutdown()
    server.server_close()


def test_a_hub_error_text_is_redacted_for_a_source(
    ws: Workspace, capfd: pytest.CaptureFixture[str], refusing_hub: str
) -> None:
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "someone/dataset")
    assert_user_error(outcome, "someone/dataset")
    assert SECRET not in outcome.err and SECRET not in outcome.out


def test_a_hub_error_text_is_redacted_for_a_push(
    ws: Workspace, capfd: pytest.CaptureFixture[str], refusing_hub: str
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    outcome = run_here(capfd, "push", str(ws.out), "--repo-id", "me/data")
    assert_user_error(outcome, "400", "[redacted]")
    assert SECRET not in outcome.err and SECRET not in outcome.out
