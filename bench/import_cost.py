"""Benchmark: what importing each operator, sensor and trigger module adds to a DAG parse, next to cncf's KPO.

Run with ``make bench`` (or ``python bench/import_cost.py``; ``BENCH_IMPORT_ROUNDS`` sets the rounds, default 15).
Every measurement is a fresh interpreter that imports ``airflow.sdk`` first (the baseline every DAG file pays), then
the module: the time of that second import, and the growth of the process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) across it. Rounds interleave the modules so that load from other
processes spreads evenly; the table shows medians. The budget (issue 6) is 50 ms and 10 MiB per module over
``import airflow.sdk``; cncf's ``KubernetesPodOperator`` module is measured in the same run for comparison, and the
sync hook module for what ``execute`` imports later (it is not held to the budget).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "15"))
BUDGET_MS = 50.0
BUDGET_MIB = 10.0
ROOT = Path(__file__).resolve().parents[1] / "airflow_k8s_reconcile"
KPO = "airflow.providers.cncf.kubernetes.operators.pod"
HOOK = "airflow_k8s_reconcile.hooks.kubernetes"

_PROBE = """
import importlib, json, resource, sys, time
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
rss0, t0 = rss(), time.perf_counter()
import airflow.sdk
t1, rss1 = time.perf_counter(), rss()
if sys.argv[1]:
    importlib.import_module(sys.argv[1])
t2, rss2 = time.perf_counter(), rss()
print(json.dumps({"sdk_s": t1 - t0, "sdk_kib": rss1 - rss0, "s": t2 - t1, "kib": rss2 - rss1}))
"""


def role_modules() -> list[str]:
    """Our operator, sensor and trigger modules and packages, found on disk (new ones are measured too)."""
    names = []
    for role in ("operators", "sensors", "triggers"):
        for path in sorted((ROOT / role).rglob("*.py")):
            parts = path.relative_to(ROOT.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def probe(module: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, module], capture_output=True, text=True, check=True, env={**os.environ}
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ours = role_modules()
    targets = ["", *ours, HOOK, KPO]
    samples: dict[str, list[dict[str, float]]] = {t: [] for t in targets}
    probe(KPO)  # warm the file-system cache (bytecode, site-packages) once for everything
    for _ in range(ROUNDS):
        for target in targets:
            samples[target].append(probe(target))

    def median(target: str, key: str) -> float:
        return statistics.median(s[key] for s in samples[target])

    base_ms, base_mib = median("", "sdk_s") * 1000, median("", "sdk_kib") / 1024
    print(
        f"\nImport cost over `import airflow.sdk`, fresh interpreter per sample, median of {ROUNDS} rounds."
    )
    print(
        f"Memory: growth of peak RSS (ru_maxrss) across the import. Baseline `import airflow.sdk`: "
        f"{base_ms:.0f} ms, {base_mib:.1f} MiB.\n"
    )
    print(f"| {'module':<64} | {'ms over airflow.sdk':>19} | {'MiB over airflow.sdk':>20} | within budget |")
    print(f"|{'-' * 66}|{'-' * 21}|{'-' * 22}|{'-' * 15}|")
    failed = False
    for target in targets[1:]:
        ms, mib = median(target, "s") * 1000, median(target, "kib") / 1024
        ok = ms <= BUDGET_MS and mib <= BUDGET_MIB
        if target in ours:
            verdict = "yes" if ok else "**NO**"
            failed |= not ok
        else:
            verdict = "(reference)"
        name = f"`{target}`" + (" (cncf KPO)" if target == KPO else " (in execute)" if target == HOOK else "")
        print(f"| {name:<64} | {ms:>19.1f} | {mib:>20.1f} | {verdict:<13} |")
    print(f"\nBudget: <= {BUDGET_MS:.0f} ms and <= {BUDGET_MIB:.0f} MiB per operator/sensor/trigger module.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
