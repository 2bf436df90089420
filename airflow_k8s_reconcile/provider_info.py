"""Provider metadata for Airflow's provider discovery (entry point group ``apache_airflow_provider``).

WARNING: ``package-name`` must equal the normalised distribution name. A mismatch makes Airflow's provider
discovery raise for every provider, not only this one. This module imports nothing, so discovery stays cheap.
"""

from __future__ import annotations

from typing import Any

from airflow_k8s_reconcile import __version__
from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE

PACKAGE_NAME = "airflow-k8s-reconcile"


def _field(label: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": schema}


def _text(label: str, description: str, **extra: Any) -> dict[str, Any]:
    return _field(label, description, {"type": ["string", "null"], **extra})


# The ONE definition of the connection form. Airflow 3.2+ reads it as `conn-fields` (apache/airflow#60410, which
# also deprecated the hook's widget methods); on 3.0 and 3.1 the hook's get_connection_form_widgets() builds the
# same fields from it (compat.connection_form_widgets). Every 3.x provider-info schema allows these keys: none sets
# additionalProperties to false (tests/unit/test_airflow_versions.py checks the four schemas). The UI writes
# values flat into `extra`; missing, null and "" all mean "not set". Airflow's API returns an extra in clear unless
# its NAME is a sensitive one (format "password" only masks the form input), so the inline kubeconfig is not an
# extra field: it is the connection's own password field, relabelled, which Airflow encrypts and always returns as
# "***" (see domain/connection/inline_kubeconfig.py).
INLINE_KUBECONFIG_LABEL = "Kubeconfig (inline)"
# The form's password input is one line: pasted YAML loses its line breaks. JSON and base64 survive it.
INLINE_KUBECONFIG_PLACEHOLDER = (
    "JSON or base64 (one line; YAML loses its line breaks): kubectl config view --minify --flatten --raw -o json, "
    "or base64 -w0 kubeconfig"
)
# Where each check runs, so a file or a plugin must be there: the UI's Test runs in the API server.
WHERE_IT_RUNS = (
    "Checked where it runs: the API server's pod for the Test button, the workers for tasks, the triggerer for "
    "deferrable sensors."
)
# Airflow 3.3.1-3.3.2: the list's Test button sends port 0 and the API refuses any stored port that differs
# (NULL included; apache/airflow#73298). Storing port 0, which this hook ignores, keeps Test working there.
PORT_BUG_VERSIONS = ("3.3.1", "3.3.2")
PORT_LABEL = "Port: type 0 (Airflow 3.3.1-3.3.2 Test button fix, apache/airflow#73298)"
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_mode": _field(
        "Authentication",
        "auto: in-cluster when running in a pod with a service account, else $KUBECONFIG, else ~/.kube/config. "
        "in_cluster: the pod's service account. kubeconfig_file: the file below. kubeconfig_inline: the "
        "Kubeconfig (inline) field.",
        {
            "type": ["string", "null"],
            "enum": ["auto", "in_cluster", "kubeconfig_file", "kubeconfig_inline"],
            "default": "auto",
        },
    ),
    "kube_config_path": _text(
        "Kubeconfig file",
        "Path of a kubeconfig file, e.g. a mounted Secret (auth kubeconfig_file). " + WHERE_IT_RUNS,
    ),
    "cluster_context": _text("Context", "Kubeconfig context to use instead of its current-context."),
    "namespace": _text(
        "Namespace",
        "Default namespace. If empty: the kubeconfig context's namespace, else the service account's, else default.",
    ),
    "api_server": _text("API server URL", "Override the server URL, e.g. https://10.0.0.1:6443."),
    "ca_bundle": _text(
        "CA bundle",
        "PEM text or a file path of the CA that signs the API server certificate (override).",
        format="multiline",
    ),
    "verify_ssl": _field(
        "Verify TLS",
        "Verify the API server certificate. Turning this off is never the fix; set the CA bundle.",
        {"type": ["boolean", "null"], "default": True},
    ),
    "tls_server_name": _text(
        "TLS server name", "Name to verify the server certificate against, when connecting by an IP it lacks."
    ),
    "proxy_url": _text(
        "Proxy URL", "http(s) or socks5 proxy for API requests; credentials in it are redacted."
    ),
    "request_timeout": _field(
        "Request timeout (s)",
        "Client-side timeout of each API request, in seconds.",
        {"type": ["number", "null"], "minimum": 1, "default": 30},
    ),
    "service_account_dir": _text(
        "Service account directory",
        "Where the in-cluster token, ca.crt and namespace files are mounted, if not the standard "
        "/var/run/secrets/kubernetes.io/serviceaccount.",
    ),
    "allow_exec_plugins": _field(
        "Allow exec plugins",
        "Allow exec credential plugins in an inline kubeconfig. They run commands where the connection is used "
        "(API server, workers, triggerer), so anyone who can edit this connection could run code there.",
        {"type": ["boolean", "null"], "default": False},
    ),
}


def _port_bug() -> bool:
    """Whether the installed Airflow's Test button refuses connections without a port (3.3.1-3.3.2).

    Reads the distribution's version (no Airflow import: discovery stays cheap); unknown means no workaround.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apache-airflow") in PORT_BUG_VERSIONS
    except PackageNotFoundError:
        return False


def _port_relabel() -> dict[str, str]:
    return {"port": PORT_LABEL} if _port_bug() else {}


def ui_field_behaviour() -> dict[str, Any]:
    """Return the hidden, relabelled and placeholder fields of the connection form.

    Read as ``ui-field-behaviour`` by Airflow 3.2+, and converted for 3.0/3.1 by the hook's
    ``get_ui_field_behaviour()``: with :data:`CONN_FIELDS`, the one definition of the form on every version.
    """
    return {
        "hidden-fields": ["host", "schema", "login", "extra", *([] if _port_bug() else ["port"])],
        "relabeling": {"password": INLINE_KUBECONFIG_LABEL, **_port_relabel()},
        "placeholders": {
            "password": INLINE_KUBECONFIG_PLACEHOLDER,
            "port": "0",
            "kube_config_path": "/opt/airflow/secrets/kubeconfig",
            "cluster_context": "prod-eu",
            "namespace": "data-pipelines",
            "api_server": "https://10.0.0.1:6443",
            "proxy_url": "http://proxy.internal:3128",
            "service_account_dir": "/var/run/secrets/kubernetes.io/serviceaccount",
        },
    }


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow validates against ``provider_info.schema.json``."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Kubernetes Reconcile",
        "description": (
            "Kubernetes work from DAG tasks that is safe and debuggable: connections that explain themselves, "
            "preflight checks (network, identity, RBAC) and ConfigMap reconciliation."
        ),
        "versions": [__version__],
        "hooks": [
            {
                "integration-name": "Kubernetes Reconcile",
                "python-modules": [
                    "airflow_k8s_reconcile.hooks.kubernetes",
                    "airflow_k8s_reconcile.hooks.kubernetes_async",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Kubernetes Reconcile",
                "python-modules": [
                    "airflow_k8s_reconcile.operators.connection_check",
                    "airflow_k8s_reconcile.operators.generate",
                    "airflow_k8s_reconcile.operators.preflight",
                    "airflow_k8s_reconcile.operators.reconcile",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Kubernetes Reconcile",
                "python-modules": [
                    "airflow_k8s_reconcile.sensors.configmap_drift",
                    "airflow_k8s_reconcile.sensors.preflight",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "Kubernetes Reconcile",
                "python-modules": [
                    "airflow_k8s_reconcile.triggers.configmap_drift",
                    "airflow_k8s_reconcile.triggers.preflight",
                ],
            }
        ],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "airflow_k8s_reconcile.hooks.kubernetes.K8sReconcileHook",
                "hook-name": "Kubernetes (reconcile)",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": ui_field_behaviour(),
            }
        ],
        "integrations": [
            {
                "integration-name": "Kubernetes Reconcile",
                "external-doc-url": "https://kubernetes.io/docs/reference/access-authn-authz/rbac/",
                "tags": ["software"],
            }
        ],
    }
