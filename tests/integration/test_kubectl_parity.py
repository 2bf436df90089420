"""kubectl and the hooks on the same generated kubeconfigs, against the real local control plane: same outcome.

Each case writes a kubeconfig (tokens, token files, client certificates, relative paths, merges, contexts, exec
plugins, proxies, TLS settings) or an in-cluster layout, then runs ``kubectl get secrets -n NS`` and the sync hook's
``list_namespaced_secret`` on it. Nobody but the admin may read secrets, so the API server's 403 names the identity
that was authenticated: the outcome is that user name (or ``unauthorized``, or a refusal before any request). Where
the package is deliberately stricter or more lenient, the case states both outcomes; docs/connection.md ("Differences
from kubectl") lists them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import select
import shutil
import socket
import socketserver
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.testing import certs

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")

Outcome = tuple[str, ...]
_USER = re.compile(r'User \\?"([^"\\]+)\\?"')


class CountingProxy(socketserver.ThreadingTCPServer):
    """A CONNECT-only HTTP proxy on loopback that counts the tunnels it opened."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.tunnels = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Tunnel(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target = head.split(b" ", 2)[:2]
        if method != b"CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.decode().rsplit(":", 1)
        with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as upstream:
            server: Any = self.server
            with server.lock:
                server.tunnels += 1
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            sockets = [self.request, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 15)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.request else self.request).sendall(data)


@dataclasses.dataclass
class World:
    tmp: Path
    server: str
    ca_pem: bytes
    namespace: str
    reader: Any  # the identity whose token most cases use
    other: Any  # a second identity, to tell "which credential won" apart
    cert_user: str
    cert_pem: bytes
    key_pem: bytes
    proxy: CountingProxy

    def write(self, name: str, content: str | bytes, mode: int = 0o600) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        path.chmod(mode)
        return path

    def cluster(self, **fields: Any) -> dict[str, Any]:
        return {"server": self.server, "certificate-authority-data": _b64(self.ca_pem), **fields}

    def kubeconfig(
        self,
        name: str,
        user: dict[str, Any] | None,
        *,
        cluster: dict[str, Any] | None = None,
        contexts: dict[str, str] | None = None,
        current: str | None = "main",
        users: dict[str, dict[str, Any]] | None = None,
    ) -> Path:
        all_users = dict(users or {})
        if user is not None:
            all_users["u"] = user
        doc: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": cluster or self.cluster()}],
            "users": [{"name": key, "user": value} for key, value in all_users.items()],
            "contexts": [
                {"name": ctx, "context": {"cluster": "c", "user": usr}}
                for ctx, usr in (contexts or {"main": "u"}).items()
            ],
        }
        if current:
            doc["current-context"] = current
        return self.write(name, yaml.safe_dump(doc))

    def exec_plugin(self, api_version: str) -> Path:
        credential = {
            "apiVersion": api_version,
            "kind": "ExecCredential",
            "status": {"token": self.reader.token},
        }
        return self.write("bin/get-token", f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n", 0o700)


@dataclasses.dataclass
class Case:
    """kubectl arguments and environment, the hook's keyword arguments, and the outcomes expected of each."""

    kubectl_args: list[str]
    hook_kwargs: dict[str, Any]
    expected: Outcome
    hook_expected: Outcome | None = None  # a documented difference; None means "the same as kubectl"
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    via_proxy: bool | None = None  # whether each client must have tunnelled through the counting proxy


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _file(world: World, path: Path, **extra: Any) -> tuple[list[str], dict[str, Any]]:
    return ["--kubeconfig", str(path)], {"kube_config_path": str(path), **extra}


def _user(world: World, identity: Any) -> Outcome:
    return ("user", identity.username)


# --- the cases --------------------------------------------------------------------------------------------------


def case_token(w: World) -> Case:
    return Case(*_file(w, w.kubeconfig("k", {"token": w.reader.token})), _user(w, w.reader))


def case_token_file_relative(w: World) -> Case:
    w.write("secrets/token", w.reader.token + "\n")
    path = w.kubeconfig("conf/k", {"tokenFile": "../secrets/token"})
    return Case(*_file(w, path), _user(w, w.reader))


def case_token_and_token_file(w: World) -> Case:
    w.write("token", w.reader.token)
    path = w.kubeconfig("k", {"token": w.other.token, "tokenFile": "token"})
    return Case(*_file(w, path), _user(w, w.reader))  # client-go prefers the file


def case_cert_data(w: World) -> Case:
    path = w.kubeconfig(
        "k", {"client-certificate-data": _b64(w.cert_pem), "client-key-data": _b64(w.key_pem)}
    )
    return Case(*_file(w, path), ("user", w.cert_user))


def case_cert_files_relative(w: World) -> Case:
    w.write("pki/client.crt", w.cert_pem)
    w.write("pki/client.key", w.key_pem)
    path = w.kubeconfig("k", {"client-certificate": "pki/client.crt", "client-key": "pki/client.key"})
    return Case(*_file(w, path), ("user", w.cert_user))


def case_token_and_cert(w: World) -> Case:
    user = {
        "token": w.reader.token,
        "client-certificate-data": _b64(w.cert_pem),
        "client-key-data": _b64(w.key_pem),
    }
    return Case(*_file(w, w.kubeconfig("k", user)), ("user", w.cert_user))  # x509 authenticates first


def case_merge_first_wins(w: World) -> Case:
    first = w.kubeconfig("a", {"token": w.reader.token}, current=None)
    second = w.kubeconfig("b", {"token": w.other.token}, current="main")
    env = {"KUBECONFIG": f"{first}:{second}"}
    return Case([], {"auth_mode": "kubeconfig_file"}, _user(w, w.reader), env=env)


def case_context_flag(w: World) -> Case:
    users = {"r": {"token": w.reader.token}, "o": {"token": w.other.token}}
    path = w.kubeconfig("k", None, users=users, contexts={"main": "r", "alt": "o"})
    args, kwargs = _file(w, path, cluster_context="alt")
    return Case([*args, "--context", "alt"], kwargs, _user(w, w.other))


def case_current_context(w: World) -> Case:
    users = {"r": {"token": w.reader.token}, "o": {"token": w.other.token}}
    path = w.kubeconfig("k", None, users=users, contexts={"main": "r", "alt": "o"}, current="alt")
    return Case(*_file(w, path), _user(w, w.other))


def case_exec_v1(w: World) -> Case:
    plugin = w.exec_plugin("client.authentication.k8s.io/v1")
    exec_ = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(plugin),
        "interactiveMode": "Never",
    }
    return Case(*_file(w, w.kubeconfig("k", {"exec": exec_})), _user(w, w.reader))


def case_exec_v1beta1(w: World) -> Case:
    w.exec_plugin("client.authentication.k8s.io/v1beta1")
    exec_ = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "./bin/get-token"}
    return Case(*_file(w, w.kubeconfig("k", {"exec": exec_})), _user(w, w.reader))


def case_exec_v1_without_interactive_mode(w: World) -> Case:
    plugin = w.exec_plugin("client.authentication.k8s.io/v1")
    exec_ = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}
    # Lenient on purpose (tasks are never interactive), with the warning CONN_KUBECTL_DIFFERENCE.
    return Case(*_file(w, w.kubeconfig("k", {"exec": exec_})), ("failed",), hook_expected=_user(w, w.reader))


def case_http_proxy_only(w: World) -> Case:
    env = {"HTTP_PROXY": w.proxy.url, "http_proxy": w.proxy.url}
    return Case(
        *_file(w, w.kubeconfig("k", {"token": w.reader.token})), _user(w, w.reader), env=env, via_proxy=False
    )


def case_https_proxy_loopback_server(w: World) -> Case:
    # Go never proxies loopback servers, and neither does the package (NO_PROXY rules: unit tests, test_proxy.py).
    env = {"HTTPS_PROXY": w.proxy.url, "NO_PROXY": "example.com"}
    return Case(
        *_file(w, w.kubeconfig("k", {"token": w.reader.token})), _user(w, w.reader), env=env, via_proxy=False
    )


def case_kubeconfig_proxy_url_despite_no_proxy(w: World) -> Case:
    path = w.kubeconfig("k", {"token": w.reader.token}, cluster=w.cluster(**{"proxy-url": w.proxy.url}))
    env = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    return Case(*_file(w, path), _user(w, w.reader), env=env, via_proxy=True)


def case_ca_file_relative(w: World) -> Case:
    w.write("pki/ca.crt", w.ca_pem)
    path = w.kubeconfig(
        "k", {"token": w.reader.token}, cluster={"server": w.server, "certificate-authority": "pki/ca.crt"}
    )
    return Case(*_file(w, path), _user(w, w.reader))


def case_insecure_without_ca(w: World) -> Case:
    cluster = {"server": w.server, "insecure-skip-tls-verify": True}
    return Case(*_file(w, w.kubeconfig("k", {"token": w.reader.token}, cluster=cluster)), _user(w, w.reader))


def case_insecure_with_ca(w: World) -> Case:
    cluster = w.cluster(**{"insecure-skip-tls-verify": True})
    path = w.kubeconfig("k", {"token": w.reader.token}, cluster=cluster)
    return Case(*_file(w, path), ("failed",), hook_expected=("refused", codes.CONN_TLS_INSECURE_WITH_CA))


def case_no_ca_is_untrusted(w: World) -> Case:
    path = w.kubeconfig("k", {"token": w.reader.token}, cluster={"server": w.server})
    return Case(*_file(w, path), ("failed",))


def case_tls_server_name(w: World) -> Case:
    cluster = w.cluster(**{"tls-server-name": "kubernetes.default.svc"})
    return Case(*_file(w, w.kubeconfig("k", {"token": w.reader.token}, cluster=cluster)), _user(w, w.reader))


def case_wrong_tls_server_name(w: World) -> Case:
    cluster = w.cluster(**{"tls-server-name": "wrong.example.com"})
    return Case(*_file(w, w.kubeconfig("k", {"token": w.reader.token}, cluster=cluster)), ("failed",))


def case_basic_auth(w: World) -> Case:
    path = w.kubeconfig("k", {"username": "admin", "password": "not-a-real-password"})
    # kubectl sends it, the server (basic auth removed in 1.19) ignores it and forbids discovery to the anonymous
    # request; the package refuses to send the password at all.
    return Case(*_file(w, path), ("failed",), hook_expected=("refused", codes.CONN_BASIC_AUTH_REMOVED))


def case_anonymous(w: World) -> Case:
    # kubectl prompts for a username when a user has no credentials ("Please enter Username"), which ends in EOF
    # without a terminal; the package sends anonymous requests and warns (CONN_NO_CREDENTIALS).
    path = w.kubeconfig("k", {})
    return Case(*_file(w, path), ("failed",), hook_expected=("user", "system:anonymous"))


def case_in_cluster(w: World) -> Case:
    # kubectl reads in-cluster files only at the fixed kubelet path, so it gets the equivalent flags.
    layout = w.reader.in_cluster
    sa_dir = layout.service_account_dir
    server = f"https://{layout.env['KUBERNETES_SERVICE_HOST']}:{layout.env['KUBERNETES_SERVICE_PORT']}"
    empty = w.write("empty-kubeconfig", "apiVersion: v1\nkind: Config\n")
    args = ["--kubeconfig", str(empty), "--server", server, "--token", (sa_dir / "token").read_text().strip(),
            "--certificate-authority", str(sa_dir / "ca.crt")]  # fmt: skip
    kwargs = {"auth_mode": "in_cluster", "service_account_dir": str(sa_dir)}
    return Case(args, kwargs, _user(w, w.reader), env=dict(layout.env))


CASES: dict[str, Callable[[World], Case]] = {
    name.removeprefix("case_"): value for name, value in dict(globals()).items() if name.startswith("case_")
}


# --- running both -----------------------------------------------------------------------------------------------


def _kubectl(world: World, case: Case, env: dict[str, str]) -> tuple[Outcome, str]:
    result = subprocess.run(
        ["kubectl", *case.kubectl_args, "get", "secrets", "-n", world.namespace, "-o", "name",
         "--request-timeout=15s"],
        env=env, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if result.returncode == 0:
        return ("allowed",), ""
    if match := _USER.search(result.stderr):
        return ("user", match.group(1)), result.stderr
    if "Unauthorized" in result.stderr:
        return ("unauthorized",), result.stderr
    return ("failed",), result.stderr


def _hook(world: World, case: Case, env: dict[str, str]) -> tuple[Outcome, K8sReconcileHook | None]:
    try:
        hook = K8sReconcileHook(**case.hook_kwargs, environ=env)
        with hook.get_conn() as api:
            CoreV1Api(api).list_namespaced_secret(world.namespace, _request_timeout=15)
    except ConnectionConfigError as err:
        return ("refused", err.finding.code), None
    except ApiException as err:
        if err.status == 401:
            return ("unauthorized",), hook
        match = _USER.search(err.body or "")
        return (("user", match.group(1)) if match else ("failed",)), hook
    except (urllib3.exceptions.HTTPError, OSError):
        return ("failed",), hook
    return ("allowed",), hook


@pytest.fixture
def world(k8s_cluster, k8s_identity, k8s_namespace, tmp_path) -> Iterator[World]:
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    other = k8s_identity()
    ca_pem = Path(k8s_cluster.ca_cert_path).read_bytes()
    ca_key = (Path(k8s_cluster.ca_cert_path).parent / "ca.key").read_bytes()
    now = datetime.now(UTC)
    cert_user = f"parity-{k8s_namespace}"
    cert, key = certs.issue(
        cert_user,
        ca_cert=ca_pem,
        ca_key=ca_key,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=1),
    )
    proxy = CountingProxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(
            tmp_path, k8s_cluster.server, ca_pem, k8s_namespace, reader, other, cert_user, cert, key, proxy
        )
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_kubectl_and_the_hook_agree(world: World, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name](world)
    for key, value in case.env.items():  # the client library reads the process environment on its own
        monkeypatch.setenv(key, value)
    base = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
    env = {**base, "HOME": str(world.tmp / "home"), **case.env}
    kubectl, stderr = _kubectl(world, case, env)
    kubectl_tunnels = world.proxy.tunnels
    hook_outcome, hook = _hook(world, case, env)
    hook_tunnels = world.proxy.tunnels - kubectl_tunnels
    assert kubectl == case.expected, f"kubectl: {kubectl}: {stderr}"
    assert hook_outcome == (case.hook_expected or case.expected), f"hook: {hook_outcome}"
    if case.via_proxy is not None:
        assert (kubectl_tunnels > 0, hook_tunnels > 0) == (case.via_proxy, case.via_proxy)
    if name == "exec_v1_without_interactive_mode":
        assert hook is not None
        assert codes.CONN_KUBECTL_DIFFERENCE in [item.code for item in hook.resolve().warnings]
