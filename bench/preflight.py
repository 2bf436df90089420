"""Benchmark: the preflight's RBAC stage against one access review (or one ``kubectl auth can-i``) per check.

Run with ``make bench`` (or ``python bench/preflight.py``). Against the local control plane (started for the run),
for 30 permission checks (10 resources x get/list/watch) in each of 2 namespaces, all granted:

(a) the preflight RBAC stage (one SelfSubjectRulesReview per namespace, access reviews only where the rules cannot
    decide), performed by the sync runner;
(b) 60 sequential SelfSubjectAccessReviews with the plain ``kubernetes`` client;
(c) ``kubectl auth can-i`` once per check (60 processes);
(d) the whole ``airflow-k8s-reconcile doctor --require ... -n A -n B`` process (start-up, network checks, identity,
    RBAC).

Targets (issue 7): (a) at most 4 API requests and at least 10x faster than (b); (d) at least 3x faster than (c).
Medians of ``BENCH_PREFLIGHT_ROUNDS`` rounds (default 5).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
ROUNDS = int(os.environ.get("BENCH_PREFLIGHT_ROUNDS", "5"))
RESOURCES = (
    "configmaps",
    "secrets",
    "pods",
    "services",
    "endpoints",
    "events",
    "persistentvolumeclaims",
    "serviceaccounts",
    "replicationcontrollers",
    "limitranges",
)
VERBS = ("get", "list", "watch")
SPECS = [f"{','.join(VERBS)}:{resource}" for resource in RESOURCES]


def _median(operation: Callable[[], int]) -> tuple[float, int]:
    operation()  # warm imports, connection pools and the server's caches
    times, requests = [], 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        requests = operation()
        times.append(time.perf_counter() - start)
    return statistics.median(times), requests


def main() -> int:
    from kubernetes import client as k8s, config as k8s_config

    from airflow_k8s_reconcile.domain.connection.connection_test import IDENTITY
    from airflow_k8s_reconcile.domain.preflight.permissions import expand_checks, parse_spec
    from airflow_k8s_reconcile.domain.preflight.plan import RBAC, rbac_checks
    from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import access_review_request
    from airflow_k8s_reconcile.domain.preflight.requests import AccessAnswers
    from airflow_k8s_reconcile.hooks._checks.runner import run_checks
    from airflow_k8s_reconcile.hooks._resolution.resolve import materialize, resolve_connection
    from airflow_k8s_reconcile.hooks._transport.client import build_sync_client
    from airflow_k8s_reconcile.hooks._transport.retry import NO_RETRY
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.testing.cluster import open_test_cluster
    from airflow_k8s_reconcile.testing.identity import IdentityFactory, create_namespace, delete_namespace

    kubectl = shutil.which("kubectl")
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_test_cluster(progress=lambda line: print(line, file=sys.stderr)) as cluster,
    ):
        admin = cluster.api_client()
        namespaces = [create_namespace(admin, cluster, "bench") for _ in range(2)]
        rules = [{"apiGroups": [""], "resources": list(RESOURCES), "verbs": list(VERBS)}]
        factory = IdentityFactory(admin, cluster, Path(tmp), namespaces[0])
        try:
            identity = factory(namespace_rules={ns: rules for ns in namespaces})
            permissions = [parse_spec(spec) for spec in SPECS]
            checks = expand_checks(permissions, namespaces)
            assert len(checks) == 60, len(checks)

            arguments = {"auth_mode": "kubeconfig_file", "kube_config_path": str(identity.kubeconfig_path)}
            fields = ConnectionFields("<bench>", "k8s_reconcile", {}, found=False)
            source = materialize(resolve_connection(arguments, fields).source)
            client = build_sync_client(source, policy=NO_RETRY)
            plan = rbac_checks(permissions, namespaces, identity_id=IDENTITY)

            def stage() -> int:
                outcomes = run_checks(client, plan, server=source.server)
                answers = next(o.observation for o in outcomes if o.check_id == RBAC)
                assert isinstance(answers, AccessAnswers)
                assert outcomes[-1].finding.code == "RBAC_PERMISSIONS_GRANTED", outcomes[-1].finding
                return len(namespaces) + len(answers.answers)

            plain = k8s_config.new_client_from_config(config_file=str(identity.kubeconfig_path))
            authorization = k8s.AuthorizationV1Api(plain)

            def sequential() -> int:
                for check in checks:
                    status = authorization.create_self_subject_access_review(
                        access_review_request(check)
                    ).status
                    assert status.allowed, check
                return len(checks)

            env = {**os.environ, "KUBECONFIG": str(identity.kubeconfig_path)}

            def can_i() -> int:
                for check in checks:
                    result = subprocess.run(
                        [
                            kubectl or "kubectl",
                            "auth",
                            "can-i",
                            check.verb,
                            check.resource,
                            "-n",
                            check.namespace,
                        ],
                        capture_output=True,
                        text=True,
                        env=env,
                        check=False,
                    )
                    assert result.stdout.strip() == "yes", result
                return len(checks)

            doctor_argv = [str(Path(sys.executable).parent / "airflow-k8s-reconcile"), "doctor"]
            doctor_argv += ["--kubeconfig", str(identity.kubeconfig_path)]
            for spec in SPECS:
                doctor_argv += ["--require", spec]
            for ns in namespaces:
                doctor_argv += ["-n", ns]

            def doctor() -> int:
                result = subprocess.run(
                    doctor_argv, capture_output=True, text=True, env=dict(os.environ), check=False
                )
                assert result.returncode == 0, result.stdout + result.stderr
                return 0

            rows = [
                ("(a) preflight RBAC stage", *_median(stage)),
                ("(b) 60 sequential SelfSubjectAccessReviews", *_median(sequential)),
            ]
            processes = [("(d) doctor --require (whole process)", *_median(doctor))]
            if kubectl:
                processes.append(("(c) kubectl auth can-i x 60", *_median(can_i)))
            client.shutdown()
            plain.close()
        finally:
            factory.cleanup()
            for ns in namespaces:
                delete_namespace(admin, cluster, ns)
            admin.close()

    print(f"\nPreflight RBAC: 30 permission checks x 2 namespaces, all granted; median of {ROUNDS} rounds\n")
    print(f"| {'operation':<42} | {'API requests':>12} | {'wall ms':>9} | {'ratio':>14} |")
    print(f"|{'-' * 44}|{'-' * 14}|{'-' * 11}|{'-' * 16}|")
    (a_name, a_time, a_req), (b_name, b_time, b_req) = rows
    print(f"| {a_name:<42} | {a_req:>12} | {a_time * 1000:>9.1f} | {'1.0':>14} |")
    print(f"| {b_name:<42} | {b_req:>12} | {b_time * 1000:>9.1f} | {f'(b)/(a) {b_time / a_time:.1f}x':>14} |")
    d_name, d_time, _ = processes[0]
    print(f"| {d_name:<42} | {'-':>12} | {d_time * 1000:>9.1f} | {'1.0':>14} |")
    if len(processes) > 1:
        c_name, c_time, c_req = processes[1]
        print(
            f"| {c_name:<42} | {c_req:>12} | {c_time * 1000:>9.1f} | {f'(c)/(d) {c_time / d_time:.1f}x':>14} |"
        )
    print("\nTargets: (a) <= 4 requests and >= 10x faster than (b); (d) >= 3x faster than (c).")
    ok = a_req <= 4 and b_time / a_time >= 10 and (len(processes) < 2 or processes[1][1] / d_time >= 3)
    print("Targets met." if ok else "Targets NOT met.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
