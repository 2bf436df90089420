"""``airflow-k8s-reconcile rbac``: the RBAC a DAG folder's tasks declare, as annotated least-privilege YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from airflow_k8s_reconcile.cli.main import main

DAGS = Path(__file__).resolve().parents[2] / "dags"
TWO_TASKS = """
from __future__ import annotations

from airflow.sdk import DAG

from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator
from airflow_k8s_reconcile.sensors.preflight import K8sPermissionSensor

with DAG(dag_id="two", schedule=None):
    K8sPreflightOperator(task_id="check", permissions=["get,list:configmaps"], namespaces=["jobs", "etl"])
    K8sPermissionSensor(task_id="wait", permissions=["list,watch:configmaps", "list:nodes"], namespaces=["jobs"])
"""
EXPECTED = """\
# Tasks: two.check, two.wait
# Subject: system:serviceaccount:airflow:worker
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: airflow-k8s-reconcile-8c377bb850
  namespace: etl
rules:
# two.check needs: get, list
- apiGroups:
  - ''
  resources:
  - configmaps
  verbs:
  - get
  - list
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: airflow-k8s-reconcile-8c377bb850
  namespace: etl
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: airflow-k8s-reconcile-8c377bb850
subjects:
- kind: ServiceAccount
  name: worker
  namespace: airflow
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: airflow-k8s-reconcile-215f45f9ab
  namespace: jobs
rules:
# two.check needs: get, list
# two.wait needs: list, watch
- apiGroups:
  - ''
  resources:
  - configmaps
  verbs:
  - get
  - list
  - watch
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: airflow-k8s-reconcile-215f45f9ab
  namespace: jobs
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: airflow-k8s-reconcile-215f45f9ab
subjects:
- kind: ServiceAccount
  name: worker
  namespace: airflow
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: airflow-k8s-reconcile-e2192c9a67
rules:
# two.wait needs: list
- apiGroups:
  - ''
  resources:
  - nodes
  verbs:
  - list
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: airflow-k8s-reconcile-e2192c9a67
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: airflow-k8s-reconcile-e2192c9a67
subjects:
- kind: ServiceAccount
  name: worker
  namespace: airflow
"""


def _folder(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
    return tmp_path


def test_two_tasks_give_exactly_this_yaml(tmp_path, capsys):
    folder = _folder(tmp_path, two=TWO_TASKS)
    assert main(["rbac", "--dags", str(folder), "--subject", "system:serviceaccount:airflow:worker"]) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"# Least-privilege RBAC for the airflow-k8s-reconcile tasks in {folder} (airflow-k8s-reconcile rbac).\n"
        + EXPECTED
    )


def test_the_example_dags_give_valid_yaml_naming_each_task(capsys):
    # -n: preflight_then_reconcile and generate_from_custom_resources take their namespace from params.
    assert main(["rbac", "--dags", str(DAGS), "-n", "default"]) == 0
    out = capsys.readouterr().out
    documents = [doc for doc in yaml.safe_load_all(out) if doc]
    kinds = [doc["kind"] for doc in documents]
    assert kinds == ["Role", "RoleBinding"]
    role = documents[0]
    assert role["metadata"]["namespace"] == "default"
    assert all("*" not in str(rule) for rule in role["rules"])
    assert documents[1]["subjects"] == [
        {"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"}
    ]
    for task in (
        "example_k8s_preflight.preflight",
        "example_k8s_preflight.rbac_granted",
        "preflight_then_reconcile.reconcile",
        "restore_on_drift.restore",
        "restore_on_drift_sensor.wait_for_drift",
    ):
        assert f"# {task} needs: " in out
    assert "add it with a second --subject" in out  # rbac_granted is deferrable: the triggerer needs it too


def test_a_templated_or_unset_namespace_needs_dash_n(tmp_path, capsys):
    folder = _folder(
        tmp_path,
        templated="""
        from airflow.sdk import DAG
        from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator

        with DAG(dag_id="templated", schedule=None):
            K8sPreflightOperator(task_id="t", permissions=["get:configmaps"], namespaces=["{{ params.ns }}"])
            K8sPreflightOperator(task_id="u", permissions=["get:secrets"])
            K8sPreflightOperator(task_id="cluster", permissions=["list:nodes"])
        """,
    )
    assert main(["rbac", "--dags", str(folder)]) == 1
    err = capsys.readouterr().err
    assert (
        "templated.t: works in the connection's namespace, an expanded or a templated one; pass -n NAMESPACE"
        in err
    )
    assert "templated.u:" in err
    assert "templated.cluster" not in err  # cluster scope needs no namespace
    assert main(["rbac", "--dags", str(folder), "-n", "etl"]) == 0
    roles = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d and d["kind"].endswith("Role")]
    assert [(r["kind"], r["metadata"].get("namespace")) for r in roles] == [
        ("Role", "etl"),
        ("ClusterRole", None),
    ]
    assert roles[0]["rules"][0]["resources"] == ["configmaps", "secrets"]


def test_a_bad_spec_and_an_import_error_fail_naming_the_task_or_file(tmp_path, capsys):
    folder = _folder(
        tmp_path,
        bad="""
        from airflow.sdk import DAG
        from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator

        with DAG(dag_id="bad", schedule=None):
            K8sPreflightOperator(task_id="t", permissions=["configmaps"], namespaces=["a"])
        """,
    )
    assert main(["rbac", "--dags", str(folder)]) == 1
    assert "bad.t: Invalid permission SPEC 'configmaps'" in capsys.readouterr().err
    (folder / "broken.py").write_text("from airflow.sdk import DAG\nraise RuntimeError('boom')\n")
    assert main(["rbac", "--dags", str(folder)]) == 1
    assert "broken.py did not import" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rbac", "--dags", "/nonexistent-dags"], "does not exist"),
        (["rbac", "--dags", ".", "-n", "Bad_NS"], "invalid namespace 'Bad_NS'"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_no_declaring_task_prints_a_comment_only(tmp_path, capsys):
    folder = _folder(
        tmp_path, empty="from airflow.sdk import DAG\n\nwith DAG(dag_id='empty', schedule=None):\n    pass\n"
    )
    assert main(["rbac", "--dags", str(folder)]) == 0
    assert capsys.readouterr().out.endswith("# No task declares permissions: nothing to grant.\n")


def test_the_reconcile_operators_declarations_become_their_rules(tmp_path, capsys):
    folder = _folder(
        tmp_path,
        reconcile="""
        from airflow.sdk import DAG
        from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator

        with DAG(dag_id="cm", schedule=None):
            K8sReconcileConfigMapsOperator(
                task_id="sync", configmaps=[{"name": "a", "data": {"k": "v"}}], namespace="etl", prune=True
            )
            K8sReconcileConfigMapsOperator(task_id="watch", configmaps=[], namespace="etl", mode="detect")
        """,
    )
    assert main(["rbac", "--dags", str(folder)]) == 0
    out = capsys.readouterr().out
    (role,) = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Role"]
    assert role["metadata"]["namespace"] == "etl"
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["get", "list", "create", "patch", "delete"],
        },
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    ]
    assert (
        "# cm.sync needs: get, list, create, patch, delete\n# cm.watch needs: get, list\n- apiGroups:" in out
    )


PARAMS_AND_MAPPED = """
from airflow.sdk import DAG, Param, task

from airflow_k8s_reconcile.operators.generate import K8sGenerateConfigMapsOperator
from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator

with DAG(
    dag_id="p",
    schedule=None,
    params={"namespace": Param("shop", type="string"), "plural": Param("tenants", type="string")},
):
    K8sReconcileConfigMapsOperator(task_id="sync", configmaps=[], namespace="{{ params.namespace }}")

    @task
    def namespaces():
        return [{"namespace": "etl", "input_namespace": "etl"}]

    K8sGenerateConfigMapsOperator.partial(
        task_id="gen", group="example.com", version="v1", plural="{{ params.plural }}", render=len
    ).expand_kwargs(namespaces())
"""


def test_templates_render_with_default_params_and_mapped_tasks_count(tmp_path, capsys):
    folder = _folder(tmp_path, p=PARAMS_AND_MAPPED)
    # The mapped task's namespace comes from an XCom: known only at run time, so it needs -n.
    assert main(["rbac", "--dags", str(folder)]) == 1
    assert (
        "p.gen: works in the connection's namespace, an expanded or a templated one"
        in capsys.readouterr().err
    )
    assert main(["rbac", "--dags", str(folder), "-n", "etl"]) == 0
    out = capsys.readouterr().out
    roles = {d["metadata"]["namespace"]: d for d in yaml.safe_load_all(out) if d and d["kind"] == "Role"}
    assert sorted(roles) == ["etl", "shop"]  # "{{ params.namespace }}" is the param's default, not -n
    assert roles["shop"]["rules"][0] == {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": ["get", "list", "create", "patch"],
    }
    assert {
        "apiGroups": ["example.com"],
        "resources": ["tenants"],
        "verbs": ["get", "list", "delete"],
    } in roles["etl"]["rules"]
    assert "# p.gen needs: get, list, delete\n- apiGroups:\n  - example.com" in out


def test_a_template_no_default_param_resolves_is_named(tmp_path, capsys):
    folder = _folder(
        tmp_path,
        xcom="""
        from airflow.sdk import DAG
        from airflow_k8s_reconcile.operators.generate import K8sGenerateConfigMapsOperator

        with DAG(dag_id="x", schedule=None):
            K8sGenerateConfigMapsOperator(
                task_id="gen", group="{{ params.group }}", version="v1", plural="things", render=len,
                namespace="etl",
            )
        """,
    )
    assert main(["rbac", "--dags", str(folder), "-n", "etl"]) == 1
    assert "x.gen: group '{{ params.group }}' is known only at run time" in capsys.readouterr().err


def test_several_subjects_share_one_role_per_namespace(tmp_path, capsys):
    folder = _folder(tmp_path, two=TWO_TASKS)
    worker, triggerer = "system:serviceaccount:airflow:worker", "system:serviceaccount:airflow:triggerer"
    assert main(["rbac", "--dags", str(folder), "--subject", worker, "--subject", triggerer]) == 0
    out = capsys.readouterr().out
    assert f"# Subjects: {worker}, {triggerer}\n" in out
    assert "add it with a second --subject" not in out
    documents = [d for d in yaml.safe_load_all(out) if d]
    assert [d["kind"] for d in documents] == [
        "Role", "RoleBinding", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
    ]  # fmt: skip
    for binding in documents[1::2]:
        assert [s["name"] for s in binding["subjects"]] == ["worker", "triggerer"]
