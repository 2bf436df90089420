"""Exec credential plugins: what to pass them, and how to judge what they printed.

The hook runs the plugin itself (with a timeout, stdin closed, non-interactive) and hands the outcome here.
Decides whether the run produced a usable credential and, if not, says why: binary missing (with the kubeconfig's
``installHint``), non-zero exit (with stderr, trimmed and redacted), timeout, output that is not an
``ExecCredential`` of the expected ``apiVersion``, or a credential that has already expired. stdout carries the token,
so no part of it ever appears in a message. Called by hooks; re-exported by
:mod:`~airflow_k8s_reconcile.domain.connection.credentials.kinds`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.redaction import REDACTED, redact_text
from airflow_k8s_reconcile.domain.common.wording import iso
from airflow_k8s_reconcile.domain.connection.credentials.certificates import parse_timestamp
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    ClientCertCredential,
    ExecSpec,
    TokenCredential,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.exceptions import ConnectionConfigError

SUPPORTED_EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
_API_VERSION = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+/v[0-9]+((alpha|beta)[0-9]+)?"
)


def exec_request_env(
    spec: ExecSpec,
    *,
    server: str,
    ca_pem: bytes | None = None,
    tls_server_name: str | None = None,
    insecure: bool = False,
) -> dict[str, str]:
    """Return the environment to add when running the plugin: ``spec.env`` plus ``KUBERNETES_EXEC_INFO``.

    :param spec: the plugin.
    :param server: the API server URL (sent only when ``provideClusterInfo`` is set).
    :param ca_pem: the cluster CA (same condition).
    :param tls_server_name: the TLS server name (same condition).
    :param insecure: whether TLS verification is off (same condition).
    :return: environment variables; ``interactive`` is always false (tasks have no terminal).
    """
    request: dict[str, Any] = {
        "apiVersion": spec.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    if spec.provide_cluster_info:
        cluster: dict[str, Any] = {"server": server, "insecure-skip-tls-verify": insecure}
        if ca_pem:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
        if tls_server_name:
            cluster["tls-server-name"] = tls_server_name
        request["spec"]["cluster"] = cluster
    return {**dict(spec.env), "KUBERNETES_EXEC_INFO": json.dumps(request)}


def interpret_exec_output(
    spec: ExecSpec,
    *,
    returncode: int | None,
    stdout: str | bytes,
    stderr: str | bytes,
    timed_out: bool,
    not_found: bool,
    now: datetime,
) -> TokenCredential | ClientCertCredential:
    """Turn the outcome of one plugin run into a credential, or a precise error.

    :param spec: the plugin that ran.
    :param returncode: its exit status (``None`` when it did not exit normally).
    :param stdout: what it printed on stdout. SECRET: never shown.
    :param stderr: what it printed on stderr; shown trimmed and redacted.
    :param timed_out: the hook killed it after its time limit.
    :param not_found: the command could not be found.
    :param now: the current UTC time.
    :return: a token (``origin="exec_plugin"``) or client certificate credential, with ``expires_at`` when given.
    :raises ConnectionConfigError: ``CONN_EXEC_NOT_FOUND``, ``CONN_EXEC_TIMEOUT``, ``CONN_EXEC_FAILED``,
        ``CONN_EXEC_BAD_OUTPUT`` or ``CONN_EXEC_CREDENTIAL_EXPIRED``.
    """
    name = spec.command
    if not_found or returncode == 127:
        raise _not_found(spec)
    if timed_out:
        raise config_error(
            codes.CONN_EXEC_TIMEOUT,
            f"The exec credential plugin {name!r} did not finish within the time limit.",
            "It is probably waiting for an interactive login (browser or device code), which tasks cannot do; "
            "log in non-interactively (e.g. a workload identity or service account) or raise the timeout.",
            evidence={"command": name},
        )
    if returncode != 0:
        raise _failed(spec, returncode, stderr)
    status = _exec_status(spec, stdout)
    expires_at = _expiry(spec, status, now)
    token = status.get("token")
    if isinstance(token, str) and token.strip():
        return TokenCredential(token=token.strip(), origin="exec_plugin", expires_at=expires_at)
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if isinstance(cert, str) and cert.strip() and isinstance(key, str) and key.strip():
        return ClientCertCredential(cert_pem=cert.encode(), key_pem=key.encode(), expires_at=expires_at)
    missing = "clientKeyData" if isinstance(cert, str) and cert.strip() else "token"
    raise _bad_output(spec, f"has no usable {missing} in its status")


def _not_found(spec: ExecSpec) -> ConnectionConfigError:
    hint = redact_text(spec.install_hint, limit=600) if spec.install_hint else ""
    fix = (
        f"Install it in every image that runs tasks, triggers and connection tests. The kubeconfig says: {hint}"
        if hint
        else "Install it in every image that runs tasks, triggers and connection tests, or use an absolute path."
    )
    return config_error(
        codes.CONN_EXEC_NOT_FOUND,
        f"The exec credential plugin command {spec.command!r} was not found on the PATH of this host (the API server for the UI's Test button, a worker for tasks, the triggerer for deferrable sensors).",
        fix,
        evidence={"command": spec.command},
    )


def _failed(spec: ExecSpec, returncode: int | None, stderr: str | bytes) -> ConnectionConfigError:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    excerpt = redact_text(_without_env_values(spec, text), limit=400)
    if returncode == 126:
        status = "could not be executed (exit status 126, permission denied)"
    elif returncode is None:
        status = "was killed before it finished"
    else:
        status = f"exited with status {returncode}"
    said = f"; its stderr says: {excerpt}" if excerpt else " and printed nothing on stderr"
    return config_error(
        codes.CONN_EXEC_FAILED,
        f"The exec credential plugin {spec.command!r} {status}{said}",
        "Run the same command as the Airflow user where it failed (API server for the UI's Test, worker, triggerer) to reproduce it; it usually needs a login or "
        "cloud credentials (e.g. aws configure, gcloud auth login, a workload identity) that the task lacks.",
        evidence={"command": spec.command, "returncode": str(returncode)},
    )


def _without_env_values(spec: ExecSpec, text: str) -> str:
    """Remove the kubeconfig's ``env`` values from ``text``: plugins echo them (keys, passwords) in errors.

    Values shorter than 4 characters stay; they are flags such as ``1`` or ``no``, and removing them would garble
    the message without protecting anything.
    """
    for value in sorted({value for _, value in spec.env if len(value) >= 4}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _exec_status(spec: ExecSpec, stdout: str | bytes) -> Mapping[str, Any]:
    """Parse stdout as an ExecCredential; build every error outside ``except`` so no parser state is chained."""
    problem = ""
    document: Any = None
    try:
        text = stdout.decode("utf-8") if isinstance(stdout, bytes) else stdout
        document = json.loads(text)
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except json.JSONDecodeError as err:
        problem = f"is not JSON ({err.msg} at line {err.lineno} column {err.colno})"
    if problem:
        raise _bad_output(spec, problem)
    if not isinstance(document, dict):
        raise _bad_output(spec, "is not a JSON object")
    version = document.get("apiVersion")
    if version != spec.api_version:
        raise config_error(
            codes.CONN_EXEC_BAD_OUTPUT,
            f"The exec credential plugin {spec.command!r} answered with apiVersion {_shown_api_version(version)}, "
            f"but the kubeconfig asks for {spec.api_version!r}.",
            f"Set the exec apiVersion in the kubeconfig to what the plugin speaks (one of "
            f"{', '.join(SUPPORTED_EXEC_API_VERSIONS)}), or upgrade the plugin.",
            evidence={"command": spec.command},
        )
    if document.get("kind") != "ExecCredential":
        raise _bad_output(spec, "has a kind other than 'ExecCredential'")
    status = document.get("status")
    if not isinstance(status, dict):
        raise _bad_output(spec, "has no 'status' object")
    return status


def _expiry(spec: ExecSpec, status: Mapping[str, Any], now: datetime) -> datetime | None:
    raw = status.get("expirationTimestamp")
    if raw is None or raw == "":
        return None
    expires = parse_timestamp(raw) if isinstance(raw, str) else None
    if expires is None:
        raise _bad_output(spec, "has an expirationTimestamp that is not an RFC 3339 time")
    if expires <= now:
        raise config_error(
            codes.CONN_EXEC_CREDENTIAL_EXPIRED,
            f"The exec credential plugin {spec.command!r} returned a credential that expired at {iso(expires)}, "
            f"before now ({iso(now)}).",
            "Clear the plugin's credential cache, or fix this worker's clock if it is ahead (NTP).",
            evidence={"command": spec.command, "expires_at": iso(expires)},
        )
    return expires


def _bad_output(spec: ExecSpec, problem: str) -> ConnectionConfigError:
    return config_error(
        codes.CONN_EXEC_BAD_OUTPUT,
        f"The output of the exec credential plugin {spec.command!r} {problem}.",
        "Run the command by hand and check it prints one ExecCredential JSON object on stdout (logs belong on "
        "stderr); upgrade the plugin if it is old.",
        evidence={"command": spec.command},
    )


def _shown_api_version(value: Any) -> str:
    """Show the output's apiVersion only when it looks like one (``group.example/v1beta1``); never echo other text."""
    if isinstance(value, str) and len(value) <= 100 and _API_VERSION.fullmatch(value):
        return repr(value)
    return "(missing)" if value is None else "(an unexpected value)"
