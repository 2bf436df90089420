"""Who a generated RoleBinding binds, from the identity the API server reported, and how kubectl names it.

Kubernetes authenticates a service account as ``system:serviceaccount:<namespace>:<name>``
(k8s.io/apiserver ``pkg/authentication/serviceaccount/util.go``, ``MakeUsername``); RBAC binds it with a
``ServiceAccount`` subject, not a ``User`` subject with that name (both work, but the ``ServiceAccount`` form is
what ``kubectl create rolebinding --serviceaccount`` writes and what survives a reader's review). Other users are
``User`` subjects and groups ``Group`` subjects, both in the ``rbac.authorization.k8s.io`` API group
(``pkg/apis/rbac/types.go``).
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import Literal

_SA_PREFIX = "system:serviceaccount:"
_RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """A RoleBinding subject.

    :param kind: ``ServiceAccount``, ``User`` or ``Group``.
    :param name: the service account, user or group name.
    :param namespace: the service account's namespace (only for ``ServiceAccount``).
    """

    kind: Literal["ServiceAccount", "User", "Group"]
    name: str
    namespace: str = ""

    @classmethod
    def for_user(cls, username: str) -> Subject:
        """Return the subject for an authenticated user name (a service account's becomes a ServiceAccount)."""
        if username.startswith(_SA_PREFIX):
            namespace, colon, name = username.removeprefix(_SA_PREFIX).partition(":")
            if colon and namespace and name and ":" not in name:
                return cls(kind="ServiceAccount", name=name, namespace=namespace)
        return cls(kind="User", name=username)

    @classmethod
    def for_group(cls, group: str) -> Subject:
        """Return the subject for a group, e.g. ``system:serviceaccounts:airflow``."""
        return cls(kind="Group", name=group)

    @property
    def username(self) -> str:
        """Return the user name to impersonate for verification (``""`` for a group)."""
        if self.kind == "ServiceAccount":
            return f"{_SA_PREFIX}{self.namespace}:{self.name}"
        return self.name if self.kind == "User" else ""

    def to_dict(self) -> dict[str, str]:
        """Return the ``subjects[]`` entry of a RoleBinding."""
        if self.kind == "ServiceAccount":
            return {"kind": "ServiceAccount", "name": self.name, "namespace": self.namespace}
        return {"kind": self.kind, "apiGroup": _RBAC_GROUP, "name": self.name}

    def kubectl_flag(self) -> str:
        """Return the ``kubectl create rolebinding`` flag naming this subject, shell-quoted."""
        if self.kind == "ServiceAccount":
            return shlex.quote(f"--serviceaccount={self.namespace}:{self.name}")
        return shlex.quote(f"--{self.kind.lower()}={self.name}")

    def impersonation_flags(self) -> str:
        """Return the ``kubectl auth can-i`` flags acting as this subject (a group needs a user name too)."""
        if self.kind == "Group":
            return f"--as=airflow-k8s-reconcile-check {shlex.quote(f'--as-group={self.name}')}"
        return shlex.quote(f"--as={self.username}")
