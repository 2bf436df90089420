from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from airflow_k8s_reconcile.domain.connection.credentials.auth_provider import auth_provider_token
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    describe_credential,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _jwt(exp: datetime) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'alice', 'exp': int(exp.timestamp())})}.sig"


def test_valid_oidc_id_token_is_used_as_bearer_token():
    token = _jwt(NOW + timedelta(hours=1))
    credential = auth_provider_token(
        AuthProviderCredential(name="oidc", config={"id-token": token}), label="user 'u'", now=NOW
    )
    assert credential.token == token
    assert credential.expires_at == NOW + timedelta(hours=1)


def test_expired_oidc_id_token_names_the_expiry_and_the_migration():
    credential = AuthProviderCredential(name="oidc", config={"id-token": _jwt(NOW - timedelta(minutes=5))})
    with pytest.raises(ConnectionConfigError) as err:
        auth_provider_token(credential, label="user 'u'", now=NOW)
    assert err.value.code == "CONN_AUTH_PROVIDER_UNSUPPORTED"
    assert "expired at 2026-05-01T11:55:00Z" in str(err.value)
    assert "kubelogin" in err.value.finding.fix


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        pytest.param({}, "holds no access-token", id="no-token"),
        pytest.param(
            {"access-token": "ya29.x", "expiry": "2026-05-01T11:00:00Z"}, "expired at", id="expired"
        ),
    ],
)
def test_gcp_provider_needs_a_current_token(config, fragment):
    with pytest.raises(ConnectionConfigError) as err:
        auth_provider_token(AuthProviderCredential(name="gcp", config=config), label="user 'g'", now=NOW)
    assert fragment in str(err.value)
    assert "gke-gcloud-auth-plugin" in err.value.finding.fix
    assert "ya29" not in str(err.value)


def test_current_gcp_token_is_used():
    config = {"access-token": "ya29.current", "expiry": "2026-05-01T13:00:00Z"}
    assert (
        auth_provider_token(AuthProviderCredential(name="gcp", config=config), label="g", now=NOW).token
        == "ya29.current"
    )


def test_gcp_expiry_without_utc_offset_is_read_as_utc_not_a_type_error():
    credential = AuthProviderCredential(
        name="gcp", config={"access-token": "ya29.x", "expiry": "2026-05-01T11:00:00"}
    )
    with pytest.raises(ConnectionConfigError) as err:
        auth_provider_token(credential, label="user 'u'", now=NOW)
    assert err.value.code == "CONN_AUTH_PROVIDER_UNSUPPORTED"
    assert "expired at 2026-05-01T11:00:00Z" in err.value.finding.cause
    fresh = AuthProviderCredential(
        name="gcp", config={"access-token": "ya29.x", "expiry": "2026-05-01T13:00:00"}
    )
    assert auth_provider_token(fresh, label="user 'u'", now=NOW).expires_at == NOW + timedelta(hours=1)


def test_oidc_token_with_an_out_of_range_exp_is_used_without_an_expiry_not_an_overflow():
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'alice', 'exp': 10**20})}.sig"
    credential = auth_provider_token(
        AuthProviderCredential(name="oidc", config={"id-token": token}), label="user 'u'", now=NOW
    )
    assert (credential.token, credential.expires_at) == (token, None)


def test_oidc_token_with_an_out_of_range_exp_is_a_finding_when_the_connection_is_described():
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'alice', 'exp': 10**20})}.sig"
    summary, findings = describe_credential(
        AuthProviderCredential(name="oidc", config={"id-token": token}), owner="user 'u'", now=NOW
    )
    assert [f.code for f in findings] == ["CONN_TOKEN_BAD_EXPIRY"]
    assert "100000000000000000000" in findings[0].cause
    assert "id-token of the oidc auth-provider of user 'u'" in findings[0].cause
    assert token not in findings[0].cause
    assert summary["kind"] == "auth provider oidc"


def test_expired_oidc_token_is_left_to_the_auth_provider_diagnosis_with_its_migration_fix():
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'alice', 'exp': int(NOW.timestamp()) - 60})}.sig"
    _, findings = describe_credential(
        AuthProviderCredential(name="oidc", config={"id-token": token}), owner="user 'u'", now=NOW
    )
    assert findings == []
    with pytest.raises(ConnectionConfigError) as err:
        auth_provider_token(
            AuthProviderCredential(name="oidc", config={"id-token": token}), label="u", now=NOW
        )
    assert err.value.code == "CONN_AUTH_PROVIDER_UNSUPPORTED"
    assert "kubelogin" in err.value.finding.fix
