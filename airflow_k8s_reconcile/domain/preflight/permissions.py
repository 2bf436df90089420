"""What a task needs from RBAC: permissions, the single checks they expand to, and the CLI's SPEC syntax.

A :class:`Permission` is what an operator declares (``get,list,watch`` on ``configmaps``); a
:class:`PermissionCheck` is one verb of it in one namespace, the unit Kubernetes authorizes (one
``SelfSubjectAccessReview`` ``resourceAttributes`` or ``nonResourceAttributes``, see
k8s.io/api/authorization/v1/types.go). Cluster-scoped resources are authorized with an empty namespace, so a
check on ``nodes`` never carries one even when the task runs with ``-n jobs``: asking the API server about
``nodes`` "in namespace jobs" would consult that namespace's RoleBindings, which can never grant access to a
cluster-scoped object (the ``kubectl auth can-i`` pitfall noted in rakkess' ``resource_access.go``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

# Cluster-scoped resources of the built-in API groups, as ``(group, plural)``. From the discovery documents of
# kube-apiserver 1.20.2 (``namespaced: false``) plus the newer built-ins; anything else is namespaced unless the
# caller says otherwise (custom resources: read ``spec.scope`` of the CustomResourceDefinition).
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "componentstatuses"),
        ("", "namespaces"),
        ("", "nodes"),
        ("", "persistentvolumes"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("apiregistration.k8s.io", "apiservices"),
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authentication.k8s.io", "tokenreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("certificates.k8s.io", "certificatesigningrequests"),
        ("flowcontrol.apiserver.k8s.io", "flowschemas"),
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
        ("networking.k8s.io", "ingressclasses"),
        ("node.k8s.io", "runtimeclasses"),
        ("policy", "podsecuritypolicies"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("scheduling.k8s.io", "priorityclasses"),
        ("storage.k8s.io", "csidrivers"),
        ("storage.k8s.io", "csinodes"),
        ("storage.k8s.io", "storageclasses"),
        ("storage.k8s.io", "volumeattachments"),
    }
)

# Resource plurals are DNS labels and groups DNS subdomains (apimachinery validation IsDNS1035Label /
# IsDNS1123Subdomain); verbs and subresources are lowercase words (``deletecollection``, ``exec``, ``log``).
_PLURAL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_WORD = re.compile(r"^[a-z][a-z0-9]*$")
_URL = re.compile(r"^/[^\s*]*$")
SPEC_FORMAT = "VERB[,VERB...]:RESOURCE, RESOURCE being plural[.group][/subresource] or a /non-resource/path"
SPEC_EXAMPLES = "'get,list,watch:configmaps', 'create:pods/exec', 'list:widgets.example.com', 'get:/healthz'"


class PermissionSpecError(ValueError):
    """A ``--require`` SPEC that does not parse; the message names the bad part and the fix."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PermissionCheck:
    """One verb on one resource (or non-resource URL) in one namespace: what one access review answers.

    :param verb: e.g. ``list``.
    :param group: API group, ``""`` for the core group.
    :param resource: plural, e.g. ``pods``; empty for a non-resource URL.
    :param subresource: e.g. ``exec``.
    :param namespace: ``""`` for cluster scope (cluster-scoped resources, all namespaces, non-resource URLs).
    :param name: the object name for a named request (``get``, ``update``...), else ``""``.
    :param url: the non-resource URL path, e.g. ``/healthz``; then every resource field is empty.
    """

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    url: str = ""

    @property
    def is_resource(self) -> bool:
        """Return whether this is a resource request (otherwise a non-resource URL request)."""
        return not self.url

    @property
    def resource_path(self) -> str:
        """Return ``resource[/subresource]``, the form RBAC rules list (``pods/exec``)."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource

    @property
    def kubectl_resource(self) -> str:
        """Return ``resource[.group][/subresource]``, the form ``kubectl create role --resource`` takes."""
        dotted = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{dotted}/{self.subresource}" if self.subresource else dotted

    def describe(self) -> str:
        """Return e.g. ``list configmaps in namespace jobs`` or ``get /healthz``, for causes and reports."""
        if not self.is_resource:
            return f"{self.verb} {self.url}"
        named = f" named {self.name!r}" if self.name else ""
        where = f"in namespace {self.namespace}" if self.namespace else "at cluster scope"
        return f"{self.verb} {self.kubectl_resource}{named} {where}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Permission:
    """Verbs a task needs on one resource (or non-resource URL), as operators declare them.

    :param verbs: e.g. ``("get", "list", "watch")``; deduplicated, order kept.
    :param group: API group, ``""`` for core.
    :param resource: plural.
    :param subresource: e.g. ``log``.
    :param namespace: ``""`` means "every namespace the preflight checks" (see :func:`expand_checks`).
    :param resource_name: one object name, when the task touches only that object.
    :param url: a non-resource URL instead of a resource.
    """

    verbs: tuple[str, ...]
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    resource_name: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        """Keep verbs a deduplicated tuple, so equal permissions hash equally."""
        object.__setattr__(self, "verbs", tuple(dict.fromkeys(self.verbs)))

    def checks(self, namespace: str | None = None) -> tuple[PermissionCheck, ...]:
        """Return one check per verb, in ``namespace`` if given, else in the permission's own namespace."""
        ns = self.namespace if namespace is None else namespace
        return tuple(
            PermissionCheck(
                verb=verb,
                group=self.group,
                resource=self.resource,
                subresource=self.subresource,
                namespace="" if self.url else ns,
                name=self.resource_name,
                url=self.url,
            )
            for verb in self.verbs
        )


def is_cluster_scoped(group: str, resource: str, extra: Iterable[tuple[str, str]] = ()) -> bool:
    """Return whether ``(group, resource)`` is cluster-scoped: built-in table plus the caller's ``extra``."""
    return (group, resource) in CLUSTER_SCOPED or (group, resource) in set(extra)


def expand_checks(
    permissions: Iterable[Permission],
    namespaces: Iterable[str],
    *,
    cluster_scoped: Iterable[tuple[str, str]] = (),
) -> tuple[PermissionCheck, ...]:
    """Return the checks for ``permissions``, each namespace-less one repeated in every namespace.

    Cluster-scoped resources and non-resource URLs are checked once, without a namespace. A permission that
    names its own namespace is checked there only. Duplicates are dropped, order is kept.

    :param permissions: what the task needs.
    :param namespaces: where it works; none means cluster scope (``""``) for namespace-less permissions.
    :param cluster_scoped: ``(group, plural)`` of further cluster-scoped resources (e.g. cluster-scoped CRDs).
    :return: the checks, deduplicated.
    """
    extra = set(cluster_scoped)
    targets = tuple(dict.fromkeys(namespaces)) or ("",)
    out: dict[PermissionCheck, None] = {}
    for permission in permissions:
        if permission.url or is_cluster_scoped(permission.group, permission.resource, extra):
            scopes: tuple[str, ...] = ("",)
        elif permission.namespace:
            scopes = (permission.namespace,)
        else:
            scopes = targets
        for scope in scopes:
            out.update(dict.fromkeys(permission.checks(scope)))
    return tuple(out)


def _spec_error(spec: str, problem: str, fix: str) -> PermissionSpecError:
    return PermissionSpecError(f"Invalid permission SPEC {spec!r}: {problem}. {fix} (format: {SPEC_FORMAT}).")


def _parse_verbs(spec: str, text: str) -> tuple[str, ...]:
    verbs = tuple(verb.strip() for verb in text.split(","))
    for verb in verbs:
        if not verb:
            raise _spec_error(spec, "an empty verb", "Separate verbs with single commas, e.g. 'get,list'")
        if verb == "*":
            raise _spec_error(spec, "the wildcard verb '*'", "Name each verb the task uses, e.g. 'get,list'")
        if not _WORD.match(verb):
            raise _spec_error(
                spec,
                f"verb {verb!r} is not a lowercase word",
                "Use Kubernetes verbs such as get, list, create",
            )
    return verbs


def parse_spec(spec: str) -> Permission:
    """Parse a ``--require`` SPEC: ``VERB[,VERB...]:RESOURCE`` with RESOURCE ``plural[.group][/subresource]``.

    ``get,list,watch:configmaps``, ``create:pods/exec``, ``list:widgets.example.com``,
    ``patch:deployments.apps/scale``; a RESOURCE starting with ``/`` is a non-resource URL (``get:/healthz``,
    ``get:/metrics``). The group follows the first dot, as in ``kubectl create role --resource``.

    :param spec: the text given on the command line.
    :return: the permission, without a namespace.
    :raises PermissionSpecError: naming the bad part and how to write it.
    """
    text = spec.strip()
    verbs_text, colon, resource_text = text.partition(":")
    if not colon:
        raise _spec_error(spec, "no ':' between the verbs and the resource", f"Write it like {SPEC_EXAMPLES}")
    verbs = _parse_verbs(spec, verbs_text)
    resource_text = resource_text.strip()
    if resource_text.startswith("/"):
        if not _URL.match(resource_text):
            raise _spec_error(
                spec,
                f"non-resource URL {resource_text!r} has spaces or '*'",
                "Give one exact path, e.g. /healthz",
            )
        return Permission(verbs=verbs, url=resource_text)
    return _parse_resource(spec, verbs, resource_text)


def _parse_resource(spec: str, verbs: tuple[str, ...], text: str) -> Permission:
    if not text:
        raise _spec_error(spec, "no resource after ':'", "Name the resource plural, e.g. 'get:configmaps'")
    if "*" in text:
        raise _spec_error(spec, f"the wildcard in {text!r}", "Name the exact resource the task uses")
    if text != text.lower():
        raise _spec_error(
            spec, f"resource {text!r} has upper-case letters", "Use the lowercase plural, e.g. 'configmaps'"
        )
    dotted, slash, subresource = text.partition("/")
    if slash and not _WORD.match(subresource):
        raise _spec_error(
            spec,
            f"subresource {subresource!r} is not one lowercase word",
            "Write e.g. 'pods/exec' or 'pods/log'",
        )
    plural, dot, group = dotted.partition(".")
    if not _PLURAL.match(plural):
        raise _spec_error(spec, f"resource {plural!r} is not a resource plural", "Write e.g. 'configmaps'")
    if dot and not _GROUP.match(group):
        raise _spec_error(
            spec,
            f"API group {group!r} is not a DNS name",
            "Write the group after the plural: 'deployments.apps'",
        )
    return Permission(verbs=verbs, group=group, resource=plural, subresource=subresource)
