"""Certificates and keys for the local control plane, made with ``cryptography`` (no shell ``openssl``).

A throwaway CA signs the API server's serving certificate (SANs ``127.0.0.1``, ``localhost``,
``kubernetes.default.svc`` and friends, ``extendedKeyUsage=serverAuth``). A separate RSA key pair signs service
account tokens. Files holding private material are written with mode 0600.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from airflow_k8s_reconcile.testing import certs

SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", "::1", "10.0.0.1")
_VALIDITY = datetime.timedelta(days=30)


@dataclasses.dataclass(frozen=True, slots=True)
class PkiPaths:
    """Where :func:`write_pki` put each file."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    sa_private_key: Path
    sa_public_key: Path


def _write(path: Path, data: bytes, *, private: bool) -> None:
    path.write_bytes(data)
    path.chmod(0o600 if private else 0o644)


def write_pki(directory: Path, *, now: datetime.datetime | None = None) -> PkiPaths:
    """Generate the CA, the serving certificate and the service-account key pair into ``directory``.

    :param directory: existing directory; files are overwritten.
    :param now: certificate start time (defaults to the current UTC time, backdated a minute for clock skew).
    :return: the paths written.
    """
    start = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(minutes=1)
    ca_cert, ca_key = certs.self_signed(
        "airflow-k8s-reconcile local CA", not_before=start, not_after=start + _VALIDITY, ca=True
    )
    serving_cert, serving_key = certs.issue(
        "kube-apiserver",
        ca_cert=ca_cert,
        ca_key=ca_key,
        not_before=start,
        not_after=start + _VALIDITY,
        sans=(*SERVING_DNS_NAMES, *SERVING_IPS),
        server_auth=True,
    )
    # Service-account tokens are RS256-signed by default; kube-apiserver 1.20 expects an RSA key here.
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    paths = PkiPaths(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        sa_private_key=directory / "sa.key",
        sa_public_key=directory / "sa.pub",
    )
    _write(paths.ca_cert, ca_cert, private=False)
    _write(paths.ca_key, ca_key, private=True)
    _write(paths.serving_cert, serving_cert, private=False)
    _write(paths.serving_key, serving_key, private=True)
    _write(paths.sa_private_key, certs.key_pem(sa_key), private=True)
    _write(
        paths.sa_public_key,
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        private=False,
    )
    return paths
