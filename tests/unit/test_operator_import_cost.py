"""Building the reconcile operators (what a DAG file does at parse time) loads no hook and no Kubernetes client.

That importing every operator module is cheap is tests/unit/test_import_cost.py's job; this one covers building
the operators and asking for their ``required_permissions``, which the ``rbac`` command and the preflight do.

The scheduler's DAG processor imports every DAG file again and again; the hooks pull in the Kubernetes client
(about half a second) and the core, so the operator modules must defer them to ``execute``.
"""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN_PREFIXES = (
    "kubernetes",
    "kubernetes_asyncio",
    "urllib3.contrib",
    "airflow_k8s_reconcile.hooks",
    "airflow_k8s_reconcile.domain.reconcile",
    "airflow_k8s_reconcile.testing",
)


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_building_an_operator_imports_nothing_more():
    code = (
        "from airflow_k8s_reconcile.operators.generate import K8sGenerateConfigMapsOperator as G\n"
        "from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator as R\n"
        "R(task_id='r', configmaps=[{'name': 'a', 'data': {'k': 'v'}}]).required_permissions\n"
        "G(task_id='g', group='example.com', version='v1', plural='widgets', render=list).required_permissions"
    )
    loaded = _modules_after(code)
    assert sorted(name for name in loaded if name.startswith(FORBIDDEN_PREFIXES)) == []
