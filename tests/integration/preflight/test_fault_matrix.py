"""Every network, TLS and HTTP failure through ``doctor --json``, ``preflight()``, ``apreflight()``, the operator and the trigger.

Each case asserts the exact code of the first failing finding, that it carries a fix, that the checks after it are
skipped naming the failed check, and that no traceback appears anywhere. Faults a real API server cannot produce
come from the fault server (the only fake); DNS failures use names under ``.invalid`` (RFC 6761 §6.4: never
resolves) and, for "resolver unreachable", a private mount namespace (``unshare -rm``, no root needed) whose
``/etc/resolv.conf`` names a resolver nobody answers for.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
from airflow_k8s_reconcile.domain.preflight.outcome import TRANSIENT_CODES
from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
from airflow_k8s_reconcile.hooks.preflight import apreflight, preflight
from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator
from airflow_k8s_reconcile.sensors.preflight import K8sApiReachableSensor
from airflow_k8s_reconcile.testing.fault_server import WRONG_NAME, FaultServer
from airflow_k8s_reconcile.testing.pki import write_pki
from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger

FIELDS = ConnectionFields("<test>", CONN_TYPE, {}, found=False)
CLI = [sys.executable, "-m", "airflow_k8s_reconcile.cli.main"]
SPEC = "get,list:configmaps"


def _kubeconfig(tmp_path: Path, name: str, server: str, ca: bytes, token: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca).decode()},
            }
        ],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        "current-context": "x",
    }
    path = tmp_path / f"{name}.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def _first_failure(findings: list[dict]) -> dict:
    return next(f for f in findings if f["status"] == "fail")


def _assert_report(report: dict, expected: str, secret: str) -> None:
    assert report["verdict"] == "fail", report
    failed = _first_failure(report["findings"])
    assert failed["code"] == expected, json.dumps(report, indent=1)
    assert failed["fix"]
    text = json.dumps(report)
    assert "Traceback" not in text
    assert secret not in text
    lines = report["checks"]
    failed_line = next(line for line in lines if line["status"] == "fail")
    assert failed_line["code"] == expected
    after = lines[lines.index(failed_line) + 1 :]
    assert after
    assert all(line["status"] == "skipped" for line in after)
    skipped = [f for f in report["findings"] if f["code"] == "CHECK_SKIPPED"]
    assert {f["evidence"]["blocked_by"] for f in skipped} == {failed_line["id"]}
    assert "turn verification off" not in failed["fix"].replace("Do not turn verification off", "")


def _three_ways(kubeconfig: Path, expected: str, secret: str, env: dict | None = None) -> None:
    doctor = subprocess.run(
        [*CLI, "doctor", "--kubeconfig", str(kubeconfig), "--require", SPEC, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "Traceback" not in doctor.stderr
    _assert_report(json.loads(doctor.stdout), expected, secret)
    args = {"auth_mode": "kubeconfig_file", "kube_config_path": str(kubeconfig)}
    from airflow_k8s_reconcile.domain.preflight.permissions import parse_spec

    permissions = [parse_spec(SPEC)]
    environ = env or dict(os.environ)
    _assert_report(
        preflight(args, FIELDS, permissions=permissions, environ=environ).to_dict(), expected, secret
    )
    report = asyncio.run(apreflight(args, FIELDS, permissions=permissions, environ=environ))
    _assert_report(report.to_dict(), expected, secret)


# One table for every path: doctor --json, preflight(), apreflight(), the operator and the trigger.
FAULT_CASES = [
    pytest.param("full-backlog", 0, "NET_CONNECT_TIMEOUT", id="tcp-silent-drop"),
    pytest.param("hang", 0, "NET_READ_TIMEOUT", id="hang"),
    pytest.param("reset", 0, "NET_CONNECTION_RESET", id="reset"),
    pytest.param("plain-http", 0, "TLS_WRONG_PROTOCOL", id="plain-http"),
    pytest.param("expired-tls", 0, "TLS_CERT_EXPIRED", id="expired"),
    pytest.param("not-yet-valid-tls", 0, "TLS_CERT_NOT_YET_VALID", id="not-yet-valid"),
    pytest.param("wrong-name-tls", 0, "TLS_HOSTNAME_MISMATCH", id="wrong-name"),
    pytest.param("status", 503, "API_NOT_READY", id="503"),
    pytest.param("status", 429, "API_RATE_LIMITED", id="429"),
]


@pytest.mark.parametrize(("mode", "status", "expected"), FAULT_CASES)
def test_fault_server(reader, tmp_path, mode, status, expected):
    with FaultServer(mode, status=status or 503) as server:
        ca = server.ca_path.read_bytes() if server.ca_path else write_pki(tmp_path).ca_cert.read_bytes()
        kubeconfig = _kubeconfig(tmp_path, mode, server.url, ca, reader.token)
        _three_ways(kubeconfig, expected, reader.token)
        if mode == "wrong-name-tls":
            report = preflight({"kube_config_path": str(kubeconfig)}, FIELDS)
            failed = next(f for f in report.findings if f.status.value == "fail")
            assert f"tls_server_name to {WRONG_NAME!r}" in failed.fix
            assert failed.evidence["sans"] == WRONG_NAME


@contextlib.contextmanager
def _served(tmp_path: Path, mode, status: int, token: str) -> Iterator[Path]:
    """Serve the fault; yield a kubeconfig for it (trusting its CA, or an unrelated one for non-TLS faults)."""
    with FaultServer(mode, status=status or 503) as server:
        ca = server.ca_path.read_bytes() if server.ca_path else write_pki(tmp_path).ca_cert.read_bytes()
        yield _kubeconfig(tmp_path, mode, server.url, ca, token)


def _assert_actionable(message: str, expected: str, secret: str) -> None:
    """The code of the failing finding and its fix are in the text; no traceback, no secret."""
    assert f"[{expected}] Fix: " in message, message
    assert message.split(f"[{expected}] Fix: ", 1)[1].strip()
    assert "Traceback" not in message
    assert secret not in message


@pytest.mark.parametrize(("mode", "status", "expected"), FAULT_CASES)
def test_fault_through_the_preflight_operator(reader, tmp_path, connection, mode, status, expected):
    with _served(tmp_path, mode, status, reader.token) as kubeconfig:
        conn_id = connection("pf_fault", {"kube_config_path": str(kubeconfig)})
        operator = K8sPreflightOperator(
            task_id="preflight", k8s_reconcile_conn_id=conn_id, permissions=[SPEC]
        )
        with pytest.raises(AirflowFailException) as raised:
            operator.execute(context={})
    _assert_actionable(str(raised.value), expected, reader.token)


class _Log:
    """Stands in for the trigger's logger: keeps each line, as the triggerer's log would show it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.polled = asyncio.Event()

    def info(self, msg: str, *args: object) -> None:
        self.lines.append(msg % args)
        self.polled.set()

    debug = warning = error = info


@pytest.mark.parametrize(("mode", "status", "expected"), FAULT_CASES)
def test_fault_through_the_api_reachable_trigger(
    reader, tmp_path, connection, monkeypatch, mode, status, expected
):
    """What waiting can fix (no answer, 429/5xx), the trigger waits through, logging the code and fix of each poll;
    what it cannot (TLS), fires at once with a failed event naming the code and fix."""
    log = _Log()
    monkeypatch.setattr(K8sPreflightTrigger, "log", log)
    transient = expected in TRANSIENT_CODES

    async def one_poll(trigger: K8sPreflightTrigger) -> dict | None:
        first = asyncio.ensure_future(trigger.run().__anext__())
        if not transient:
            return (await asyncio.wait_for(first, timeout=60)).payload
        polled = asyncio.ensure_future(log.polled.wait())
        await asyncio.wait({first, polled}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        polled.cancel()
        await asyncio.sleep(0.5)  # past the poll interval: the next poll runs, still nothing to fire
        fired = first.done()
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        assert not fired, first.result().payload
        return None

    with _served(tmp_path, mode, status, reader.token) as kubeconfig:
        conn_id = connection("pf_fault", {"kube_config_path": str(kubeconfig)})
        sensor = K8sApiReachableSensor(task_id="api", k8s_reconcile_conn_id=conn_id, poke_interval=0.2)
        event = asyncio.run(one_poll(sensor.trigger()))
    if transient:
        assert log.lines, "the trigger logged no poll within 60 s"
        _assert_actionable(log.lines[0], expected, reader.token)
        return
    assert event is not None
    assert event["status"] == "failed"
    assert json.loads(json.dumps(event)) == event
    _assert_actionable(event["message"], expected, reader.token)
    assert _first_failure(event["report"]["findings"])["code"] == expected
    assert reader.token not in json.dumps(event)


def test_refused(reader, tmp_path, k8s_cluster):
    kubeconfig = _kubeconfig(
        tmp_path, "refused", "https://127.0.0.1:9", k8s_cluster.ca_cert_path.read_bytes(), reader.token
    )
    _three_ways(kubeconfig, "NET_CONNECTION_REFUSED", reader.token)


def test_unknown_ca(reader, tmp_path, k8s_cluster):
    other = write_pki(tmp_path).ca_cert.read_bytes()
    kubeconfig = _kubeconfig(tmp_path, "unknown-ca", k8s_cluster.server, other, reader.token)
    _three_ways(kubeconfig, "TLS_VERIFY_FAILED", reader.token)


def test_name_does_not_exist(reader, tmp_path, k8s_cluster):
    ca = k8s_cluster.ca_cert_path.read_bytes()
    kubeconfig = _kubeconfig(tmp_path, "nxdomain", "https://api.preflight.invalid:6443", ca, reader.token)
    _three_ways(kubeconfig, "NET_DNS_NAME_NOT_FOUND", reader.token)


@pytest.mark.skipif(
    shutil.which("unshare") is None, reason="needs unshare (util-linux) for a private resolv.conf"
)
def test_resolver_unreachable(reader, tmp_path, k8s_cluster):
    resolv = tmp_path / "resolv.conf"
    # Nothing answers DNS on 127.0.0.1:53 here: the query is refused (ICMP) and getaddrinfo says EAI_AGAIN.
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    ca = k8s_cluster.ca_cert_path.read_bytes()
    kubeconfig = _kubeconfig(tmp_path, "noresolver", "https://api.example.com:6443", ca, reader.token)
    script = tmp_path / "run.py"
    script.write_text(
        "import asyncio, json, sys\n"
        "from airflow_k8s_reconcile.cli.main import main\n"
        "from airflow_k8s_reconcile.hooks.preflight import preflight, apreflight\n"
        "from airflow_k8s_reconcile.hooks.arguments import ConnectionFields\n"
        "args = {'auth_mode': 'kubeconfig_file', 'kube_config_path': sys.argv[1]}\n"
        "fields = ConnectionFields('<t>', 'k8s_reconcile', {}, found=False)\n"
        "print(json.dumps([preflight(args, fields).to_dict(), asyncio.run(apreflight(args, fields)).to_dict()]))\n"
    )
    unshare = ["unshare", "-rm", "sh", "-c", f'mount --bind {resolv} /etc/resolv.conf && exec "$@"', "sh"]
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    probe = subprocess.run([*unshare, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged mount namespaces are not available here: {probe.stderr.strip()}")
    doctor = subprocess.run(
        [*unshare, *CLI, "doctor", "--kubeconfig", str(kubeconfig), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    _assert_report(json.loads(doctor.stdout), "NET_DNS_RESOLVER_UNREACHABLE", reader.token)
    both = subprocess.run(
        [*unshare, sys.executable, str(script), str(kubeconfig)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert both.returncode == 0, both.stderr
    for report in json.loads(both.stdout):
        _assert_report(report, "NET_DNS_RESOLVER_UNREACHABLE", reader.token)


def test_no_proxy_that_does_not_cover_the_server_is_named(reader, tmp_path, k8s_cluster):
    ca = k8s_cluster.ca_cert_path.read_bytes()
    kubeconfig = _kubeconfig(tmp_path, "proxied", "https://kubernetes.default.svc:443", ca, reader.token)
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ".cluster.local,10.96.0.0/12"}
    env.pop("https_proxy", None)
    report = preflight({"kube_config_path": str(kubeconfig)}, FIELDS, environ=env)
    codes = [(f.code, f.status.value) for f in report.findings]
    assert ("NET_NO_PROXY_MISMATCH", "warn") in codes
    mismatch = next(f for f in report.findings if f.code == "NET_NO_PROXY_MISMATCH")
    assert "'.cluster.local'" in mismatch.cause
    assert "kubernetes.default.svc" in mismatch.fix
    # DNS and TCP test the path to the proxy, which refuses.
    assert next(f for f in report.findings if f.status.value == "fail").code == "NET_CONNECTION_REFUSED"


def test_malformed_spec_exits_2_naming_the_bad_part(tmp_path):
    result = subprocess.run(
        [*CLI, "doctor", "--kubeconfig", str(tmp_path / "none"), "--require", "get:ConfigMaps"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "resource 'ConfigMaps' has upper-case letters" in result.stderr
    assert "Traceback" not in result.stderr
