"""helm-values/: the values validate as Helm validates them, and the generated manifests are what the tools print."""

from __future__ import annotations

import copy
import json
import re
import runpy
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from airflow_k8s_reconcile.cli.main import main
from airflow_k8s_reconcile.domain.connection.inline_kubeconfig import exposure_findings
from airflow_k8s_reconcile.domain.connection.settings import AuthMode, merge_settings, settings_from_extra

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "helm-values"
CHART = ROOT / "tests" / "fixtures" / "airflow-chart"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())
VALUES_FILES = sorted(HELM.glob("values-*.yaml"))
README = (HELM / "README.md").read_text()


def helm_merge(base: Any, override: Any) -> Any:
    """Return ``override`` merged over ``base`` as Helm merges values: maps recursively, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = helm_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def _values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((HELM / "values-airflow.yaml").read_text())
    return values


def _errors(values: dict[str, Any]) -> list[str]:
    merged = helm_merge(DEFAULTS, values)
    return [error.message for error in jsonschema.Draft7Validator(SCHEMA).iter_errors(merged)]


def test_helm_merge_merges_maps_and_replaces_lists_and_scalars():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1, "c": {"keep": True}}
    assert helm_merge(base, {"a": {"y": [3]}, "b": {"now": "a map"}}) == {
        "a": {"x": 1, "y": [3]},
        "b": {"now": "a map"},
        "c": {"keep": True},
    }


def test_the_chart_defaults_alone_are_valid():
    assert not list(jsonschema.Draft7Validator(SCHEMA).iter_errors(DEFAULTS))


@pytest.mark.parametrize("path", VALUES_FILES, ids=[p.name for p in VALUES_FILES])
def test_values_validate_after_merging_over_the_chart_defaults(path):
    assert VALUES_FILES, "no helm-values/values-*.yaml"
    assert _errors(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("workers", "serviceAcount"), {"create": True}),  # misspelt key in a closed section
        (("config", "core", "test_connection"), ["Enabled"]),  # config values are scalars
        (("secret",), [{"envName": "AIRFLOW_CONN_X"}]),  # secretName is required
        (("apiServer", "serviceAccount", "automountServiceAccountToken"), "yes"),
    ],
)
def test_a_wrong_value_would_be_caught(path, value):
    values = _values()
    target = values
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    assert _errors(values)


def test_service_accounts_of_workers_triggerer_and_api_server_are_named_and_mount_their_token():
    values = _values()
    names = {}
    for component in ("workers", "triggerer", "apiServer"):
        account = values[component]["serviceAccount"]
        assert account["create"] is True
        assert account["automountServiceAccountToken"] is True
        names[component] = account["name"]
    assert names == {
        "workers": "airflow-worker",
        "triggerer": "airflow-triggerer",
        "apiServer": "airflow-api-server",
    }
    assert values["config"]["core"]["test_connection"] == "Enabled"


def _secret_command() -> tuple[str, str, str, dict[str, Any]]:
    """Return (secret name, namespace, key, connection) from the README's `kubectl create secret` command."""
    (line,) = [
        line.strip()
        for line in README.splitlines()
        if line.strip().startswith("kubectl create secret generic")
    ]
    argv = shlex.split(line)
    name, namespace = argv[4], argv[argv.index("-n") + 1]
    (literal,) = [arg for arg in argv if arg.startswith("--from-literal=")]
    key, _, value = literal.removeprefix("--from-literal=").partition("=")
    return name, namespace, key, json.loads(value)


def test_the_connection_comes_from_the_secret_the_readme_creates_and_resolves_to_in_cluster():
    values = _values()
    (env,) = [s for s in values["secret"] if s["envName"] == "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT"]
    name, namespace, key, connection = _secret_command()
    assert (env["secretName"], env.get("secretKey")) == (name, key)
    assert namespace == "airflow"
    assert connection["conn_type"] == "k8s_reconcile"
    settings = merge_settings(
        {},
        settings_from_extra(
            connection["conn_type"], connection["extra"], password=connection.get("password")
        ),
    )
    assert settings.auth_mode is AuthMode.IN_CLUSTER
    assert exposure_findings(connection["conn_type"], connection.get("extra", {})) == ()


def test_the_values_hold_no_connection_and_no_secret_data():
    values = _values()
    assert "extraSecrets" not in values
    assert "AIRFLOW_CONN_" not in json.dumps(values.get("env", []))
    text = (HELM / "values-airflow.yaml").read_text()
    assert "CONN_INLINE_KUBECONFIG_EXPOSED" in text  # says where an inline kubeconfig must not go
    assert "_PIP_ADDITIONAL_REQUIREMENTS" in text
    assert "Not for production: every start" in " ".join(text.replace("# ", "").split())


def _makefile_rbac_args() -> list[str]:
    match = re.search(r"^RBAC_ARGS := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "Makefile has no RBAC_ARGS"
    return shlex.split(match.group(1))


def test_rbac_yaml_is_exactly_what_the_rbac_command_prints(monkeypatch, capsys):
    """Golden: a DAG that changes its permissions changes rbac.yaml; regenerate with `make rbac-yaml`."""
    monkeypatch.chdir(ROOT)
    for name in ("K8S_RECONCILE_NAMESPACE", "K8S_RECONCILE_NAMESPACES"):  # as the Makefile's DAG_ENV
        monkeypatch.delenv(name, raising=False)
    assert main(["rbac", *_makefile_rbac_args()]) == 0
    generated = capsys.readouterr().out
    assert (HELM / "rbac.yaml").read_text() == generated, "helm-values/rbac.yaml is stale: run make rbac-yaml"


def test_rbac_yaml_binds_the_values_service_accounts_with_roles_only():
    documents = [d for d in yaml.safe_load_all((HELM / "rbac.yaml").read_text()) if d]
    assert {d["kind"] for d in documents} == {"Role", "RoleBinding"}  # nothing cluster-wide
    assert "*" not in json.dumps([d.get("rules") for d in documents])
    values = _values()
    expected = [
        {"kind": "ServiceAccount", "name": values[c]["serviceAccount"]["name"], "namespace": "airflow"}
        for c in ("workers", "triggerer")
    ]
    bindings = [d for d in documents if d["kind"] == "RoleBinding"]
    assert bindings
    for binding in bindings:
        assert binding["subjects"] == expected


def test_networkpolicy_yaml_is_what_its_generator_prints():
    render = runpy.run_path(str(HELM / "networkpolicy.py"))["render"]
    assert (HELM / "networkpolicy.yaml").read_text() == render(), "stale: run make networkpolicy-yaml"
    policy = yaml.safe_load((HELM / "networkpolicy.yaml").read_text())
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["podSelector"]["matchExpressions"][0]["values"] == [
        "worker",
        "triggerer",
        "api-server",
    ]
    text = (HELM / "networkpolicy.yaml").read_text()
    assert "kubectl get endpoints kubernetes -n default -o wide" in text
    assert "after the Service address" in text


@pytest.mark.parametrize(
    "command",
    [
        "helm upgrade --install airflow apache-airflow/airflow -n airflow -f helm-values/values-airflow.yaml",
        "kubectl apply -f helm-values/rbac.yaml",
        "kubectl apply -f helm-values/networkpolicy.yaml",
        "airflow-k8s-reconcile doctor --in-cluster -n default --require",
        "kubectl get endpoints kubernetes -n default -o wide",
        "make rbac-yaml",
        "FROM apache/airflow:",
    ],
)
def test_the_readme_gives_each_step(command):
    assert command in README
