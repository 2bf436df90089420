from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.redaction import redact_text, redact_url
from airflow_k8s_reconcile.domain.connection.credentials.exec_plugin import (
    exec_request_env,
    interpret_exec_output,
)
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    ClientCertCredential,
    ExecCredential,
    ExecSpec,
    NoCredential,
    TokenCredential,
    decode_jwt_claims,
    describe_credential,
    fingerprint,
    inspect_ca_bundle,
    inspect_client_certificate,
    inspect_token,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status
from airflow_k8s_reconcile.testing import certs

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def jwt(claims: dict[str, Any], *, signature: str = "SECRET-SIGNATURE") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'k1'})}.{part(claims)}.{signature}"


def cert_and_key(
    *, cn: str = "system:admin", org: str = "system:masters", start: timedelta = -timedelta(days=1),
    lifetime: timedelta = timedelta(days=365),
) -> tuple[bytes, bytes]:  # fmt: skip
    return certs.self_signed(cn, organization=org, not_before=NOW + start, not_after=NOW + start + lifetime)


SA_CLAIMS = {
    "iss": "https://kubernetes.default.svc",
    "sub": "system:serviceaccount:airflow:airflow-worker",
    "aud": ["https://kubernetes.default.svc"],
    "iat": int((NOW - timedelta(minutes=5)).timestamp()),
    "nbf": int((NOW - timedelta(minutes=5)).timestamp()),
    "exp": int((NOW + timedelta(hours=1)).timestamp()),
    "kubernetes.io": {
        "namespace": "airflow",
        "serviceaccount": {"name": "airflow-worker", "uid": "1"},
        "pod": {"name": "worker-0", "uid": "2"},
    },
}


# --- tokens ----------------------------------------------------------------------------------------------------


def test_fingerprint_is_sha256_prefix() -> None:
    assert fingerprint("abc") == "sha256:ba7816bf"
    assert fingerprint(b"abc") == "sha256:ba7816bf"


def test_decode_jwt_claims_without_verifying() -> None:
    assert decode_jwt_claims(jwt({"sub": "x"})) == {"sub": "x"}
    assert decode_jwt_claims("SECRET-TOKEN-opaque") is None
    assert decode_jwt_claims("a.b.c") is None
    assert decode_jwt_claims(jwt({"sub": "x"}).replace(".", "..", 1)) is None


def test_inspect_token_shows_only_public_claims() -> None:
    token = jwt(SA_CLAIMS)
    summary, findings = inspect_token(token, origin="service_account_token_file", label="token", now=NOW)
    assert findings == []
    assert summary["jwt"] is True
    assert summary["fingerprint"] == fingerprint(token)
    assert summary["expires_at"] == "2026-05-01T13:00:00Z"
    assert summary["claims"] == {
        "iss": "https://kubernetes.default.svc",
        "sub": "system:serviceaccount:airflow:airflow-worker",
        "aud": ["https://kubernetes.default.svc"],
        "exp": "2026-05-01T13:00:00Z",
        "iat": "2026-05-01T11:55:00Z",
        "nbf": "2026-05-01T11:55:00Z",
        "kubernetes.io/namespace": "airflow",
        "kubernetes.io/serviceaccount": "airflow-worker",
    }
    assert "SECRET-SIGNATURE" not in json.dumps(summary)


def test_inspect_token_reads_legacy_secret_token_claims() -> None:
    legacy = {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "jobs",
        "kubernetes.io/serviceaccount/service-account.name": "runner",
        "kubernetes.io/serviceaccount/secret.name": "runner-token-abc",
    }
    summary, findings = inspect_token(jwt(legacy), origin="kubeconfig_token", label="t", now=NOW)
    assert findings == []
    claims = summary["claims"]
    assert isinstance(claims, dict)
    assert (claims["kubernetes.io/namespace"], claims["kubernetes.io/serviceaccount"]) == ("jobs", "runner")
    assert "secret.name" not in json.dumps(summary)


@pytest.mark.parametrize(
    ("claims", "code", "status", "fragments"),
    [
        pytest.param({"exp": int((NOW - timedelta(minutes=37)).timestamp())}, codes.CONN_TOKEN_EXPIRED, Status.FAIL,
                     ["expired at 2026-05-01T11:23:00Z", "37 minutes ago"], id="expired"),
        pytest.param({"exp": int((NOW + timedelta(minutes=4)).timestamp())}, codes.CONN_TOKEN_EXPIRING, Status.WARN,
                     ["in 4 minutes"], id="expiring"),
        pytest.param({"exp": int((NOW + timedelta(hours=2)).timestamp()),
                      "nbf": int((NOW + timedelta(hours=1)).timestamp())},
                     codes.CONN_TOKEN_NOT_YET_VALID, Status.FAIL, ["2026-05-01T13:00:00Z", "clock"], id="not-yet"),
    ],
)  # fmt: skip
def test_inspect_token_validity_window(
    claims: dict[str, Any], code: str, status: Status, fragments: list[str]
) -> None:
    _, findings = inspect_token(jwt(claims), origin="kubeconfig_token", label="token of user 'u'", now=NOW)
    assert [(item.code, item.status) for item in findings] == [(code, status)]
    for fragment in fragments:
        assert fragment in findings[0].render()


def test_inspect_token_opaque_token_has_fingerprint_only() -> None:
    summary, findings = inspect_token("SECRET-TOKEN-opaque", origin="kubeconfig_token", label="t", now=NOW)
    assert summary == {"fingerprint": fingerprint("SECRET-TOKEN-opaque"), "length": 19, "jwt": False}
    assert findings == []


# --- client certificates and CA bundles ------------------------------------------------------------------------


def test_inspect_client_certificate_valid_pair() -> None:
    cert, key = cert_and_key()
    summary, findings = inspect_client_certificate(cert, key, label="user 'admin'", now=NOW)
    assert findings == []
    assert summary["common_name"] == "system:admin"
    assert summary["organizations"] == ["system:masters"]
    assert summary["not_after"] == "2027-04-30T12:00:00Z"
    assert str(summary["sha256"]).startswith("sha256:")


@pytest.mark.parametrize(
    ("start", "lifetime", "code", "fragments"),
    [
        pytest.param(-timedelta(days=400), timedelta(days=365), codes.CONN_CLIENT_CERT_EXPIRED,
                     ["expired at 2026-03-27T12:00:00Z", "35 days ago"], id="expired-g12"),
        pytest.param(timedelta(hours=2), timedelta(days=365), codes.CONN_CLIENT_CERT_NOT_YET_VALID,
                     ["valid only from 2026-05-01T14:00:00Z"], id="not-yet-valid"),
        pytest.param(-timedelta(days=360), timedelta(days=365), codes.CONN_CLIENT_CERT_EXPIRING, ["in 5 days"],
                     id="expiring"),
    ],
)  # fmt: skip
def test_inspect_client_certificate_validity(
    start: timedelta, lifetime: timedelta, code: str, fragments: list[str]
) -> None:
    cert, key = cert_and_key(start=start, lifetime=lifetime)
    _, findings = inspect_client_certificate(cert, key, label="user 'admin'", now=NOW)
    assert [item.code for item in findings] == [code]
    for fragment in fragments:
        assert fragment in findings[0].cause


def test_inspect_client_certificate_key_mismatch_g10() -> None:
    cert, _ = cert_and_key()
    _, other_key = cert_and_key()
    _, findings = inspect_client_certificate(cert, other_key, label="user 'admin'", now=NOW)
    assert [item.code for item in findings] == [codes.CONN_CLIENT_KEY_MISMATCH]
    assert "CN=system:admin" in findings[0].cause


@pytest.mark.parametrize(
    ("cert", "key", "fragment"),
    [
        pytest.param(b"", None, "client certificate of user 'u' is empty", id="empty-cert"),
        pytest.param(b"not a pem SECRET", None, "contains no PEM certificate", id="garbage-cert"),
        pytest.param("base64-cert", None, "looks base64-encoded", id="base64-cert"),
        pytest.param(None, b"-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n", "client key",
                     id="garbage-key"),
        pytest.param(None, b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nSECRET\n-----END ENCRYPTED PRIVATE KEY-----\n",
                     "encrypted with a passphrase", id="encrypted-key"),
    ],
)  # fmt: skip
def test_inspect_client_certificate_bad_pem(
    cert: bytes | str | None, key: bytes | None, fragment: str
) -> None:
    good_cert, good_key = cert_and_key()
    if cert == "base64-cert":
        cert = base64.b64encode(good_cert)
    _, findings = inspect_client_certificate(
        good_cert if cert is None else cert,  # type: ignore[arg-type]
        good_key if key is None else key,
        label="user 'u'",
        now=NOW,
    )
    assert findings[0].code == codes.CONN_BAD_PEM
    assert fragment in findings[0].cause
    assert "SECRET" not in findings[0].render()


def test_inspect_ca_bundle() -> None:
    ca, _ = cert_and_key(cn="kubernetes-ca")
    old, _ = cert_and_key(cn="old-ca", start=-timedelta(days=800))
    summary, findings = inspect_ca_bundle(ca + old, label="CA", now=NOW)
    assert findings == []
    assert summary == {"certificates": 2, "subjects": ["CN=kubernetes-ca", "CN=old-ca"]}
    _, findings = inspect_ca_bundle(old, label="CA file '/ca.crt'", now=NOW)
    assert [item.code for item in findings] == [codes.CONN_CA_EXPIRED]
    _, findings = inspect_ca_bundle(b"junk", label="CA file '/ca.crt'", now=NOW)
    assert [item.code for item in findings] == [codes.CONN_BAD_PEM]
    assert "'/ca.crt'" in findings[0].cause


# --- describe_credential ---------------------------------------------------------------------------------------


def test_describe_credential_kinds() -> None:
    spec = ExecSpec(
        command="/usr/bin/aws", api_version="client.authentication.k8s.io/v1", env=(("K", "SECRET"),)
    )
    token = jwt(SA_CLAIMS)
    cases: list[tuple[Any, str]] = [
        (TokenCredential(token=token, origin="service_account_token_file", token_file="/t"), "service-account token file"),
        (TokenCredential(token="SECRET-TOKEN", origin="kubeconfig_token"), "bearer token"),
        (ExecCredential(spec=spec), "exec plugin aws"),
        (NoCredential(), "none"),
    ]  # fmt: skip
    for credential, kind in cases:
        summary, _ = describe_credential(credential, owner="user 'u'", now=NOW)
        assert summary["kind"] == kind
        assert "SECRET" not in json.dumps(summary)
    cert, key = cert_and_key()
    summary, _ = describe_credential(
        ClientCertCredential(cert_pem=cert, key_pem=key), owner="user 'u'", now=NOW
    )
    assert (summary["kind"], summary["subject"]) == ("client certificate", "CN=system:admin")


# --- exec plugins ----------------------------------------------------------------------------------------------

SPEC = ExecSpec(
    command="aws",
    args=("eks", "get-token"),
    env=(("AWS_PROFILE", "SECRET-PROFILE"),),
    api_version="client.authentication.k8s.io/v1beta1",
    install_hint="Install the AWS CLI: https://aws.amazon.com/cli/",
)


def exec_output(status: dict[str, Any] | None = None, **top: Any) -> str:
    doc: dict[str, Any] = {"apiVersion": SPEC.api_version, "kind": "ExecCredential", **top}
    if status is not None:
        doc["status"] = status
    return json.dumps(doc)


def run(stdout: str | bytes = "", **kwargs: Any) -> Any:
    outcome: dict[str, Any] = {
        "returncode": 0,
        "stderr": "",
        "timed_out": False,
        "not_found": False,
        **kwargs,
    }
    return interpret_exec_output(SPEC, stdout=stdout, now=NOW, **outcome)


def test_interpret_exec_output_token_with_expiry() -> None:
    stdout = exec_output({"token": "SECRET-TOKEN-exec", "expirationTimestamp": "2026-05-01T12:15:00Z"})
    credential = run(stdout)
    assert isinstance(credential, TokenCredential)
    assert (credential.token, credential.origin) == ("SECRET-TOKEN-exec", "exec_plugin")
    assert credential.expires_at == datetime(2026, 5, 1, 12, 15, tzinfo=UTC)
    assert "SECRET-TOKEN-exec" not in repr(credential)


def test_interpret_exec_output_client_certificate() -> None:
    credential = run(exec_output({"clientCertificateData": "CERT", "clientKeyData": "SECRET-KEY"}))
    assert isinstance(credential, ClientCertCredential)
    assert (credential.cert_pem, credential.key_pem) == (b"CERT", b"SECRET-KEY")


@pytest.mark.parametrize(
    ("kwargs", "code", "fragments"),
    [
        pytest.param({"not_found": True}, codes.CONN_EXEC_NOT_FOUND, ["'aws'", "Install the AWS CLI"], id="b15"),
        pytest.param({"returncode": 127}, codes.CONN_EXEC_NOT_FOUND, ["PATH"], id="exit-127"),
        pytest.param({"timed_out": True, "returncode": None}, codes.CONN_EXEC_TIMEOUT, ["time limit"], id="timeout"),
        pytest.param({"returncode": 255, "stderr": 'Unable to locate credentials. You can configure credentials by '
                      'running "aws configure".'}, codes.CONN_EXEC_FAILED,
                     ["status 255", "Unable to locate credentials"], id="b16-aws"),
        pytest.param({"returncode": 1, "stderr": b"error: token=SECRET-TOKEN-err Authorization: Bearer SECRET-B\n"},
                     codes.CONN_EXEC_FAILED, ["token=[redacted]", "Bearer [redacted]"], id="stderr-redacted"),
        pytest.param({"returncode": 254, "stderr": "The config profile (SECRET-PROFILE) could not be found"},
                     codes.CONN_EXEC_FAILED, ["profile ([redacted]) could not"], id="stderr-env-value-redacted"),
        pytest.param({"returncode": 126}, codes.CONN_EXEC_FAILED, ["permission denied", "printed nothing"],
                     id="not-executable"),
        pytest.param({"stdout": "SECRET-TOKEN-plain"}, codes.CONN_EXEC_BAD_OUTPUT,
                     ["not JSON", "line 1 column 1"], id="b17-not-json"),
        pytest.param({"stdout": b"\xff\xfe"}, codes.CONN_EXEC_BAD_OUTPUT, ["not UTF-8"], id="not-utf8"),
        pytest.param({"stdout": '["SECRET-TOKEN-list"]'}, codes.CONN_EXEC_BAD_OUTPUT, ["not a JSON object"],
                     id="not-object"),
        pytest.param({"stdout": exec_output({"token": "SECRET-TOKEN-v"}, apiVersion="client.authentication.k8s.io/v1alpha1")},
                     codes.CONN_EXEC_BAD_OUTPUT, ["'client.authentication.k8s.io/v1alpha1'", "asks for"],
                     id="b17-wrong-api-version"),
        pytest.param({"stdout": exec_output({"token": "SECRET-TOKEN-v"}, apiVersion="SECRET TOKEN as version!")},
                     codes.CONN_EXEC_BAD_OUTPUT, ["unexpected value"], id="api-version-not-echoed"),
        pytest.param({"stdout": exec_output({"token": "SECRET-TOKEN-k"}, kind="Secret")}, codes.CONN_EXEC_BAD_OUTPUT,
                     ["kind other than"], id="wrong-kind"),
        pytest.param({"stdout": exec_output()}, codes.CONN_EXEC_BAD_OUTPUT, ["'status'"], id="b17-no-status"),
        pytest.param({"stdout": exec_output({})}, codes.CONN_EXEC_BAD_OUTPUT, ["no usable token"], id="no-token"),
        pytest.param({"stdout": exec_output({"clientCertificateData": "CERT"})}, codes.CONN_EXEC_BAD_OUTPUT,
                     ["clientKeyData"], id="b19-cert-without-key"),
        pytest.param({"stdout": exec_output({"token": "SECRET-TOKEN-t", "expirationTimestamp": "soon"})},
                     codes.CONN_EXEC_BAD_OUTPUT, ["RFC 3339"], id="bad-expiry"),
        pytest.param({"stdout": exec_output({"token": "SECRET-TOKEN-t", "expirationTimestamp": "2026-05-01T11:00:00Z"})},
                     codes.CONN_EXEC_CREDENTIAL_EXPIRED, ["2026-05-01T11:00:00Z", "clock"], id="expired"),
    ],
)  # fmt: skip
def test_interpret_exec_output_diagnoses(kwargs: dict[str, Any], code: str, fragments: list[str]) -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        run(**kwargs)
    err = excinfo.value
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)
    assert "SECRET" not in str(err)
    assert "SECRET" not in json.dumps([item.to_dict() for item in err.findings])
    assert err.__context__ is None


def test_exec_request_env_passes_cluster_info_only_when_asked() -> None:
    env = exec_request_env(SPEC, server="https://a:6443", ca_pem=b"CA")
    assert env["AWS_PROFILE"] == "SECRET-PROFILE"
    assert json.loads(env["KUBERNETES_EXEC_INFO"]) == {
        "apiVersion": SPEC.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    spec = ExecSpec(command="x", api_version=SPEC.api_version, provide_cluster_info=True)
    info = json.loads(exec_request_env(spec, server="https://a:6443", ca_pem=b"CA")["KUBERNETES_EXEC_INFO"])
    assert info["spec"]["cluster"] == {
        "server": "https://a:6443",
        "insecure-skip-tls-verify": False,
        "certificate-authority-data": base64.b64encode(b"CA").decode(),
    }


# --- redaction -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        pytest.param("Authorization: Bearer abc.def", ["abc.def"], ["Bearer [redacted]"], id="bearer"),
        pytest.param(f"got {jwt({'sub': 'x'})} back", ["eyJ"], ["got", "back"], id="jwt"),
        pytest.param('{"token": "SECRET-TOKEN-x"}', ["SECRET-TOKEN-x"], ["token"], id="json-token"),
        pytest.param("password=hunter2 user=bob", ["hunter2"], ["user=bob"], id="password"),
        pytest.param("proxy http://bob:PASS@p:3128 failed", ["PASS"], ["***@p:3128"], id="url"),
        pytest.param("key AKIAABCDEFGHIJKLMNOP used", ["AKIAABCDEFGHIJKLMNOP"], ["key"], id="aws-key"),
        pytest.param("opaque 9f8e7d6c5b4a39281706f5e4d3c2b1a0 end", ["9f8e7d6c5b4a"], ["opaque", "end"], id="hex"),
        pytest.param("see /usr/local/bin/aws-iam-authenticator now", [], ["/usr/local/bin/aws-iam-authenticator"],
                     id="paths-kept"),
        pytest.param("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", ["MIIE"],
                     ["[redacted PEM]"], id="pem"),
    ],
)  # fmt: skip
def test_redact_text(text: str, hidden: list[str], kept: list[str]) -> None:
    out = redact_text(text)
    for item in hidden:
        assert item not in out
    for item in kept:
        assert item in out


def test_redact_text_trims_and_redact_url() -> None:
    assert redact_text("x" * 1000, limit=50).endswith("…")
    assert len(redact_text("word " * 500, limit=50)) == 50
    assert redact_url("http://user:pass@proxy:3128/path") == "http://***@proxy:3128/path"
    assert redact_url("http://proxy:3128") == "http://proxy:3128"
