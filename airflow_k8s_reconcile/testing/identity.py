"""Namespaces and least-privilege identities for tests, made through the real API.

An identity is a ServiceAccount bound to exactly the rules asked for (a Role per namespace, a ClusterRole for
cluster rules, or nothing at all), with a token from the TokenRequest API. It comes with a kubeconfig and with an
in-cluster layout (a directory holding ``token``, ``ca.crt`` and ``namespace`` plus the
``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT`` values), so in-cluster code paths run for real.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import secrets
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from airflow_k8s_reconcile.testing.cluster import TestCluster

Rule = Mapping[str, Sequence[str]]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InClusterLayout:
    """What a pod would see: the service-account directory and the service environment variables."""

    service_account_dir: Path
    env: Mapping[str, str]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A ServiceAccount identity with a real token. ``token`` is secret: never log it."""

    name: str
    namespace: str
    username: str
    token: str = dataclasses.field(repr=False)
    kubeconfig_path: Path
    in_cluster: InClusterLayout


def unique_name(prefix: str, run_id: str) -> str:
    """Return a DNS-1123 name that is unique for this run."""
    return f"{prefix}-{run_id}-{secrets.token_hex(3)}"


def create_namespace(client: Any, cluster: TestCluster, prefix: str = "t") -> str:
    """Create a labelled namespace and return its name."""
    from kubernetes import client as k8s

    name = unique_name(prefix, cluster.run_id)
    body = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=cluster.labels))
    k8s.CoreV1Api(client).create_namespace(body)
    return name


def delete_namespace(client: Any, cluster: TestCluster, name: str) -> None:
    """Delete a namespace the suite created (refuses anything not carrying this run's label)."""
    from kubernetes import client as k8s
    from kubernetes.client.exceptions import ApiException

    core = k8s.CoreV1Api(client)
    try:
        labels = core.read_namespace(name).metadata.labels or {}
        if any(labels.get(key) != value for key, value in cluster.labels.items()):
            return
        core.delete_namespace(name, propagation_policy="Background")
    except ApiException as err:
        if err.status != 404:
            raise


def _rbac_rules(rules: Sequence[Rule]) -> list[Any]:
    from kubernetes import client as k8s

    return [
        k8s.V1PolicyRule(
            api_groups=list(rule.get("apiGroups", [""])) if "resources" in rule else None,
            resources=list(rule["resources"]) if "resources" in rule else None,
            resource_names=list(rule["resourceNames"]) if "resourceNames" in rule else None,
            non_resource_urls=list(rule["nonResourceURLs"]) if "nonResourceURLs" in rule else None,
            verbs=list(rule["verbs"]),
        )
        for rule in rules
    ]


class IdentityFactory:
    """Create identities for one test and delete every object it made afterwards."""

    def __init__(self, client: Any, cluster: TestCluster, workdir: Path, default_namespace: str) -> None:
        self._client = client
        self._cluster = cluster
        self._workdir = workdir
        self._default_namespace = default_namespace
        self._cluster_objects: list[tuple[str, str]] = []
        self._namespaced_objects: list[tuple[str, str, str]] = []

    def __call__(
        self,
        rules: Sequence[Rule] = (),
        namespace: str | None = None,
        cluster_rules: Sequence[Rule] = (),
        *,
        namespace_rules: Mapping[str, Sequence[Rule]] | None = None,
        name: str | None = None,
        token_seconds: int = 3600,
    ) -> Identity:
        """Create a ServiceAccount with exactly these permissions.

        :param rules: Role rules (Kubernetes ``PolicyRule`` shape) granted in ``namespace``.
        :param namespace: where the ServiceAccount lives (default: the test's ``k8s_namespace``).
        :param cluster_rules: ClusterRole rules granted cluster-wide.
        :param namespace_rules: further Role rules per other namespace.
        :param token_seconds: TokenRequest ``expirationSeconds``.
        """
        from kubernetes import client as k8s

        ns = namespace or self._default_namespace
        sa_name = name or unique_name("sa", self._cluster.run_id)
        meta = k8s.V1ObjectMeta(name=sa_name, labels=self._cluster.labels)
        core, rbac = k8s.CoreV1Api(self._client), k8s.RbacAuthorizationV1Api(self._client)
        core.create_namespaced_service_account(ns, k8s.V1ServiceAccount(metadata=meta))
        self._namespaced_objects.append(("serviceaccount", ns, sa_name))
        subject = k8s.RbacV1Subject(kind="ServiceAccount", name=sa_name, namespace=ns)
        grants = dict(namespace_rules or {})
        if rules:
            grants[ns] = [*grants.get(ns, ()), *rules]
        for role_ns, role_rules in grants.items():
            rbac.create_namespaced_role(role_ns, k8s.V1Role(metadata=meta, rules=_rbac_rules(role_rules)))
            ref = k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=sa_name)
            rbac.create_namespaced_role_binding(
                role_ns, k8s.V1RoleBinding(metadata=meta, role_ref=ref, subjects=[subject])
            )
            self._namespaced_objects += [("role", role_ns, sa_name), ("rolebinding", role_ns, sa_name)]
        if cluster_rules:
            cluster_name = f"{ns}-{sa_name}"
            cmeta = k8s.V1ObjectMeta(name=cluster_name, labels=self._cluster.labels)
            rbac.create_cluster_role(k8s.V1ClusterRole(metadata=cmeta, rules=_rbac_rules(cluster_rules)))
            self._cluster_objects.append(("clusterrole", cluster_name))
            ref = k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=cluster_name)
            rbac.create_cluster_role_binding(
                k8s.V1ClusterRoleBinding(metadata=cmeta, role_ref=ref, subjects=[subject])
            )
            self._cluster_objects.append(("clusterrolebinding", cluster_name))
        username = f"system:serviceaccount:{ns}:{sa_name}"
        self._await_rbac(username, ns, grants, cluster_rules)
        request = k8s.AuthenticationV1TokenRequest(
            spec=k8s.V1TokenRequestSpec(audiences=[], expiration_seconds=token_seconds)
        )
        token = core.create_namespaced_service_account_token(sa_name, ns, request).status.token
        return Identity(
            name=sa_name,
            namespace=ns,
            username=username,
            token=token,
            kubeconfig_path=self._write_kubeconfig(sa_name, ns, token),
            in_cluster=self._write_in_cluster(sa_name, ns, token),
        )

    def _await_rbac(
        self, username: str, ns: str, grants: Mapping[str, Sequence[Rule]], cluster_rules: Sequence[Rule]
    ) -> None:
        # The RBAC authorizer reads bindings from an informer cache; wait until the first granted rule is in
        # effect so a test never races the cache.
        from kubernetes import client as k8s

        probes: list[tuple[str | None, Rule]] = [
            (role_ns, rule) for role_ns, rs in grants.items() for rule in rs
        ]
        probes += [(None, rule) for rule in cluster_rules]
        probes = [(p_ns, rule) for p_ns, rule in probes if rule.get("resources")]
        if not probes:
            return
        probe_ns, rule = probes[0]
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
        attrs = k8s.V1ResourceAttributes(
            namespace=probe_ns,
            verb=rule["verbs"][0] if rule["verbs"][0] != "*" else "get",
            group=(rule.get("apiGroups") or [""])[0].replace("*", ""),
            resource=rule["resources"][0].split("/")[0].replace("*", "configmaps"),
        )
        review = k8s.V1SubjectAccessReview(
            spec=k8s.V1SubjectAccessReviewSpec(user=username, groups=groups, resource_attributes=attrs)
        )
        api = k8s.AuthorizationV1Api(self._client)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not api.create_subject_access_review(review).status.allowed:
            time.sleep(0.05)

    def _write_kubeconfig(self, sa_name: str, ns: str, token: str) -> Path:
        ca = self._cluster.ca_cert_path.read_bytes()
        cluster: dict[str, str] = {"server": self._cluster.server}
        if ca:
            cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "cluster", "cluster": cluster}],
            "users": [{"name": sa_name, "user": {"token": token}}],
            "contexts": [
                {"name": sa_name, "context": {"cluster": "cluster", "user": sa_name, "namespace": ns}}
            ],
            "current-context": sa_name,
        }
        path = self._workdir / f"{sa_name}.kubeconfig"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def _write_in_cluster(self, sa_name: str, ns: str, token: str) -> InClusterLayout:
        directory = self._workdir / f"{sa_name}-serviceaccount"
        directory.mkdir(mode=0o700)
        (directory / "token").write_text(token)
        (directory / "ca.crt").write_bytes(self._cluster.ca_cert_path.read_bytes())
        (directory / "namespace").write_text(ns)
        for child in directory.iterdir():
            child.chmod(0o600)
        url = urllib.parse.urlsplit(self._cluster.server)
        env = {"KUBERNETES_SERVICE_HOST": url.hostname or "", "KUBERNETES_SERVICE_PORT": str(url.port or 443)}
        return InClusterLayout(service_account_dir=directory, env=env)

    def cleanup(self) -> None:
        """Delete every object this factory created (a 404 means it is already gone)."""
        from kubernetes import client as k8s
        from kubernetes.client.exceptions import ApiException

        core, rbac = k8s.CoreV1Api(self._client), k8s.RbacAuthorizationV1Api(self._client)
        deleters = {
            "serviceaccount": core.delete_namespaced_service_account,
            "role": rbac.delete_namespaced_role,
            "rolebinding": rbac.delete_namespaced_role_binding,
        }
        for kind, ns, name in reversed(self._namespaced_objects):
            with contextlib.suppress(ApiException):
                deleters[kind](name, ns)
        self._namespaced_objects.clear()
        for kind, name in reversed(self._cluster_objects):
            with contextlib.suppress(ApiException):
                if kind == "clusterrolebinding":
                    rbac.delete_cluster_role_binding(name)
                else:
                    rbac.delete_cluster_role(name)
        self._cluster_objects.clear()
