"""The demo's story: the example DAGs run as a least-privilege worker, then tampers, then the restores.

Each DAG runs with ``airflow dags test`` (a subprocess, as a DAG author would try it); the reports the tasks
returned are read back from the Airflow home's database and printed with their own render functions (the
preflight's :meth:`Report.render <airflow_k8s_reconcile.findings.Report.render>`, the reconcile report's
``render``). What the demo claims is checked on the live objects, not taken from the DAGs' word: a restore that
did not restore fails the demo.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.testing.demo import objects
from airflow_k8s_reconcile.testing.demo.airflow_runs import CONN_VARIABLE, AirflowHome, DagRun, connection_uri

if TYPE_CHECKING:
    from airflow_k8s_reconcile.testing.cluster import TestCluster

GUARDED = "guarded-settings"


class DemoFailedError(RuntimeError):
    """A step did not do what the demo says it does."""


def say(line: str = "") -> None:
    """Print one line of the demo's output now."""
    print(line, flush=True)


def _indented(text: str) -> None:
    for line in text.splitlines():
        say(f"   {line}")


def render_preflight(report: dict[str, Any]) -> str:
    """Return the preflight task's XCom (a ``Report.to_dict()``) as the report's own readable text."""
    from airflow_k8s_reconcile.findings import CheckLine, Finding, Report, Status

    findings = [
        Finding(
            code=item["code"],
            status=Status(item["status"]),
            title=item["title"],
            cause=item["cause"],
            fix=item.get("fix", ""),
        )
        for item in report["findings"]
    ]
    checks = [
        CheckLine(
            id=item["id"],
            title=item["title"],
            status=Status(item["status"]),
            code=item["code"],
            duration_seconds=float(item.get("duration_ms", 0)) / 1000,
        )
        for item in report.get("checks") or ()
    ]
    return Report.build(
        findings,
        dict(report.get("connection") or {}),
        checks=checks,
        identity=report.get("identity"),
        permissions=report.get("permissions"),
        remediation=report.get("remediation"),
    ).render()


def render_reconcile(report: dict[str, Any]) -> str:
    """Return a reconcile report (the reconcile task's XCom) as its readable text."""
    from airflow_k8s_reconcile.domain.reconcile.report import render

    return render(report)


class Story:
    """One demo: namespaces, tenants and a least-privilege identity on ``cluster``, then the DAG runs.

    :param cluster: the cluster (admin access).
    :param workdir: where the identity's kubeconfig and (by default) the Airflow home go.
    :param airflow_home: reuse this Airflow home instead of a fresh one in ``workdir``.
    :param keep: leave what was created (the user goes on trying things).
    """

    def __init__(self, cluster: TestCluster, workdir: Path, *, airflow_home: Path | None, keep: bool) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.home = AirflowHome(airflow_home or workdir / "airflow-home")
        self.keep = keep
        self.admin = cluster.api_client()
        self.namespaces: list[str] = []
        self.identity: Any = None
        self._identities: Any = None
        self._created_crd = False

    # --- set-up ------------------------------------------------------------------------------------------
    def _set_up(self) -> None:
        from airflow_k8s_reconcile.testing.identity import IdentityFactory, create_namespace

        self.namespaces = [create_namespace(self.admin, self.cluster, prefix=p) for p in ("team-a", "team-b")]
        say(f"== Namespaces {', '.join(self.namespaces)}")
        self._created_crd = objects.ensure_crd(self.admin)
        for namespace in self.namespaces:
            objects.create_tenants(self.admin, namespace)
        say(
            f"== CRD tenants.{objects.GROUP} and tenants {', '.join(objects.TENANTS)} in each namespace "
            "(the input of generate_from_custom_resources)"
        )
        self._identities = IdentityFactory(self.admin, self.cluster, self.workdir, self.namespaces[0])
        self.identity = self._identities(namespace_rules=objects.namespace_rules(self.namespaces))
        say(
            f"== ServiceAccount {self.identity.username}: exactly the permissions the DAGs' tasks declare "
            "(ConfigMaps, Events, Tenants), nothing cluster-wide; the DAGs run as it"
        )
        seconds = self.home.migrate()
        what = f"migrated in {seconds:.0f} s" if seconds else "already migrated"
        say(f"== Airflow home {self.home.path} (SQLite, {what}); connection k8s_reconcile_default from")
        say("   AIRFLOW_CONN_K8S_RECONCILE_DEFAULT (kubeconfig_file: that ServiceAccount's kubeconfig)")

    @property
    def settings(self) -> dict[str, str]:
        """Return the DAGs' parse-time settings for this demo's namespaces."""
        return {
            "K8S_RECONCILE_NAMESPACE": self.namespaces[0],
            "K8S_RECONCILE_NAMESPACES": ",".join(self.namespaces),
        }

    def dags_test(self, dag_id: str, why: str) -> DagRun:
        """Run one DAG with ``airflow dags test``; fail the demo (with the output's end) unless it succeeded."""
        say(f"\n== airflow dags test {dag_id}: {why}")
        run = self.home.dags_test(dag_id, kubeconfig=self.identity.kubeconfig_path, settings=self.settings)
        if not run.succeeded:
            raise DemoFailedError(
                f"airflow dags test {dag_id} failed (exit {run.returncode}); its output ends:\n{run.tail()}"
            )
        say(f"   DAG run {run.run_id}: success in {run.seconds:.1f} s")
        return run

    # --- the story -----------------------------------------------------------------------------------------
    def run(self) -> None:
        """Set up, run every example DAG, tamper, restore; raise :class:`DemoFailedError` on any broken claim."""
        self._set_up()
        first, second = self.namespaces
        run = self.dags_test("preflight_then_reconcile", "preflight, then ConfigMaps rendered from params")
        say(
            "-- preflight report (network, TLS, identity and the reconcile's permissions, where the tasks run):"
        )
        _indented(render_preflight(self.home.xcom(run, "preflight")))
        say("-- reconcile report:")
        _indented(render_reconcile(self.home.xcom(run, "reconcile")))
        self._expect(first, "shop-settings", {"LOG_LEVEL": "INFO", "REPLICAS": "2"})

        run = self.dags_test(
            "generate_from_custom_resources", "one ConfigMap per Tenant, mapped over the namespaces"
        )
        for report in self.home.xcoms(run, "generate"):
            _indented(render_reconcile(report))
        for namespace in self.namespaces:
            self._expect(namespace, "acme-tenant-config", {"tier": "gold", "quota": "50"})

        run = self.dags_test(
            "restore_on_drift", f"the guarded ConfigMap {first}/{GUARDED} (first run creates it)"
        )
        _indented(render_reconcile(self.home.xcom(run, "restore")))
        self._tamper_generated(first, second)
        self._tamper_guarded(first)

    def _tamper_generated(self, first: str, second: str) -> None:
        before = {ns: objects.configmap(self.admin, ns, "acme-tenant-config") for ns in self.namespaces}
        say(f"\n== Tampering with the generated ConfigMaps (as field manager {objects.TAMPERER!r}):")
        objects.delete_configmap(self.admin, first, "acme-tenant-config")
        say(f"   deleted   {first}/acme-tenant-config")
        objects.patch_data(self.admin, first, "globex-tenant-config", {"debug_backdoor": "enabled"})
        say(f"   inserted  {first}/globex-tenant-config key debug_backdoor")
        objects.patch_data(self.admin, second, "acme-tenant-config", {"tier": "platinum"})
        say(f"   edited    {second}/acme-tenant-config tier: gold -> platinum")
        objects.delete_tenant_orphaning(self.admin, second, "globex")
        say(f"   deleted   Tenant {second}/globex with --cascade=orphan (its ConfigMap stays behind)")
        run = self.dags_test(
            "generate_from_custom_resources", "restore what was tampered with, prune the orphan"
        )
        for report in self.home.xcoms(run, "generate"):
            _indented(render_reconcile(report))
        restored = objects.configmap(self.admin, first, "acme-tenant-config")
        if restored is None or restored["data"] != (before[first] or {}).get("data"):
            raise DemoFailedError(f"{first}/acme-tenant-config was not recreated as it was: {restored}")
        self._expect(first, "globex-tenant-config", {"tier": "silver"}, absent=("debug_backdoor",))
        self._expect(second, "acme-tenant-config", (before[second] or {}).get("data", {}))
        if objects.configmap(self.admin, second, "globex-tenant-config") is not None:
            raise DemoFailedError(f"{second}/globex-tenant-config (its Tenant deleted) was not pruned")
        say("   live check: recreated, key removed, value restored, orphan pruned")

    def _tamper_guarded(self, namespace: str) -> None:
        before = objects.configmap(self.admin, namespace, GUARDED)
        say(f"\n== Tampering with {namespace}/{GUARDED}, the ConfigMap restore_on_drift's Asset watches:")
        objects.patch_data(
            self.admin, namespace, GUARDED, {"log_level": "trace", "exfiltrate_to": "evil.example"}
        )
        say("   inserted key exfiltrate_to, edited log_level: info -> trace")
        say(
            "   (with a scheduler and triggerer, the AssetWatcher's ConfigMapDriftEventTrigger turns this into an "
            "asset event that schedules the DAG; here we run it ourselves)"
        )
        run = self.dags_test("restore_on_drift", "restore the guarded ConfigMap")
        _indented(render_reconcile(self.home.xcom(run, "restore")))
        self._expect(namespace, GUARDED, (before or {}).get("data", {}), absent=("exfiltrate_to",))
        say("   live check: key removed, value restored")

    def _expect(self, namespace: str, name: str, data: dict[str, str], absent: tuple[str, ...] = ()) -> None:
        live = objects.configmap(self.admin, namespace, name)
        if live is None:
            raise DemoFailedError(f"ConfigMap {namespace}/{name} does not exist")
        wrong = {key: live["data"].get(key) for key, value in data.items() if live["data"].get(key) != value}
        extra = [key for key in absent if key in live["data"]]
        if wrong or extra:
            raise DemoFailedError(f"ConfigMap {namespace}/{name}: wrong {sorted(wrong)}, unexpected {extra}")

    # --- the end -------------------------------------------------------------------------------------------
    def next_steps(self, stop: str) -> None:
        """Print what to try next: the commands, with this demo's kubeconfig, namespaces and Airflow home."""
        first = self.namespaces[0]
        admin, sa = self.cluster.kubeconfig_path, self.identity.kubeconfig_path
        env_file = self.workdir / "demo.env"
        exports = {
            "AIRFLOW_HOME": str(self.home.path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.home.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            CONN_VARIABLE: connection_uri(sa),
            **self.settings,
        }
        env_file.write_text("".join(f"export {key}={shlex.quote(value)}\n" for key, value in exports.items()))
        say(
            "\n== What to try next"
            + ("" if self.keep else " (run `KEEP=1 make demo` to keep the cluster for it)")
        )
        say(f"   export KUBECONFIG={admin}   # admin; the DAGs ran as {self.identity.username} ({sa})")
        say(f"   kubectl -n {first} get configmaps,tenants.{objects.GROUP}")
        say(f"   kubectl -n {first} edit configmap {GUARDED}")
        say(
            f"   . {env_file} && airflow dags test restore_on_drift   # the Airflow home and connection above"
        )
        say(f"   airflow-k8s-reconcile doctor --kubeconfig {sa} -n {first}")
        say("   airflow-k8s-reconcile reconcile --help   # the same reconcile from the command line")
        say("   make test   # the whole suite, including these DAGs and this demo")
        if stop:
            say(f"   {stop}   # when you are done")

    def clean_up(self) -> None:
        """Delete what the demo created on a cluster it did not start (a started one is stopped whole)."""
        from airflow_k8s_reconcile.testing.identity import delete_namespace

        try:
            for namespace in self.namespaces:
                delete_namespace(self.admin, self.cluster, namespace)
            if self._identities is not None:
                self._identities.cleanup()
            if self._created_crd and self.cluster.external:
                from kubernetes import client as k8s

                k8s.ApiextensionsV1Api(self.admin).delete_custom_resource_definition(
                    f"{objects.PLURAL}.{objects.GROUP}"
                )
        finally:
            self.admin.close()
