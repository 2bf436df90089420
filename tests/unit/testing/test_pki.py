from __future__ import annotations

import datetime
import ipaddress
import stat

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from airflow_k8s_reconcile.testing.pki import write_pki


def test_serving_certificate_is_signed_by_the_ca_for_loopback_and_service_names(tmp_path):
    paths = write_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    serving = x509.load_pem_x509_certificate(paths.serving_cert.read_bytes())
    serving.verify_directly_issued_by(ca)
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "kubernetes.default.svc"} <= set(sans.get_values_for_type(x509.DNSName))
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    eku = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_certificates_are_valid_now_and_backdated_for_clock_skew(tmp_path):
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    paths = write_pki(tmp_path, now=now)
    cert = x509.load_pem_x509_certificate(paths.serving_cert.read_bytes())
    assert cert.not_valid_before_utc < now < cert.not_valid_after_utc


def test_private_material_is_readable_by_the_owner_only(tmp_path):
    paths = write_pki(tmp_path)
    for path in (paths.ca_key, paths.serving_key, paths.sa_private_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PUBLIC KEY" in paths.sa_public_key.read_bytes()
