"""Tables from a run's JSON: the figures of issue 10 beside the baselines, as ratios.

.venv/bin/python -m bench.report [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

BASELINES = ("b1", "b2", "b3")
NAMES = {
    "b1": "(1) Channels+SDK",
    "b2": "(2) Channels+events",
    "b3": "(3) Starlette+SDK",
    "app": "app daphne",
    "app_uv": "app uvicorn",
    "b2_uv": "(2) uvicorn",
}
# Ratio columns: (numerator, denominator).
RATIOS = (
    ("app", "b1"),
    ("app", "b2"),
    ("app", "b3"),
    ("app_uv", "b2"),
    ("app_uv", "app"),
    ("b2_uv", "b2"),
)


def _get(res: dict | None, *path):
    cur = res
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


def one_line(res: dict) -> str:
    if "failed" in res:
        return "FAILED " + res["failed"].splitlines()[-1][:100]
    parts = [
        f"tok/s={res.get('tokens_per_s')}",
        f"cpu={res.get('cpu_us_per_token')}us/tok",
        f"ttfd50={_get(res, 'ttfd', 'p50_ms')}",
        f"ttfd99={_get(res, 'ttfd', 'p99_ms')}",
        f"stale50={_get(res, 'staleness', 'p50_ms')}",
        f"stale99={_get(res, 'staleness', 'p99_ms')}",
        f"err={res.get('error_count')}",
        f"lg={res.get('loadgen_cpu_util')}",
        f"ep={res.get('endpoint_cpu_util')}",
    ]
    if res.get("errors"):
        parts.append(str(res["errors"]))
    return " ".join(parts)


def _kib(value) -> float | None:
    return None if value is None else value / 1024


def _stream_mem(res: dict) -> float | None:
    idle, extra = res.get("idle_bytes_per_socket"), res.get("extra_bytes_per_stream")
    if idle is None or extra is None:
        return None
    return (idle + extra) / 1024


# (label, scenario, getter, kind): "abs" gets ratios, "added" is minus (2), "info"
# is shown without ratios.
Getter = Callable[[dict], float | None]
FIGURES: list[tuple[str, str, Getter, str]] = [
    (
        "delivered tokens/s, 300 fast streams",
        "fast300",
        lambda r: r.get("tokens_per_s"),
        "abs",
    ),
    (
        "delivered tokens/s, 500 paced streams (offered 25k)",
        "paced500",
        lambda r: r.get("tokens_per_s"),
        "abs",
    ),
    (
        "server CPU µs/token, 300 fast streams",
        "fast300",
        lambda r: r.get("cpu_us_per_token"),
        "abs",
    ),
    (
        "server CPU µs/token, 100 paced streams",
        "paced100",
        lambda r: r.get("cpu_us_per_token"),
        "abs",
    ),
    (
        "server CPU µs/token, 300 paced streams",
        "paced300",
        lambda r: r.get("cpu_us_per_token"),
        "abs",
    ),
    (
        "est. streams at 50 tok/s per core (1e6 / 50 / µs per paced token)",
        "paced20",
        lambda r: 2e4 / r["cpu_us_per_token"] if r.get("cpu_us_per_token") else None,
        "abs",
    ),
    (
        "server CPU µs/token, 20 paced streams",
        "paced20",
        lambda r: r.get("cpu_us_per_token"),
        "abs",
    ),
    (
        "time to first delta p50 ms, 20 paced",
        "paced20",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "abs",
    ),
    (
        "added TTFD over (2) p50 ms, 20 paced",
        "paced20",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "added",
    ),
    (
        "added TTFD over (2) p99 ms, 20 paced",
        "paced20",
        lambda r: _get(r, "ttfd", "p99_ms"),
        "added",
    ),
    (
        "staleness p50 ms, 20 paced",
        "paced20",
        lambda r: _get(r, "staleness", "p50_ms"),
        "abs",
    ),
    (
        "staleness p99 ms, 20 paced",
        "paced20",
        lambda r: _get(r, "staleness", "p99_ms"),
        "abs",
    ),
    (
        "frames per reply, 300 fast streams",
        "fast300",
        lambda r: r.get("frames_per_reply"),
        "abs",
    ),
    (
        "time to first delta p50 ms, 1 paced stream",
        "paced1",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "abs",
    ),
    (
        "added TTFD over (2) p50 ms, 1 paced stream",
        "paced1",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "added",
    ),
    (
        "time to first delta p50 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "abs",
    ),
    (
        "time to first delta p99 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "ttfd", "p99_ms"),
        "abs",
    ),
    (
        "added TTFD over (2) p50 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "added",
    ),
    (
        "added TTFD over (2) p99 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "ttfd", "p99_ms"),
        "added",
    ),
    (
        "added TTFD over (2) p50 ms, 100 paced, first token 300 ms",
        "paced100_first300",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "added",
    ),
    (
        "added TTFD over (2) p99 ms, 100 paced, first token 300 ms",
        "paced100_first300",
        lambda r: _get(r, "ttfd", "p99_ms"),
        "added",
    ),
    (
        "added TTFD over (2) p99 ms, 300 paced",
        "paced300",
        lambda r: _get(r, "ttfd", "p99_ms"),
        "added",
    ),
    (
        "staleness p50 ms, 1 paced stream",
        "paced1",
        lambda r: _get(r, "staleness", "p50_ms"),
        "abs",
    ),
    (
        "staleness p50 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "staleness", "p50_ms"),
        "abs",
    ),
    (
        "staleness p99 ms, 100 paced",
        "paced100",
        lambda r: _get(r, "staleness", "p99_ms"),
        "abs",
    ),
    (
        "staleness max ms, 100 paced",
        "paced100",
        lambda r: _get(r, "staleness", "max_ms"),
        "abs",
    ),
    (
        "staleness p50 ms, 300 paced",
        "paced300",
        lambda r: _get(r, "staleness", "p50_ms"),
        "abs",
    ),
    (
        "staleness p99 ms, 300 paced",
        "paced300",
        lambda r: _get(r, "staleness", "p99_ms"),
        "abs",
    ),
    (
        "staleness max ms, 300 paced",
        "paced300",
        lambda r: _get(r, "staleness", "max_ms"),
        "abs",
    ),
    (
        "staleness p99 ms, 500 paced",
        "paced500",
        lambda r: _get(r, "staleness", "p99_ms"),
        "abs",
    ),
    (
        "staleness p99 ms, 1000 sockets, 20% streaming",
        "mixed",
        lambda r: _get(r, "staleness", "p99_ms"),
        "abs",
    ),
    (
        "errors, 1000 sockets, 20% streaming",
        "mixed",
        lambda r: r.get("error_count"),
        "abs",
    ),
    (
        "memory per idle socket KiB",
        "idle",
        lambda r: _kib(r.get("idle_bytes_per_socket")),
        "abs",
    ),
    ("memory per streaming socket KiB (300 paced)", "paced300", _stream_mem, "abs"),
    (
        "server's share of its core %, 300 fast streams",
        "fast300",
        lambda r: 100 * r["server_cpu_util"] if "server_cpu_util" in r else None,
        "info",
    ),
    (
        "other processes' share of that core %, 300 fast streams",
        "fast300",
        lambda r: (
            100 * r["foreign_server_core_util"]
            if "foreign_server_core_util" in r
            else None
        ),
        "info",
    ),
    (
        "cache hit: first delta p50 ms",
        "cache_hit",
        lambda r: _get(r, "ttfd", "p50_ms"),
        "abs",
    ),
    (
        "cache hit: whole reply p50 ms",
        "cache_hit",
        lambda r: _get(r, "reply", "p50_ms"),
        "abs",
    ),
]


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(a, b) -> str:
    if a is None or b is None or not b:
        return "—"
    return f"{a / b:.2f}×"


def markdown(run: dict) -> str:
    results = run.get("results", {})
    variants = [v for v in NAMES if v in results]
    ratios = [(a, b) for a, b in RATIOS if a in results and b in results]
    head = ["figure", *(NAMES[v] for v in variants), *(f"{a}÷{b}" for a, b in ratios)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, scenario, get, kind in FIGURES:
        values = {}
        for v in variants:
            res = results[v].get(scenario)
            values[v] = get(res) if res and "failed" not in res else None
        if all(val is None for val in values.values()):
            continue
        if kind == "added":
            base = values.get("b2")
            cells = [
                _fmt(None if values[v] is None or base is None else values[v] - base)
                for v in variants
            ]
            ratio_cells = ["" for _ in ratios]
        elif kind == "info":
            cells = [_fmt(values[v]) for v in variants]
            ratio_cells = ["" for _ in ratios]
        else:
            cells = [_fmt(values[v]) for v in variants]
            ratio_cells = [_ratio(values.get(a), values.get(b)) for a, b in ratios]
        lines.append("| " + " | ".join([label, *cells, *ratio_cells]) + " |")
    # Totals over every scenario of a variant.
    totals = {
        "errors, all scenarios": lambda rs: (
            sum(r.get("error_count", 0) or 0 for r in rs if "failed" not in r)
            + sum(1 for r in rs if "failed" in r)
        ),
        "load generator CPU, max % of its core": lambda rs: max(
            (100 * (r.get("loadgen_cpu_util") or 0) for r in rs), default=None
        ),
        "load generator + endpoint CPU, max % of core 1": lambda rs: max(
            (
                100
                * ((r.get("loadgen_cpu_util") or 0) + (r.get("endpoint_cpu_util") or 0))
                for r in rs
            ),
            default=None,
        ),
    }
    for label, fn in totals.items():
        cells = [_fmt(fn(list(results[v].values()))) for v in variants]
        lines.append("| " + " | ".join([label, *cells, *("" for _ in ratios)]) + " |")
    out = ["\n".join(lines)]
    out.extend(filter(None, (path_table(results), processes_table(results))))
    llama = run.get("llama") or {}
    if llama and "skipped" not in llama:
        rows = [
            "| real model (SmolLM2, llama.cpp) | "
            + " | ".join(NAMES[k] for k in llama)
            + " |",
            "|---|" + "---|" * len(llama),
        ]
        for label, get in (
            ("tokens/s", lambda r: r.get("tokens_per_s")),
            ("time to first delta p50 ms", lambda r: _get(r, "ttfd", "p50_ms")),
            ("whole reply p50 ms", lambda r: _get(r, "reply", "p50_ms")),
            ("server CPU µs/token", lambda r: r.get("cpu_us_per_token")),
            ("errors", lambda r: r.get("error_count")),
        ):
            rows.append(
                f"| {label} | "
                + " | ".join(
                    _fmt(get(r)) if "failed" not in r else "failed"
                    for r in llama.values()
                )
                + " |"
            )
        out.append("\n".join(rows))
    elif llama:
        out.append(f"Real model run skipped: {llama['skipped']}")
    return "\n\n".join(out)


# Issue 22: the app with each change of the stream path switched back off, and
# other servers, against the app as it ships (daphne, aiohttp, orjson, bounded).
PATH_VARIANTS = {
    "app": "app as it ships (daphne on uvloop)",
    "app_httpx": "SDK on httpx instead of aiohttp",
    "app_json": "stdlib json frames instead of orjson",
    "app_unbounded": "every LangChain chunk held (no bounded stream)",
    "app_chunkwait": "LangChain's per-chunk wait_for on (its 120 s default)",
    "app_asyncio": "daphne on asyncio's loop instead of uvloop",
    "app_uv": "uvicorn (uvloop, websockets-sansio)",
    "app_gr": "granian (one worker)",
}
PROCESS_VARIANTS = {
    "app_r1": "1 process (Redis), core 0",
    "app_r2": "2 processes (Redis, bin/web's supervisor), both cores",
}


def _per_variant(results: dict, names: dict, base: str, columns) -> str | None:
    rows = [v for v in names if v in results]
    if len(rows) < 2:
        return None
    head = ["variant"]
    for label, _, _, ratio in columns:
        head += [label, f"÷{base}"] if ratio else [label]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in rows:
        cells = [f"`{v}` {names[v]}"]
        for _, scenario, get, ratio in columns:
            res = results[v].get(scenario)
            value = get(res) if res and "failed" not in res else None
            cells.append(_fmt(value))
            if ratio:
                bres = results.get(base, {}).get(scenario)
                bval = get(bres) if bres and "failed" not in bres else None
                cells.append(_ratio(value, bval))
        lines.append("| " + " | ".join(cells) + " |")
    errors = ", ".join(f"{v} {_errors(results[v])}" for v in rows)
    return "\n".join(lines) + f"\n\nErrors: {errors}."


def _errors(rs: dict) -> int:
    return sum(r.get("error_count", 0) or 0 for r in rs.values() if "failed" not in r)


def _tokens_per_s(res: dict) -> float | None:
    return res.get("tokens_per_s")


def _cpu_per_token(res: dict) -> float | None:
    return res.get("cpu_us_per_token")


def path_table(results: dict) -> str | None:
    """One row per stream-path variant, ratios to the app as it ships."""
    columns = [
        ("tokens/s, 300 fast", "fast300", _tokens_per_s, True),
        ("CPU µs/token, 300 fast", "fast300", _cpu_per_token, True),
        ("CPU µs/token, 20 paced", "paced20", _cpu_per_token, True),
        ("KiB per streaming socket", "paced300", _stream_mem, True),
    ]
    return _per_variant(results, PATH_VARIANTS, "app", columns)


def processes_table(results: dict) -> str | None:
    """Processes × streams: tokens/s at saturation against one process."""
    columns = [
        ("tokens/s, 300 fast", "fast300", _tokens_per_s, True),
        ("CPU µs/token, 300 fast", "fast300", _cpu_per_token, False),
        (
            "Redis commands/token",
            "fast300",
            lambda r: r.get("redis_commands_per_token"),
            False,
        ),
        (
            "Redis CPU µs/token",
            "fast300",
            lambda r: r.get("redis_cpu_us_per_token"),
            False,
        ),
        ("tokens/s, 300 paced", "paced300", _tokens_per_s, True),
        (
            "server's cores busy %, 300 fast",
            "fast300",
            lambda r: 100 * r["server_cpu_util"] if "server_cpu_util" in r else None,
            False,
        ),
    ]
    return _per_variant(results, PROCESS_VARIANTS, "app_r1", columns)


def details(run: dict) -> str:
    """Every scenario of every variant, one row each."""
    head = (
        "variant",
        "scenario",
        "tok/s",
        "µs/tok",
        "TTFD p50/p99",
        "stale p50/p99/max",
        "gap p99",
        "frames/reply",
        "errors",
        "loadgen %",
        "endpoint %",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v, scenarios in run.get("results", {}).items():
        for name, r in scenarios.items():
            if "failed" in r:
                lines.append(f"| {v} | {name} | failed |" + " |" * (len(head) - 3))
                continue
            lines.append(
                "| "
                + " | ".join(
                    [
                        v,
                        name,
                        _fmt(r.get("tokens_per_s")),
                        _fmt(r.get("cpu_us_per_token")),
                        f"{_fmt(_get(r, 'ttfd', 'p50_ms'))} / "
                        f"{_fmt(_get(r, 'ttfd', 'p99_ms'))}",
                        f"{_fmt(_get(r, 'staleness', 'p50_ms'))} / "
                        f"{_fmt(_get(r, 'staleness', 'p99_ms'))} / "
                        f"{_fmt(_get(r, 'staleness', 'max_ms'))}",
                        _fmt(_get(r, "gaps", "p99_ms")),
                        _fmt(r.get("frames_per_reply")),
                        _fmt(r.get("error_count"))
                        + (f" {r['errors']}" if r.get("errors") else ""),
                        _fmt(100 * (r.get("loadgen_cpu_util") or 0)),
                        _fmt(100 * (r.get("endpoint_cpu_util") or 0)),
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


START, END = "<!-- results:start -->", "<!-- results:end -->"


def update_readme(path: Path, table: str, name: str) -> None:
    text = path.read_text() if path.exists() else f"{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1] if END in rest else ""
    body = f"{START}\nFrom `bench/results/{name}`:\n\n{table}\n{END}"
    path.write_text(before + body + after)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    run = json.loads(path.read_text())
    print(markdown(run))
    print()
    print(details(run))


if __name__ == "__main__":
    main()
