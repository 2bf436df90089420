"""Benchmark: reconciling 500 ConfigMaps of ~1 KiB, against a naive client loop and ``kubectl apply --server-side``.

Run with ``make bench`` (or ``python bench/reconcile.py``). Starts the local control plane, creates the ConfigMaps
once, then measures, each in a fresh process so peak RSS is that of the approach alone:

- (a) this reconcile with no drift;
- (b) this reconcile after 5% drift (a third keys added by someone else, a third values modified, a third deleted);
- (c) a naive loop with the plain client: get + replace for every object (create when missing), after the same drift;
- (d) ``kubectl apply --server-side -f`` of the same manifests (nothing drifted).

API requests are counted by the API server itself (``apiserver_request_total``, :mod:`airflow_k8s_reconcile.testing
.metrics`), so every approach is counted the same way. Wall time is measured around the work (for Python: from
building the hook or client to the last answer, imports excluded; for kubectl: the whole process). Prints a markdown
table with ratios and checks the targets: (a) one list request and at least 15x faster than (d); (b) at least 5x
faster than (c).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNT = int(os.environ.get("BENCH_CONFIGMAPS", "500"))
KEYS = 4  # 4 values of 256 characters: ~1 KiB of data per ConfigMap


def _manifests(namespace: str) -> list[dict]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i:04d}", "namespace": namespace},
            "data": {f"key-{k}": (f"{i:04d}-{k}-" * 64)[:256] for k in range(KEYS)},
        }
        for i in range(COUNT)
    ]


# --- the measured work, each run in a child process (``python bench/reconcile.py --child KIND ...``) ------------
def _child_reconcile(kubeconfig: str, manifests: str) -> dict:
    from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
    from airflow_k8s_reconcile.domain.reconcile.policy import Policy
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook
    from airflow_k8s_reconcile.hooks.manifests import load_manifests

    __import__("kubernetes.client")  # imported lazily by the hook; a worker pays it once, not per reconcile
    began = time.perf_counter()
    specs, problems = load_manifests([manifests])
    assert not problems, problems
    fields = ConnectionFields("<bench>", CONN_TYPE, {}, found=False)
    hook = K8sConfigMapHook(
        connection_fields=fields, auth_mode="kubeconfig_file", kube_config_path=kubeconfig
    )
    report = hook.reconcile(specs, Policy(owner="bench/reconcile"), emit_events=False).report
    wall = time.perf_counter() - began
    counts = {key: value for key, value in report["summary"].items() if isinstance(value, int) and value}
    return {"wall": wall, "summary": counts, "in_sync": report["summary"]["in_sync"]}


def _child_naive(kubeconfig: str, manifests: str) -> dict:
    import yaml
    from kubernetes import client as k8s, config
    from kubernetes.client.exceptions import ApiException

    began = time.perf_counter()
    documents = list(yaml.load_all(Path(manifests).read_text(), Loader=yaml.CSafeLoader))
    api = k8s.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    for doc in documents:
        meta = doc["metadata"]
        try:
            live = api.read_namespaced_config_map(meta["name"], meta["namespace"])
        except ApiException as err:
            if err.status != 404:
                raise
            api.create_namespaced_config_map(meta["namespace"], doc)
            continue
        live.data = doc["data"]
        api.replace_namespaced_config_map(meta["name"], meta["namespace"], live)
    return {"wall": time.perf_counter() - began}


def _child(kind: str, kubeconfig: str, manifests: str) -> None:
    work = {"reconcile": _child_reconcile, "naive": _child_naive}[kind]
    result = work(kubeconfig, manifests)
    result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# --- the driver ----------------------------------------------------------------------------------------------
def _python(kind: str, kubeconfig: Path, manifests: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    argv = [sys.executable, __file__, "--child", kind, str(kubeconfig), str(manifests)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _kubectl(kubeconfig: Path, manifests: Path) -> dict:
    argv = ["kubectl", "--kubeconfig", str(kubeconfig), "apply", "--server-side", "-f", str(manifests)]
    began = time.perf_counter()
    subprocess.run(argv, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    # Only one child has been waited for by now besides Python ones, so RUSAGE_CHILDREN's peak is kubectl's only
    # if it is the largest; measure it alone with /usr/bin/time instead when available.
    rss = float("nan")
    timed = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True, check=False)
    if timed.returncode == 0:
        rss = int(timed.stderr.strip().splitlines()[-1]) / 1024
    return {"wall": wall, "rss_mib": rss}


def _drift(admin, namespace: str) -> dict[str, int]:
    """Tamper with 5% of the ConfigMaps, as someone else: add a key, modify a value, or delete."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(admin)
    touched = {"added": 0, "modified": 0, "deleted": 0}
    for n, i in enumerate(range(0, COUNT, 20)):
        name = f"cm-{i:04d}"
        kind = ("added", "modified", "deleted")[n % 3]
        if kind == "deleted":
            core.delete_namespaced_config_map(name, namespace)
        else:
            data = {"injected": "x"} if kind == "added" else {"key-0": "tampered"}
            core.patch_namespaced_config_map(name, namespace, {"data": data}, field_manager="tamperer")
        touched[kind] += 1
    return touched


def _measure(admin, label: str, run) -> dict:
    from airflow_k8s_reconcile.testing.metrics import request_counts

    before = request_counts(admin)
    result = run()
    counted = request_counts(admin) - before
    result["requests"] = sum(n for (_, resource_), n in counted.items() if resource_ == "configmaps")
    result["lists"] = counted[("LIST", "configmaps")]
    result["label"] = label
    print(f"-- {label}: {result['wall']:.3f} s, {result['requests']} requests", file=sys.stderr, flush=True)
    return result


def _table(rows: dict[str, dict]) -> str:
    base = rows["c"]["wall"]
    lines = [
        "| scenario | API requests (configmaps) | wall time | peak RSS | time vs (c) naive loop |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in ("a", "b", "c", "d"):
        row = rows[key]
        ratio = base / row["wall"]
        lines.append(
            f"| ({key}) {row['label']} | {row['requests']} ({row['lists']} list) | {row['wall'] * 1000:.0f} ms | "
            f"{row['rss_mib']:.0f} MiB | {ratio:.1f}x faster |"
            if ratio >= 1
            else f"| ({key}) {row['label']} | {row['requests']} ({row['lists']} list) | {row['wall'] * 1000:.0f} ms | "
            f"{row['rss_mib']:.0f} MiB | {1 / ratio:.1f}x slower |"
        )
    a_vs_d = rows["d"]["wall"] / rows["a"]["wall"]
    b_vs_c = rows["c"]["wall"] / rows["b"]["wall"]
    lines += [
        "",
        f"(a) vs (d): {a_vs_d:.1f}x faster (target >= 15x); (a) list requests: {rows['a']['lists']} (target 1).",
        f"(b) vs (c): {b_vs_c:.1f}x faster (target >= 5x).",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark; return 0 when every target is met."""
    import yaml

    from airflow_k8s_reconcile.testing.cluster import TestCluster
    from airflow_k8s_reconcile.testing.control_plane import LocalControlPlane
    from airflow_k8s_reconcile.testing.identity import create_namespace

    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        workdir = Path(tmp)
        plane = LocalControlPlane(
            workdir / "cluster",
            die_with_parent=True,
            progress=lambda line: print(f"-- {line}", file=sys.stderr),
        )
        state = plane.start()
        try:
            cluster = TestCluster.from_local(plane, state, "bench")
            kubeconfig = cluster.kubeconfig_path
            with cluster.api_client() as admin:
                namespace = create_namespace(admin, cluster, prefix="bench")
                manifests = workdir / "configmaps.yaml"
                manifests.write_text(yaml.safe_dump_all(_manifests(namespace)))
                setup = _python("reconcile", kubeconfig, manifests)
                assert setup["summary"].get("created") == COUNT, setup
                rows = {
                    "a": _measure(
                        admin, "reconcile, no drift", lambda: _python("reconcile", kubeconfig, manifests)
                    )
                }
                assert rows["a"]["summary"].get("unchanged") == COUNT, rows["a"]
                rows["d"] = _measure(
                    admin, "kubectl apply --server-side", lambda: _kubectl(kubeconfig, manifests)
                )
                touched = _drift(admin, namespace)
                rows["b"] = _measure(
                    admin, "reconcile, 5% drift", lambda: _python("reconcile", kubeconfig, manifests)
                )
                # Deleted objects come back as "created": this run has no earlier report remembering their uids.
                fixed = rows["b"]["summary"].get("restored", 0) + rows["b"]["summary"].get("created", 0)
                assert fixed == sum(touched.values()), rows["b"]
                _drift(admin, namespace)
                rows["c"] = _measure(
                    admin,
                    "naive get + replace loop, 5% drift",
                    lambda: _python("naive", kubeconfig, manifests),
                )
        finally:
            plane.stop(keep_logs=False)
    print(f"{COUNT} ConfigMaps of ~1 KiB in one namespace; drift: {touched}\n")
    print(_table(rows))
    ok = (
        rows["a"]["lists"] == 1
        and rows["d"]["wall"] >= 15 * rows["a"]["wall"]
        and rows["c"]["wall"] >= 5 * rows["b"]["wall"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
