"""The benchmark harness still runs end to end (bench/README.md): baseline (2) and
the app, under daphne, with the load generator, the controlled endpoint and the
cache scenarios, and every reply arrives whole. Numbers are not asserted here (a
unit test is no benchmark); only that the harness measures and reports."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(300)
def test_a_small_run_measures_both_variants_without_errors(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--variants",
            "b2,app",
            "--only",
            "paced1,fast1",
            "--no-llama",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "BENCH_WORKDIR": str(tmp_path / "work"),
        },
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = json.loads((tmp_path / "latest.json").read_text())
    assert not [note for note in run["notes"] if "skipped" in note], run["notes"]
    for variant, scenarios in (
        ("b2", {"paced1", "fast1"}),
        ("app", {"paced1", "fast1", "cache_fill", "cache_hit"}),
    ):
        results = run["results"][variant]
        assert set(results) == scenarios
        for name, result in results.items():
            assert result["error_count"] == 0, (variant, name, result["errors"])
            assert result["replies"] >= 1 and result["tokens_per_s"] > 0
            assert result["cpu_us_per_token"] > 0
    table = report.markdown(run)
    assert "time to first delta p50 ms, 1 paced stream" in table
    assert "cache hit: whole reply p50 ms" in table
