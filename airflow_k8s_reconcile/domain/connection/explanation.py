"""The secret-free explanation of a resolved connection, for ``test_connection``, task logs, the CLI and the UI.

Decides what is shown about a :class:`~airflow_k8s_reconcile.domain.connection.resolution.Resolution`: the source and why it was
chosen, server, context, kubeconfig, namespace and its rule, the credential kind with its fingerprint and non-secret
JWT claims or certificate subject and expiry, TLS and (redacted) proxy settings, the timeout, every source tried and
the warnings. Never tokens, keys, passwords, proxy credentials or kubeconfig content. Called by hooks and the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.redaction import redact_url

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import Resolution


def explain(resolution: Resolution) -> dict[str, object]:
    """Return the JSON-safe, secret-free explanation of a resolution.

    :param resolution: the output of :func:`~airflow_k8s_reconcile.domain.connection.resolution.resolve`.
    :return: keys ``mode``, ``mode_reason``, ``server``, ``context``, ``kubeconfig``, ``namespace``,
        ``namespace_source``, ``credential``, ``tls``, ``proxy`` (the URL requests use, redacted),
        ``proxy_origin``, ``proxy_reason``, ``request_timeout``, ``sources_tried``, ``warnings``.
    """
    source = resolution.source
    return {
        "mode": source.mode.value,
        "mode_reason": resolution.mode_reason,
        "server": redact_url(source.server),
        "context": source.context,
        "kubeconfig": source.kubeconfig,
        "namespace": resolution.namespace,
        "namespace_source": resolution.namespace_source,
        "credential": _plain(resolution.credential_summary),
        "tls": {
            "verify": source.verify_ssl,
            "ca_source": source.ca_source,
            "tls_server_name": source.tls_server_name,
        },
        "proxy": source.proxy_url_redacted,
        "proxy_origin": resolution.proxy.origin or None,
        "proxy_reason": resolution.proxy.reason,
        "request_timeout": source.request_timeout,
        "sources_tried": list(resolution.sources_tried),
        "warnings": [item.to_dict() for item in resolution.warnings],
    }


def explain_lines(explanation: Mapping[str, Any]) -> list[str]:
    """Render an explanation as short ``key: value`` lines for logs and the connection-test message.

    :param explanation: the output of :func:`explain`.
    :return: the lines, warnings last.
    """
    credential: Mapping[str, Any] = explanation.get("credential") or {}
    tls: Mapping[str, Any] = explanation.get("tls") or {}
    lines = [
        f"mode: {explanation.get('mode')} ({explanation.get('mode_reason')})",
        f"server: {explanation.get('server')}",
    ]
    if explanation.get("kubeconfig"):
        lines.append(f"kubeconfig: {explanation['kubeconfig']} (context {explanation.get('context')!r})")
    lines.append(f"namespace: {explanation.get('namespace')} (from {explanation.get('namespace_source')})")
    lines.append(f"credential: {_credential_text(credential)}")
    verify = "verify" if tls.get("verify") else "NOT verified"
    sni = f", server name {tls['tls_server_name']}" if tls.get("tls_server_name") else ""
    lines.append(f"tls: {verify}, CA from {tls.get('ca_source')}{sni}")
    if explanation.get("proxy"):
        lines.append(f"proxy: {explanation['proxy']} (from {explanation.get('proxy_origin')})")
    elif explanation.get("proxy_reason", "").startswith("Direct"):
        lines.append(f"proxy: none ({explanation['proxy_reason']})")
    lines.append(f"request timeout: {explanation.get('request_timeout')}s")
    lines.extend(f"tried: {item}" for item in explanation.get("sources_tried") or ())
    for item in explanation.get("warnings") or ():
        lines.append(f"{str(item.get('status', '')).upper()} [{item.get('code')}] {item.get('cause')}")
    return lines


def _credential_text(credential: Mapping[str, Any]) -> str:
    parts = [str(credential.get("kind", "unknown"))]
    if credential.get("token_file"):
        parts.append(f"file {credential['token_file']}")
    if credential.get("fingerprint"):
        parts.append(str(credential["fingerprint"]))
    claims: Mapping[str, Any] = credential.get("claims") or {}
    if claims.get("sub"):
        parts.append(f"sub {claims['sub']}")
    if credential.get("subject"):
        parts.append(str(credential["subject"]))
    expiry = credential.get("expires_at") or credential.get("not_after")
    if expiry:
        parts.append(f"expires {expiry}")
    return ", ".join(parts)


def _plain(value: Any) -> Any:
    """Copy mappings and sequences into plain ``dict``/``list`` so the result serialises with ``json.dumps``."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
