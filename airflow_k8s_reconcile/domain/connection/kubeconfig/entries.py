"""Interpretation of a selected kubeconfig cluster entry, and the file references every entry shares.

Decides the server, CA, TLS options and ``proxy-url`` of a cluster (refusing ``insecure-skip-tls-verify`` next to a CA,
as kubectl does), decodes ``*-data`` fields, and resolves file paths against the kubeconfig that defined the entry
(relative paths cannot work for an inline kubeconfig). Files are read through a
:class:`~airflow_k8s_reconcile.domain.connection.files.FileView`. User entries are interpreted by
:mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.users`. Called by
:mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.locate`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.connection.files import PERMISSIONS_FIX, content_of
from airflow_k8s_reconcile.domain.connection.kubeconfig.merge import (
    INLINE,
    NamedEntry,
    decode_data_field,
    describe_origins,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.parse import malformed
from airflow_k8s_reconcile.domain.connection.setting_parsers import validate_proxy_url, validate_server_url

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.files import FileView


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClusterEntry:
    """What a kubeconfig cluster entry says about reaching the API server.

    :param name: cluster name.
    :param server: API server URL (``None`` only when the connection overrides it).
    :param ca_pem: CA bundle PEM, when the entry names one.
    :param ca_source: where the CA came from, e.g. ``certificate-authority-data of cluster 'prod'``.
    :param insecure: ``insecure-skip-tls-verify``.
    :param tls_server_name: ``tls-server-name``.
    :param proxy_url: ``proxy-url``; may hold credentials, so not in ``repr``.
    """

    name: str
    server: str | None
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    ca_source: str = "system trust store"
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = dataclasses.field(default=None, repr=False)


def read_cluster(entry: NamedEntry, *, files: FileView, need_server: bool, need_ca: bool) -> ClusterEntry:
    """Interpret a cluster entry.

    :param entry: the selected cluster.
    :param files: file snapshots, for ``certificate-authority``.
    :param need_server: whether the entry must name a server (``False`` when ``api_server`` overrides it).
    :param need_ca: whether to load its CA (``False`` when ``ca_bundle`` overrides it).
    :return: the interpreted entry.
    :raises ConnectionConfigError: ``CONN_NO_SERVER``, ``CONN_BAD_SERVER_URL``, ``CONN_BAD_BASE64``,
        ``CONN_TLS_INSECURE_WITH_CA``, ``CONN_CA_FILE_MISSING``, ``CONN_RELATIVE_PATH_INLINE``, ``CONN_FILE_UNREADABLE``, ``CONN_BAD_PROXY_URL``.
    """
    body, where = entry.body, describe_origins([entry.origin])
    label = f"cluster {entry.name!r}"
    server = text_field(body, "server", label, where)
    if server is None and need_server:
        raise config_error(
            codes.CONN_NO_SERVER,
            f"The {label} in {where} has no server.",
            "Add server: https://<host>:<port> to the cluster entry, or set api_server in the connection.",
            evidence={"cluster": entry.name},
        )
    insecure = flag(body.get("insecure-skip-tls-verify"), "insecure-skip-tls-verify", label, where)
    ca_fields = [key for key in ("certificate-authority-data", "certificate-authority") if body.get(key)]
    if insecure and ca_fields:
        # client-go rest.Config validation: "specifying a root certificates file with the insecure flag is not
        # allowed"; kubectl refuses the kubeconfig rather than guessing which of the two was meant.
        raise config_error(
            codes.CONN_TLS_INSECURE_WITH_CA,
            f"The {label} in {where} sets insecure-skip-tls-verify: true and also {ca_fields[0]}; kubectl refuses "
            "this combination (specifying a root certificates file with the insecure flag is not allowed).",
            f"Remove insecure-skip-tls-verify so the server is verified against {ca_fields[0]} (set "
            "tls-server-name if the certificate names another host).",
            evidence={"cluster": entry.name, "ca_field": ca_fields[0]},
        )
    ca_pem, ca_source = None, "system trust store"
    if need_ca and body.get("certificate-authority-data"):
        ca_source = f"certificate-authority-data of {label}"
        ca_pem = decode_data_field(
            body["certificate-authority-data"], field="certificate-authority-data", entry=label, where=where
        )
    elif need_ca and (ca_path := text_field(body, "certificate-authority", label, where)):
        path = resolve_path(ca_path, entry=entry, field="certificate-authority")
        ca_pem = referenced_file_content(
            files, path, missing_code=codes.CONN_CA_FILE_MISSING, what=f"CA of {label}"
        )
        ca_source = f"file {path!r}"
    proxy = text_field(body, "proxy-url", label, where)
    return ClusterEntry(
        name=entry.name,
        server=validate_server_url(server, f"the {label} in {where}") if server else None,
        ca_pem=ca_pem,
        ca_source=ca_source,
        insecure=insecure,
        tls_server_name=text_field(body, "tls-server-name", label, where),
        proxy_url=validate_proxy_url(proxy, f"the {label} in {where}") if proxy else None,
    )


def resolve_path(path: str, *, entry: NamedEntry, field: str) -> str:
    """Resolve a kubeconfig file reference against the directory of the kubeconfig that defined the entry.

    :param path: the path as written.
    :param entry: the entry holding it.
    :param field: the field name, for messages.
    :return: an absolute (or cwd-relative, when the kubeconfig path was) normalised path.
    :raises ConnectionConfigError: ``CONN_RELATIVE_PATH_INLINE`` for a relative path in an inline kubeconfig.
    """
    if posixpath.isabs(path):
        return posixpath.normpath(path)
    if entry.origin == INLINE:
        raise config_error(
            codes.CONN_RELATIVE_PATH_INLINE,
            f"The field {field} of {entry.name!r} in the inline kubeconfig is the relative path {path!r}, "
            "which has no directory to be relative to.",
            f"Embed the content with {field}-data (base64 of the file), or use an absolute path mounted on workers.",
            evidence={"field": field, "path": path},
        )
    return posixpath.normpath(posixpath.join(posixpath.dirname(entry.origin), path))


def referenced_file_content(files: FileView, path: str, *, missing_code: str, what: str) -> bytes:
    """Return the content of a referenced file, or fail naming the path.

    :param files: file snapshots.
    :param path: the resolved path.
    :param missing_code: the code when it does not exist.
    :param what: what the file is, e.g. ``CA of cluster 'prod'``.
    :return: the bytes.
    :raises ConnectionConfigError: ``missing_code`` or ``CONN_FILE_UNREADABLE``.
    """
    (state,) = files.require(path)
    return content_of(
        state,
        what="file",
        detail=what,
        missing=(
            missing_code,
            "Mount the file on every worker, or embed its content in the kubeconfig's *-data field.",
        ),
        unreadable=(codes.CONN_FILE_UNREADABLE, PERMISSIONS_FIX),
    )


def text_field(body: Mapping[str, Any], key: str, label: str, where: str) -> str | None:
    """Return a text field of an entry, stripped (``None`` when unset or blank), or fail when it is not text."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise malformed(f"The field {key} of {label}{' in ' + where if where else ''} is not a text value")
    return value.strip() or None


def flag(value: Any, key: str, label: str, where: str) -> bool:
    """Return a boolean field of an entry (``true``/``false``, as Go's YAML decoding accepts), or fail."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise malformed(f"The field {key} of {label} in {where} is not true or false")
