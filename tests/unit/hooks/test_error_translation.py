"""Client errors become provider errors with the right class and ``transient`` flag; nothing else is translated.

The exceptions are the client libraries' own classes, built as the libraries build them; the statuses are the
ones the API server sends (the integration suite provokes 404, 409 and 422 on the local control plane).
"""

from __future__ import annotations

import errno
import socket
import ssl

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio.client.exceptions import ApiException as AsyncApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from airflow_k8s_reconcile.exceptions import (
    ClusterAccessError,
    ConflictError,
    InvalidSpecError,
    NotFoundError,
    PermissionDeniedError,
)
from airflow_k8s_reconcile.hooks._errors import is_client_error, translate
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

SERVER = "https://api.example.com:6443"


def _api_error(cls, status: int, reason: str = "") -> Exception:
    error = cls(status=status, reason=reason or "Reason")
    error.body = f'{{"kind":"Status","reason":"{reason}","message":"m"}}'
    return error


@pytest.mark.parametrize("exception_class", [ApiException, AsyncApiException], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("status", "reason", "error_class", "transient", "code"),
    [
        (400, "BadRequest", ClusterAccessError, False, "API_UNEXPECTED_STATUS"),
        (401, "Unauthorized", PermissionDeniedError, False, "AUTH_CREDENTIALS_REJECTED"),
        (403, "Forbidden", PermissionDeniedError, False, "RBAC_FORBIDDEN"),
        (404, "NotFound", NotFoundError, False, "API_NOT_FOUND"),
        (409, "AlreadyExists", ConflictError, False, "API_CONFLICT"),
        (409, "Conflict", ConflictError, False, "API_CONFLICT"),
        (410, "Expired", ClusterAccessError, False, "API_UNEXPECTED_STATUS"),
        (422, "Invalid", InvalidSpecError, False, "API_INVALID"),
        (429, "TooManyRequests", ClusterAccessError, True, "API_RATE_LIMITED"),
        (500, "InternalError", ClusterAccessError, True, "API_SERVER_ERROR"),
        (502, "", ClusterAccessError, True, "API_SERVER_ERROR"),
        (503, "ServiceUnavailable", ClusterAccessError, True, "API_SERVER_ERROR"),
        (504, "Timeout", ClusterAccessError, True, "API_SERVER_ERROR"),
        (501, "", ClusterAccessError, False, "API_SERVER_ERROR"),
    ],
)
def test_status_maps_to_class_and_transient(exception_class, status, reason, error_class, transient, code):
    error = translate(_api_error(exception_class, status, reason), server=SERVER, action="do it")
    assert type(error) is error_class
    assert error.status == status
    assert error.transient is transient
    assert error.finding is not None
    assert error.finding.code == code
    if status == 409:
        assert error.reason == reason  # AlreadyExists (create) vs Conflict (stale resourceVersion)


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(
            MaxRetryError(None, "/version", NewConnectionError(None, "[Errno 111] Connection refused")),
            id="urllib3-refused",
        ),
        pytest.param(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), id="refused"),
        pytest.param(TimeoutError(), id="timeout"),
        pytest.param(socket.gaierror(-2, "Name or service not known"), id="dns"),
        pytest.param(ssl.SSLCertVerificationError("certificate verify failed"), id="tls"),
        pytest.param(OSError(errno.ENETUNREACH, "Network is unreachable"), id="raw-unreachable"),
    ],
)
def test_no_response_is_a_transient_network_error(exc):
    assert is_client_error(exc)
    error = translate(exc, server=SERVER)
    assert type(error) is ClusterAccessError
    assert error.status is None
    assert error.transient is True
    assert error.finding is not None
    assert error.finding.code.startswith(("NET_", "TLS_"))


def test_classes_that_no_resend_can_fix_stay_permanent_without_a_status():
    assert InvalidSpecError("rejected before sending").transient is False
    assert NotFoundError("gone").transient is False
    assert ClusterAccessError("no response").transient is True
    assert ClusterAccessError("gone", status=410).transient is False


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(AttributeError("'NoneType' object has no attribute 'items'"), id="attribute-error"),
        pytest.param(KeyError("metadata"), id="key-error"),
        pytest.param(FileNotFoundError(errno.ENOENT, "No such file", "/tmp/x"), id="file-not-found"),
        pytest.param(PermissionError(errno.EACCES, "Permission denied", "/etc/x"), id="local-permission"),
        pytest.param(OSError(errno.ENOSPC, "No space left on device"), id="disk-full"),
    ],
)
def test_a_bug_or_a_local_file_error_is_not_a_client_error(exc):
    """Regression: translate(AttributeError) was NET_REQUEST_FAILED, and every OSError counted as the cluster's."""
    assert not is_client_error(exc)
    with pytest.raises(TypeError, match="not a Kubernetes client error"):
        translate(exc, server=SERVER)


def test_diagnosed_block_lets_a_local_file_error_through_unchanged(tmp_path):
    """Regression: a FileNotFoundError inside ``hook.diagnosed`` became a transient NET_UNREACHABLE."""
    hook = K8sReconcileHook(environ={"HOME": str(tmp_path)})
    with pytest.raises(FileNotFoundError), hook.diagnosed("read a local file"):
        (tmp_path / "missing.yaml").read_text()


def test_diagnosed_block_translates_a_client_error():
    hook = K8sReconcileHook(environ={})
    with pytest.raises(NotFoundError) as raised, hook.diagnosed("read configmap x"):
        raise _api_error(ApiException, 404, "NotFound")
    assert isinstance(raised.value.__cause__, ApiException)
    assert raised.value.transient is False
