"""Where a stored connection keeps its inline kubeconfig, and whether Airflow itself would show it.

Airflow's API and UI hide a connection's ``password`` always, but an extra only when its KEY contains a sensitive
word (``token``, ``secret``, ``password``, ... plus ``[core] sensitive_var_conn_names``). ``kube_config`` contains
none, so with stock settings ``GET /api/v2/connections`` returns an inline kubeconfig kept in the extras whole,
bearer token and key included, and the UI's "Show value" and Extra Fields editor show it. So our connection type
keeps the inline kubeconfig in the password field (labelled "Kubeconfig (inline)" in the form); the ``kube_config``
extra is still read (cncf connections have nothing else, and older connections of ours used it), with a warning.
Called by :mod:`~airflow_k8s_reconcile.domain.connection.settings` and by the hooks' resolution.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error, finding
from airflow_k8s_reconcile.domain.connection.setting_parsers import is_unset

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

__all__ = ["INLINE_FIELD_LABEL", "exposure_findings", "with_password_kubeconfig"]

INLINE_FIELD_LABEL = "Kubeconfig (inline)"
_INLINE = "kube_config"
_OUR_TYPE = "k8s_reconcile"
_CNCF_TYPE = "kubernetes"


def with_password_kubeconfig(raw: Mapping[str, Any], password: Any) -> dict[str, Any]:
    """Return ``raw`` (our type's collected extras) with the password field as the inline kubeconfig.

    :param raw: the extras, already under their plain names.
    :param password: the connection's password field; unset values leave ``raw`` as it is.
    :raises ConnectionConfigError: ``CONN_CONFLICTING_SOURCES`` when the ``kube_config`` extra is set too: two
        inline kubeconfigs, and no way to tell which one the user meant.
    """
    if is_unset(password) or (isinstance(password, str) and not password.strip()):
        return dict(raw)
    if _INLINE in raw:
        raise config_error(
            codes.CONN_CONFLICTING_SOURCES,
            f"The connection holds an inline kubeconfig twice: in its {INLINE_FIELD_LABEL} field (the password) "
            "and in the kube_config extra.",
            f"Keep the one in the {INLINE_FIELD_LABEL} field and delete kube_config from the extras; Airflow's API "
            "and UI show extras in clear.",
            evidence={"sources": f"{INLINE_FIELD_LABEL} field, kube_config extra"},
        )
    return {**raw, _INLINE: password}


def exposure_findings(
    conn_type: str, extra: Mapping[str, Any], *, masked_keys: Collection[str] = ()
) -> tuple[Finding, ...]:
    """Return a warning for an inline kubeconfig stored where Airflow's API and UI show it.

    :param conn_type: the connection type (ours or cncf ``kubernetes``).
    :param extra: the connection's extras.
    :param masked_keys: extra keys this deployment's Airflow hides anyway (``[core] sensitive_var_conn_names``).
    :return: ``CONN_INLINE_KUBECONFIG_EXPOSED`` per exposed key, else nothing.
    """
    kind = (conn_type or "").strip().lower()
    if kind not in {_OUR_TYPE, _CNCF_TYPE}:
        return ()
    keys = (_INLINE, f"extra__{kind}__{_INLINE}")
    exposed = [key for key in keys if key not in masked_keys and not _empty(extra.get(key))]
    return tuple(_exposed(kind, key) for key in exposed)


def _empty(value: Any) -> bool:
    return is_unset(value) or (isinstance(value, str) and not value.strip())


def _exposed(kind: str, key: str) -> Finding:
    if kind == _OUR_TYPE:
        fix = (
            f"Move the kubeconfig into the connection's {INLINE_FIELD_LABEL} field (its password field, which "
            f"Airflow encrypts and never returns) and delete {key} from the extras; or mount it as a file and set "
            "kube_config_path."
        )
    else:
        fix = (
            f"Use a {_OUR_TYPE} connection with the kubeconfig in its {INLINE_FIELD_LABEL} field, or mount it as a "
            f"file (kube_config_path), or add {_INLINE} to [core] sensitive_var_conn_names so Airflow hides it."
        )
    return finding(
        codes.CONN_INLINE_KUBECONFIG_EXPOSED,
        f"The connection's extra {key!r} holds a kubeconfig, and Airflow's API (GET /api/v2/connections) and UI "
        "show extras in clear unless their name is a sensitive one, so its token or key is readable by anyone "
        "who may view connections.",
        fix,
        evidence={"field": key},
    )
