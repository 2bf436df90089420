"""Certificates for tests: self-signed, CA-issued, expired or not yet valid, made with ``cryptography``.

Used by the local control plane's PKI, the fault server, and tests that need real certificate material (client
certificates, mismatched keys, expired serving certificates).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        CertificateIssuerPublicKeyTypes,
        CertificatePublicKeyTypes,
        PrivateKeyTypes,
    )

PrivateKey = ec.EllipticCurvePrivateKey


def new_key() -> PrivateKey:
    """Return a new P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKeyTypes) -> bytes:
    """Return a private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    """Return a certificate as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def name(common_name: str, organization: str | None = None) -> x509.Name:
    """Return an X.509 name with a CN and, optionally, an O (Kubernetes reads O as the user's groups)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def build(
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    *,
    issuer: x509.Name,
    signing_key: CertificateIssuerPrivateKeyTypes,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    ca: bool = False,
    sans: Sequence[str] = (),
    server_auth: bool = False,
    issuer_public_key: CertificateIssuerPublicKeyTypes | None = None,
) -> x509.Certificate:
    """Build and sign one certificate.

    :param sans: DNS names or IP addresses for the SubjectAlternativeName extension.
    :param server_auth: add ``extendedKeyUsage=serverAuth``.
    """
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    # Key identifiers and a CA key usage keep strict verifiers (OpenSSL X509_STRICT, Go) satisfied.
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    if ca:
        usage = {
            k: False
            for k in (
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "encipher_only",
                "decipher_only",
            )
        }
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), critical=True
        )
    if issuer_public_key is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    if sans:
        names: list[x509.GeneralName] = []
        for entry in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(entry)))
            except ValueError:
                names.append(x509.DNSName(entry))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if server_auth:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def self_signed(
    common_name: str,
    *,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    organization: str | None = None,
    ca: bool = False,
) -> tuple[bytes, bytes]:
    """Return ``(certificate PEM, key PEM)`` of a self-signed certificate."""
    key = new_key()
    subject = name(common_name, organization)
    cert = build(
        subject,
        key.public_key(),
        issuer=subject,
        signing_key=key,
        not_before=not_before,
        not_after=not_after,
        ca=ca,
    )
    return cert_pem(cert), key_pem(key)


def issue(
    common_name: str,
    *,
    ca_cert: bytes,
    ca_key: bytes,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    organization: str | None = None,
    sans: Sequence[str] = (),
    server_auth: bool = False,
) -> tuple[bytes, bytes]:
    """Return ``(certificate PEM, key PEM)`` of a certificate signed by the given CA."""
    issuer = x509.load_pem_x509_certificate(ca_cert)
    signing_key = serialization.load_pem_private_key(ca_key, password=None)
    if not isinstance(signing_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"unsupported CA key type {type(signing_key).__name__}")
    key = new_key()
    cert = build(
        name(common_name, organization),
        key.public_key(),
        issuer=issuer.subject,
        signing_key=signing_key,
        not_before=not_before,
        not_after=not_after,
        sans=sans,
        server_auth=server_auth,
        issuer_public_key=signing_key.public_key(),
    )
    return cert_pem(cert), key_pem(key)
