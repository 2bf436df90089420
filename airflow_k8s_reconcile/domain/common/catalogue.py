"""The catalogue of connection finding codes, and the constructors every connection module uses.

Codes are stable identifiers: hooks, tests and ``docs/findings.md`` key on them, never on message text. Each code has
one default status and one title here, so the same fault always reads the same way whichever module finds it.
Called by :mod:`~airflow_k8s_reconcile.domain.connection.settings`, :mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.merge`,
:mod:`~airflow_k8s_reconcile.domain.connection.credentials.kinds`, :mod:`~airflow_k8s_reconcile.domain.connection.incluster` and
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Finding, Status

# Settings (connection fields and hook arguments).
CONN_CONFLICTING_SOURCES = "CONN_CONFLICTING_SOURCES"
CONN_UNKNOWN_AUTH_MODE = "CONN_UNKNOWN_AUTH_MODE"
CONN_UNKNOWN_FIELD = "CONN_UNKNOWN_FIELD"
CONN_BAD_BOOLEAN = "CONN_BAD_BOOLEAN"
CONN_BAD_VALUE = "CONN_BAD_VALUE"
CONN_BAD_PROXY_URL = "CONN_BAD_PROXY_URL"
CONN_SETTING_IGNORED = "CONN_SETTING_IGNORED"
CONN_INLINE_KUBECONFIG_EXPOSED = "CONN_INLINE_KUBECONFIG_EXPOSED"
# Source selection.
CONN_NO_SOURCE_FOUND = "CONN_NO_SOURCE_FOUND"
CONN_SOURCE_SELECTED = "CONN_SOURCE_SELECTED"
# Connection lookup and the connection test.
CONN_CONNECTION_NOT_FOUND = "CONN_CONNECTION_NOT_FOUND"
CONN_RESOLVED = "CONN_RESOLVED"
CONN_KUBECONFIG_IGNORED = "CONN_KUBECONFIG_IGNORED"
CONN_KUBECONFIG_SHADOWS_INCLUSTER = "CONN_KUBECONFIG_SHADOWS_INCLUSTER"
CONN_LOOPBACK_SERVER_IN_POD = "CONN_LOOPBACK_SERVER_IN_POD"
# Kubeconfig files and their structure.
CONN_KUBECONFIG_NOT_FOUND = "CONN_KUBECONFIG_NOT_FOUND"
CONN_KUBECONFIG_ENTRY_MISSING = "CONN_KUBECONFIG_ENTRY_MISSING"
CONN_KUBECONFIG_IS_DIRECTORY = "CONN_KUBECONFIG_IS_DIRECTORY"
CONN_KUBECONFIG_UNREADABLE = "CONN_KUBECONFIG_UNREADABLE"
CONN_KUBECONFIG_EMPTY = "CONN_KUBECONFIG_EMPTY"
CONN_KUBECONFIG_BAD_YAML = "CONN_KUBECONFIG_BAD_YAML"
CONN_KUBECONFIG_NOT_A_MAPPING = "CONN_KUBECONFIG_NOT_A_MAPPING"
CONN_KUBECONFIG_MALFORMED = "CONN_KUBECONFIG_MALFORMED"
CONN_NO_CURRENT_CONTEXT = "CONN_NO_CURRENT_CONTEXT"
CONN_UNKNOWN_CONTEXT = "CONN_UNKNOWN_CONTEXT"
CONN_MISSING_USER = "CONN_MISSING_USER"
CONN_MISSING_CLUSTER = "CONN_MISSING_CLUSTER"
CONN_NO_SERVER = "CONN_NO_SERVER"
CONN_BAD_SERVER_URL = "CONN_BAD_SERVER_URL"
CONN_BAD_BASE64 = "CONN_BAD_BASE64"
CONN_RELATIVE_PATH_INLINE = "CONN_RELATIVE_PATH_INLINE"
CONN_CA_FILE_MISSING = "CONN_CA_FILE_MISSING"
CONN_CERT_FILE_MISSING = "CONN_CERT_FILE_MISSING"
CONN_TOKEN_FILE_MISSING = "CONN_TOKEN_FILE_MISSING"  # noqa: S105 (a code, not a secret)
CONN_TOKEN_FILE_EMPTY = "CONN_TOKEN_FILE_EMPTY"  # noqa: S105 (a code, not a secret)
CONN_FILE_UNREADABLE = "CONN_FILE_UNREADABLE"
CONN_NO_CREDENTIALS = "CONN_NO_CREDENTIALS"
CONN_MULTIPLE_CREDENTIALS = "CONN_MULTIPLE_CREDENTIALS"
CONN_AUTH_PROVIDER_UNSUPPORTED = "CONN_AUTH_PROVIDER_UNSUPPORTED"
CONN_TLS_VERIFY_DISABLED = "CONN_TLS_VERIFY_DISABLED"
CONN_TLS_INSECURE_WITH_CA = "CONN_TLS_INSECURE_WITH_CA"
CONN_BASIC_AUTH_REMOVED = "CONN_BASIC_AUTH_REMOVED"
CONN_KUBECTL_DIFFERENCE = "CONN_KUBECTL_DIFFERENCE"
# In-cluster service account.
CONN_INCLUSTER_ENV_UNSET = "CONN_INCLUSTER_ENV_UNSET"
CONN_INCLUSTER_ENV_EMPTY = "CONN_INCLUSTER_ENV_EMPTY"
CONN_SA_TOKEN_MISSING = "CONN_SA_TOKEN_MISSING"  # noqa: S105 (a code, not a secret)
CONN_SA_TOKEN_EMPTY = "CONN_SA_TOKEN_EMPTY"  # noqa: S105 (a code, not a secret)
CONN_SA_CA_MISSING = "CONN_SA_CA_MISSING"
CONN_SA_CA_EMPTY = "CONN_SA_CA_EMPTY"
# Credential material.
CONN_TOKEN_EXPIRED = "CONN_TOKEN_EXPIRED"  # noqa: S105 (a code, not a secret)
CONN_TOKEN_EXPIRING = "CONN_TOKEN_EXPIRING"  # noqa: S105 (a code, not a secret)
CONN_TOKEN_NOT_YET_VALID = "CONN_TOKEN_NOT_YET_VALID"  # noqa: S105 (a code, not a secret)
CONN_TOKEN_BAD_EXPIRY = "CONN_TOKEN_BAD_EXPIRY"  # noqa: S105 (a code, not a secret)
CONN_CLIENT_CERT_EXPIRED = "CONN_CLIENT_CERT_EXPIRED"
CONN_CLIENT_CERT_EXPIRING = "CONN_CLIENT_CERT_EXPIRING"
CONN_CLIENT_CERT_NOT_YET_VALID = "CONN_CLIENT_CERT_NOT_YET_VALID"
CONN_CLIENT_KEY_MISMATCH = "CONN_CLIENT_KEY_MISMATCH"
CONN_CLIENT_CERT_INCOMPLETE = "CONN_CLIENT_CERT_INCOMPLETE"
CONN_BAD_PEM = "CONN_BAD_PEM"
CONN_CA_EXPIRED = "CONN_CA_EXPIRED"
# Exec credential plugins.
CONN_EXEC_BAD_CONFIG = "CONN_EXEC_BAD_CONFIG"
CONN_EXEC_PLUGIN_NOT_ALLOWED = "CONN_EXEC_PLUGIN_NOT_ALLOWED"
CONN_EXEC_NOT_FOUND = "CONN_EXEC_NOT_FOUND"
CONN_EXEC_FAILED = "CONN_EXEC_FAILED"
CONN_EXEC_TIMEOUT = "CONN_EXEC_TIMEOUT"
CONN_EXEC_BAD_OUTPUT = "CONN_EXEC_BAD_OUTPUT"
CONN_EXEC_CREDENTIAL_EXPIRED = "CONN_EXEC_CREDENTIAL_EXPIRED"

# The network path and the API server's answers (hooks translate client errors into these).
NET_DNS_FAILURE = "NET_DNS_FAILURE"
NET_CONNECTION_REFUSED = "NET_CONNECTION_REFUSED"
NET_CONNECT_TIMEOUT = "NET_CONNECT_TIMEOUT"
NET_READ_TIMEOUT = "NET_READ_TIMEOUT"
NET_PROXY_FAILURE = "NET_PROXY_FAILURE"
NET_CONNECTION_RESET = "NET_CONNECTION_RESET"
NET_UNREACHABLE = "NET_UNREACHABLE"
NET_REQUEST_FAILED = "NET_REQUEST_FAILED"
TLS_VERIFY_FAILED = "TLS_VERIFY_FAILED"
TLS_HOSTNAME_MISMATCH = "TLS_HOSTNAME_MISMATCH"
TLS_CERT_EXPIRED = "TLS_CERT_EXPIRED"
TLS_CERT_NOT_YET_VALID = "TLS_CERT_NOT_YET_VALID"
TLS_WRONG_PROTOCOL = "TLS_WRONG_PROTOCOL"
TLS_HANDSHAKE_FAILED = "TLS_HANDSHAKE_FAILED"
AUTH_CREDENTIALS_REJECTED = "AUTH_CREDENTIALS_REJECTED"
AUTH_ANONYMOUS = "AUTH_ANONYMOUS"
RBAC_FORBIDDEN = "RBAC_FORBIDDEN"
API_NOT_FOUND = "API_NOT_FOUND"
API_CONFLICT = "API_CONFLICT"
API_INVALID = "API_INVALID"
API_RATE_LIMITED = "API_RATE_LIMITED"
API_SERVER_ERROR = "API_SERVER_ERROR"
API_UNEXPECTED_STATUS = "API_UNEXPECTED_STATUS"
# The connection test's own checks.
API_REACHABLE = "API_REACHABLE"
AUTH_ACCEPTED = "AUTH_ACCEPTED"
AUTH_IDENTITY = "AUTH_IDENTITY"
RBAC_PERMISSIONS = "RBAC_PERMISSIONS"
RBAC_NO_PERMISSIONS = "RBAC_NO_PERMISSIONS"
RBAC_RULES_INCOMPLETE = "RBAC_RULES_INCOMPLETE"
CHECK_SKIPPED = "CHECK_SKIPPED"
# A defect in this provider, reported at the outermost boundary (test_connection, doctor) instead of a traceback.
INTERNAL_ERROR = "INTERNAL_ERROR"

# ConfigMap reconcile (domain/reconcile): validation of desired state, ownership guard, drift, plan, API answers.
RECONCILE_BAD_MANIFEST = "RECONCILE_BAD_MANIFEST"
RECONCILE_BAD_NAME = "RECONCILE_BAD_NAME"
RECONCILE_BAD_NAMESPACE = "RECONCILE_BAD_NAMESPACE"
RECONCILE_BAD_KEY = "RECONCILE_BAD_KEY"
RECONCILE_DUPLICATE_KEY = "RECONCILE_DUPLICATE_KEY"
RECONCILE_BAD_VALUE = "RECONCILE_BAD_VALUE"
RECONCILE_BAD_BASE64 = "RECONCILE_BAD_BASE64"
RECONCILE_TOO_LARGE = "RECONCILE_TOO_LARGE"
RECONCILE_BAD_LABEL = "RECONCILE_BAD_LABEL"
RECONCILE_BAD_ANNOTATION = "RECONCILE_BAD_ANNOTATION"
RECONCILE_ANNOTATIONS_TOO_LARGE = "RECONCILE_ANNOTATIONS_TOO_LARGE"
RECONCILE_RESERVED_METADATA = "RECONCILE_RESERVED_METADATA"
RECONCILE_BAD_OWNER = "RECONCILE_BAD_OWNER"
RECONCILE_CROSS_NAMESPACE_OWNER = "RECONCILE_CROSS_NAMESPACE_OWNER"
RECONCILE_DUPLICATE_OBJECT = "RECONCILE_DUPLICATE_OBJECT"
RECONCILE_FOREIGN_OBJECT = "RECONCILE_FOREIGN_OBJECT"
RECONCILE_FOREIGN_SKIPPED = "RECONCILE_FOREIGN_SKIPPED"
RECONCILE_ADOPTED = "RECONCILE_ADOPTED"
RECONCILE_OWNED_BY_OTHER = "RECONCILE_OWNED_BY_OTHER"
RECONCILE_DRIFT_DETECTED = "RECONCILE_DRIFT_DETECTED"
RECONCILE_HASH_MISMATCH = "RECONCILE_HASH_MISMATCH"
RECONCILE_UID_CHANGED = "RECONCILE_UID_CHANGED"
RECONCILE_IMMUTABLE_BLOCKED = "RECONCILE_IMMUTABLE_BLOCKED"
RECONCILE_FLAPPING = "RECONCILE_FLAPPING"
RECONCILE_PRUNE_REFUSED = "RECONCILE_PRUNE_REFUSED"
RECONCILE_FIELD_MANAGER_CONFLICT = "RECONCILE_FIELD_MANAGER_CONFLICT"
RECONCILE_RETRIES_EXHAUSTED = "RECONCILE_RETRIES_EXHAUSTED"
# Preflight: required permissions (domain/preflight).
RBAC_PERMISSION_MISSING = "RBAC_PERMISSION_MISSING"
RBAC_PERMISSION_UNKNOWN = "RBAC_PERMISSION_UNKNOWN"
RBAC_PERMISSIONS_GRANTED = "RBAC_PERMISSIONS_GRANTED"
PREFLIGHT_BAD_PERMISSION_SPEC = "PREFLIGHT_BAD_PERMISSION_SPEC"
# Preflight: the network path, TLS, readiness, rules reviews and the admission dry-run (checks 2-9).
NET_PROXY_NONE = "NET_PROXY_NONE"
NET_PROXY_IN_USE = "NET_PROXY_IN_USE"
NET_NO_PROXY_MISMATCH = "NET_NO_PROXY_MISMATCH"
NET_DNS_RESOLVED = "NET_DNS_RESOLVED"
NET_DNS_NOT_NEEDED = "NET_DNS_NOT_NEEDED"
NET_DNS_NAME_NOT_FOUND = "NET_DNS_NAME_NOT_FOUND"
NET_DNS_RESOLVER_UNREACHABLE = "NET_DNS_RESOLVER_UNREACHABLE"
NET_TCP_CONNECTED = "NET_TCP_CONNECTED"
NET_TCP_PARTIAL = "NET_TCP_PARTIAL"
TLS_VERIFIED = "TLS_VERIFIED"
TLS_VIA_PROXY = "TLS_VIA_PROXY"
API_READY = "API_READY"
API_NOT_READY = "API_NOT_READY"
API_CLOCK_SKEW = "API_CLOCK_SKEW"
RBAC_RULES_REVIEWED = "RBAC_RULES_REVIEWED"
ADMISSION_DRY_RUN_ACCEPTED = "ADMISSION_DRY_RUN_ACCEPTED"
ADMISSION_DENIED = "ADMISSION_DENIED"
# The connection form: a kubeconfig pasted into the one-line "Kubeconfig (inline)" input lost its line breaks.
CONN_KUBECONFIG_COLLAPSED = "CONN_KUBECONFIG_COLLAPSED"

_F, _W, _I, _P = Status.FAIL, Status.WARN, Status.INFO, Status.PASS
_U, _S = Status.UNKNOWN, Status.SKIPPED

CATALOGUE: Mapping[str, tuple[Status, str]] = MappingProxyType(
    {
        CONN_CONFLICTING_SOURCES: (_F, "Conflicting connection sources"),
        CONN_UNKNOWN_AUTH_MODE: (_F, "Unknown auth mode"),
        CONN_UNKNOWN_FIELD: (_F, "Unknown connection field"),
        CONN_BAD_BOOLEAN: (_F, "Invalid boolean"),
        CONN_BAD_VALUE: (_F, "Invalid connection value"),
        CONN_BAD_PROXY_URL: (_F, "Invalid proxy URL"),
        CONN_SETTING_IGNORED: (_I, "Setting ignored"),
        CONN_INLINE_KUBECONFIG_EXPOSED: (_W, "Inline kubeconfig shown by Airflow's API"),
        CONN_NO_SOURCE_FOUND: (_F, "No usable Kubernetes credentials"),
        CONN_SOURCE_SELECTED: (_P, "Credential source selected"),
        CONN_CONNECTION_NOT_FOUND: (_F, "Connection not defined"),
        CONN_RESOLVED: (_P, "Connection resolved"),
        CONN_KUBECONFIG_IGNORED: (_I, "Kubeconfig ignored"),
        CONN_KUBECONFIG_SHADOWS_INCLUSTER: (_W, "Kubeconfig used although in-cluster credentials exist"),
        CONN_LOOPBACK_SERVER_IN_POD: (_W, "Loopback API server address inside a pod"),
        CONN_KUBECONFIG_NOT_FOUND: (_F, "Kubeconfig not found"),
        CONN_KUBECONFIG_ENTRY_MISSING: (_W, "KUBECONFIG entry missing"),
        CONN_KUBECONFIG_IS_DIRECTORY: (_F, "Kubeconfig path is a directory"),
        CONN_KUBECONFIG_UNREADABLE: (_F, "Kubeconfig unreadable"),
        CONN_KUBECONFIG_EMPTY: (_F, "Kubeconfig empty"),
        CONN_KUBECONFIG_BAD_YAML: (_F, "Kubeconfig is not valid YAML"),
        CONN_KUBECONFIG_NOT_A_MAPPING: (_F, "Kubeconfig is not a mapping"),
        CONN_KUBECONFIG_MALFORMED: (_F, "Kubeconfig structure invalid"),
        CONN_NO_CURRENT_CONTEXT: (_F, "No kubeconfig context selected"),
        CONN_UNKNOWN_CONTEXT: (_F, "Kubeconfig context not found"),
        CONN_MISSING_USER: (_F, "Kubeconfig user not defined"),
        CONN_MISSING_CLUSTER: (_F, "Kubeconfig cluster not defined"),
        CONN_NO_SERVER: (_F, "Cluster has no server"),
        CONN_BAD_SERVER_URL: (_F, "Invalid API server URL"),
        CONN_BAD_BASE64: (_F, "Kubeconfig data field is not base64"),
        CONN_RELATIVE_PATH_INLINE: (_F, "Relative path in an inline kubeconfig"),
        CONN_CA_FILE_MISSING: (_F, "CA file missing"),
        CONN_CERT_FILE_MISSING: (_F, "Client certificate or key file missing"),
        CONN_TOKEN_FILE_MISSING: (_F, "Token file missing"),
        CONN_TOKEN_FILE_EMPTY: (_F, "Token file empty"),
        CONN_FILE_UNREADABLE: (_F, "Credential file unreadable"),
        CONN_NO_CREDENTIALS: (_W, "No credentials configured"),
        CONN_MULTIPLE_CREDENTIALS: (_W, "Several credentials configured"),
        CONN_AUTH_PROVIDER_UNSUPPORTED: (_F, "Auth provider not supported"),
        CONN_TLS_VERIFY_DISABLED: (_W, "TLS verification disabled"),
        CONN_TLS_INSECURE_WITH_CA: (_F, "Insecure flag next to a CA"),
        CONN_BASIC_AUTH_REMOVED: (_F, "Basic authentication removed from Kubernetes"),
        CONN_KUBECTL_DIFFERENCE: (_W, "Accepted here, but kubectl reads it differently"),
        CONN_INCLUSTER_ENV_UNSET: (_F, "In-cluster environment not set"),
        CONN_INCLUSTER_ENV_EMPTY: (_F, "In-cluster environment empty"),
        CONN_SA_TOKEN_MISSING: (_F, "Service account token missing"),
        CONN_SA_TOKEN_EMPTY: (_F, "Service account token empty"),
        CONN_SA_CA_MISSING: (_F, "Service account CA missing"),
        CONN_SA_CA_EMPTY: (_F, "Service account CA empty"),
        CONN_TOKEN_EXPIRED: (_F, "Token expired"),
        CONN_TOKEN_EXPIRING: (_W, "Token expiring soon"),
        CONN_TOKEN_NOT_YET_VALID: (_F, "Token not yet valid"),
        CONN_TOKEN_BAD_EXPIRY: (_W, "Token expiry unreadable"),
        CONN_CLIENT_CERT_EXPIRED: (_F, "Client certificate expired"),
        CONN_CLIENT_CERT_EXPIRING: (_W, "Client certificate expiring soon"),
        CONN_CLIENT_CERT_NOT_YET_VALID: (_F, "Client certificate not yet valid"),
        CONN_CLIENT_KEY_MISMATCH: (_F, "Client key does not match certificate"),
        CONN_CLIENT_CERT_INCOMPLETE: (_F, "Client certificate without key"),
        CONN_BAD_PEM: (_F, "PEM does not parse"),
        CONN_CA_EXPIRED: (_W, "CA certificate expired"),
        CONN_EXEC_BAD_CONFIG: (_F, "Exec plugin misconfigured"),
        CONN_EXEC_PLUGIN_NOT_ALLOWED: (_F, "Exec plugin refused"),
        CONN_EXEC_NOT_FOUND: (_F, "Exec plugin not found"),
        CONN_EXEC_FAILED: (_F, "Exec plugin failed"),
        CONN_EXEC_TIMEOUT: (_F, "Exec plugin timed out"),
        CONN_EXEC_BAD_OUTPUT: (_F, "Exec plugin output invalid"),
        CONN_EXEC_CREDENTIAL_EXPIRED: (_F, "Exec credential already expired"),
        NET_DNS_FAILURE: (_F, "API server name does not resolve"),
        NET_CONNECTION_REFUSED: (_F, "Connection refused"),
        NET_CONNECT_TIMEOUT: (_F, "Connection timed out"),
        NET_READ_TIMEOUT: (_F, "API server did not answer in time"),
        NET_PROXY_FAILURE: (_F, "Proxy failed"),
        NET_CONNECTION_RESET: (_F, "Connection reset"),
        NET_UNREACHABLE: (_F, "Network unreachable"),
        NET_REQUEST_FAILED: (_F, "Request failed before a response"),
        TLS_VERIFY_FAILED: (_F, "Server certificate not trusted"),
        TLS_HOSTNAME_MISMATCH: (_F, "Server certificate does not name this address"),
        TLS_CERT_EXPIRED: (_F, "Server certificate expired"),
        TLS_CERT_NOT_YET_VALID: (_F, "Server certificate not yet valid"),
        TLS_WRONG_PROTOCOL: (_F, "Server does not speak TLS on this port"),
        TLS_HANDSHAKE_FAILED: (_F, "TLS handshake failed"),
        AUTH_CREDENTIALS_REJECTED: (_F, "Credentials rejected"),
        AUTH_ANONYMOUS: (_F, "No credentials were sent"),
        RBAC_FORBIDDEN: (_F, "Permission denied by RBAC"),
        API_NOT_FOUND: (_F, "Not found"),
        API_CONFLICT: (_F, "Conflict"),
        API_INVALID: (_F, "Rejected as invalid"),
        API_RATE_LIMITED: (_F, "Rate limited"),
        API_SERVER_ERROR: (_F, "API server error"),
        API_UNEXPECTED_STATUS: (_F, "Unexpected HTTP status"),
        API_REACHABLE: (_P, "API server reachable"),
        AUTH_ACCEPTED: (_P, "Credentials accepted"),
        AUTH_IDENTITY: (_P, "Identity"),
        RBAC_PERMISSIONS: (_P, "Permissions present"),
        RBAC_NO_PERMISSIONS: (_W, "Identity has no permissions"),
        RBAC_RULES_INCOMPLETE: (_U, "Permissions could not be listed"),
        CHECK_SKIPPED: (_S, "Check skipped"),
        INTERNAL_ERROR: (_F, "Internal error in airflow-k8s-reconcile"),
        # ConfigMap reconcile.
        RECONCILE_BAD_MANIFEST: (_F, "Not a ConfigMap manifest"),
        RECONCILE_BAD_NAME: (_F, "Invalid ConfigMap name"),
        RECONCILE_BAD_NAMESPACE: (_F, "Invalid namespace"),
        RECONCILE_BAD_KEY: (_F, "Invalid ConfigMap key"),
        RECONCILE_DUPLICATE_KEY: (_F, "Key in both data and binaryData"),
        RECONCILE_BAD_VALUE: (_F, "Invalid ConfigMap value"),
        RECONCILE_BAD_BASE64: (_F, "binaryData value is not base64"),
        RECONCILE_TOO_LARGE: (_F, "ConfigMap too large"),
        RECONCILE_BAD_LABEL: (_F, "Invalid label"),
        RECONCILE_BAD_ANNOTATION: (_F, "Invalid annotation key"),
        RECONCILE_ANNOTATIONS_TOO_LARGE: (_F, "Annotations too large"),
        RECONCILE_RESERVED_METADATA: (_F, "Reserved label or annotation"),
        RECONCILE_BAD_OWNER: (_F, "Invalid owner identifier"),
        RECONCILE_CROSS_NAMESPACE_OWNER: (_F, "Owner in another namespace"),
        RECONCILE_DUPLICATE_OBJECT: (_F, "ConfigMap declared twice"),
        RECONCILE_FOREIGN_OBJECT: (_F, "ConfigMap not managed by this provider"),
        RECONCILE_FOREIGN_SKIPPED: (_W, "Foreign ConfigMap skipped"),
        RECONCILE_ADOPTED: (_I, "Foreign ConfigMap adopted"),
        RECONCILE_OWNED_BY_OTHER: (_F, "ConfigMap owned by someone else"),
        RECONCILE_DRIFT_DETECTED: (_W, "ConfigMap drifted"),
        RECONCILE_HASH_MISMATCH: (_W, "Content does not match its hash annotation"),
        RECONCILE_UID_CHANGED: (_W, "ConfigMap was deleted and recreated"),
        RECONCILE_IMMUTABLE_BLOCKED: (_F, "Immutable ConfigMap cannot be changed"),
        RECONCILE_FLAPPING: (_F, "Another writer keeps rewriting the ConfigMap"),
        RECONCILE_PRUNE_REFUSED: (_F, "Prune refused"),
        RECONCILE_FIELD_MANAGER_CONFLICT: (_F, "Server-side apply conflict"),
        RECONCILE_RETRIES_EXHAUSTED: (_F, "Conflicts persisted after re-reading"),
        RBAC_PERMISSION_MISSING: (_F, "Required permission missing"),
        RBAC_PERMISSION_UNKNOWN: (_U, "Required permission could not be checked"),
        RBAC_PERMISSIONS_GRANTED: (_P, "Required permissions granted"),
        PREFLIGHT_BAD_PERMISSION_SPEC: (_F, "Malformed permission spec"),
        # Preflight: network path, TLS, readiness, rules reviews, admission dry-run.
        NET_PROXY_NONE: (_P, "Direct connection"),
        NET_PROXY_IN_USE: (_I, "Proxy in use"),
        NET_NO_PROXY_MISMATCH: (_W, "NO_PROXY does not cover the API server"),
        NET_DNS_RESOLVED: (_P, "Name resolved"),
        NET_DNS_NOT_NEEDED: (_I, "No name to resolve"),
        NET_DNS_NAME_NOT_FOUND: (_F, "Name does not exist"),
        NET_DNS_RESOLVER_UNREACHABLE: (_F, "DNS resolver unreachable"),
        NET_TCP_CONNECTED: (_P, "TCP connection established"),
        NET_TCP_PARTIAL: (_W, "Some API server addresses refuse connections"),
        TLS_VERIFIED: (_P, "TLS verified"),
        TLS_VIA_PROXY: (_I, "TLS checked through the proxy"),
        API_READY: (_P, "API server ready"),
        API_NOT_READY: (_F, "API server not ready"),
        API_CLOCK_SKEW: (_W, "Clock differs from the API server's"),
        RBAC_RULES_REVIEWED: (_P, "Rules reviewed"),
        ADMISSION_DRY_RUN_ACCEPTED: (_P, "Dry-run write accepted"),
        ADMISSION_DENIED: (_F, "Write refused by admission"),
        CONN_KUBECONFIG_COLLAPSED: (_F, "Pasted kubeconfig lost its line breaks"),
    }
)

ALL_CODES: tuple[str, ...] = tuple(CATALOGUE)


def finding(
    code: str,
    cause: str,
    fix: str = "",
    *,
    status: Status | None = None,
    evidence: Mapping[str, str] | None = None,
) -> Finding:
    """Build a finding with the catalogue's title and default status.

    :param code: one of the ``CONN_*`` constants.
    :param cause: one sentence naming the concrete value; must already be free of secrets.
    :param fix: what to do about it.
    :param status: overrides the catalogue's default status.
    :param evidence: redacted supporting facts.
    :return: the finding.
    :raises KeyError: when ``code`` is not in :data:`CATALOGUE` (a programming error).
    """
    default_status, title = CATALOGUE[code]
    return Finding(
        code=code,
        status=status or default_status,
        title=title,
        cause=cause,
        fix=fix,
        evidence=MappingProxyType(dict(evidence or {})),
    )


def config_error(
    code: str,
    cause: str,
    fix: str = "",
    *,
    evidence: Mapping[str, str] | None = None,
    findings: Sequence[Finding] = (),
) -> ConnectionConfigError:
    """Build the :class:`ConnectionConfigError` for a FAIL finding; the caller raises it.

    :param code: one of the ``CONN_*`` constants.
    :param cause: one sentence naming the concrete value.
    :param fix: what to do about it.
    :param evidence: redacted supporting facts.
    :param findings: findings gathered before the decisive one; the decisive one is appended.
    :return: the error, ready to raise.
    """
    decisive = finding(code, cause, fix, status=Status.FAIL, evidence=evidence)
    return ConnectionConfigError(decisive, (*findings, decisive) if findings else ())
