"""Least-privilege RBAC for the missing permissions: YAML, the equivalent kubectl commands, and can-i checks.

Shape (connection-and-preflight facts §5.3, §5.5): a ``Role`` + ``RoleBinding`` per namespace, a ``ClusterRole`` +
``ClusterRoleBinding`` only for cluster scope (cluster-scoped resources, all-namespace requests, non-resource
URLs, which only ClusterRoles can hold). No ``*`` anywhere; ``resourceNames`` only where a request carries a name
(never for ``create``, ``list``, ``watch`` or ``deletecollection``, which RBAC authorizes without one, see
``rbac_rules``). Rules are merged deterministically: verbs per ``(group, resource, names)``, then resources that
share group, verbs and names into one rule, all sorted, so the same input always yields byte-identical YAML.

Names are ``airflow-k8s-reconcile-<hash>`` over subject, scope and rules: applying a later remediation adds a
Role instead of replacing (and so revoking) what an earlier one granted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck
    from airflow_k8s_reconcile.domain.preflight.subjects import Subject

NAME_PREFIX = "airflow-k8s-reconcile"
_RBAC = "rbac.authorization.k8s.io"
_RBAC_V1 = f"{_RBAC}/v1"
# Requests RBAC authorizes without an object name (the name is unknown or a selector is used).
_NAMELESS_VERBS = frozenset({"create", "list", "watch", "deletecollection"})
_VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")

Rule = dict[str, list[str]]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RbacRemediation:
    """What an admin applies to grant the missing permissions, and how to verify it.

    :param yaml: the Role/RoleBinding (and ClusterRole/ClusterRoleBinding) documents, ``---``-separated.
    :param commands: the same grants as ``kubectl create`` commands (one role per rule: kubectl's ``create role``
        takes one verb set).
    :param verify: ``kubectl auth can-i`` lines, one per missing check, each answering ``yes`` once applied.
    :param documents: the YAML documents as data.
    """

    yaml: str
    commands: tuple[str, ...]
    verify: tuple[str, ...]
    documents: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, object]:
        """Return the ``remediation`` object of ``doctor --json``."""
        return {"rbac_yaml": self.yaml, "commands": list(self.commands), "verify": list(self.verify)}


def _verb_key(verb: str) -> tuple[int, str]:
    return (_VERB_ORDER.index(verb) if verb in _VERB_ORDER else len(_VERB_ORDER), verb)


def _reject_wildcards(check: PermissionCheck) -> None:
    fields = (check.verb, check.group, check.resource, check.subresource, check.name, check.url)
    if any("*" in value for value in fields):
        raise ValueError(f"refusing to generate RBAC with a wildcard: {check.describe()}")


def merge_rules(checks: Iterable[PermissionCheck]) -> list[Rule]:
    """Return the fewest least-privilege ``PolicyRule`` dicts granting exactly ``checks`` (one scope's worth).

    :param checks: checks of one namespace (or of cluster scope).
    :return: sorted rules, resource rules first, then non-resource rules.
    :raises ValueError: when a check holds a wildcard (a generated grant must not).
    """
    verbs_by_target: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    url_verbs: dict[str, set[str]] = defaultdict(set)
    for check in checks:
        _reject_wildcards(check)
        if not check.is_resource:
            url_verbs[check.url].add(check.verb)
            continue
        name = "" if check.verb in _NAMELESS_VERBS else check.name
        verbs_by_target[(check.group, check.resource_path, name)].add(check.verb)
    for (group, resource, name), verbs in verbs_by_target.items():
        if name:  # an unnamed grant of the same verb already covers the named one
            verbs -= verbs_by_target.get((group, resource, ""), set())
    names_by: dict[tuple[str, tuple[str, ...], str], list[str]] = defaultdict(list)
    for (group, resource, name), verbs in verbs_by_target.items():
        if verbs:
            names_by[(group, tuple(sorted(verbs, key=_verb_key)), resource)].append(name)
    resources_by: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
    for (group, verbs_key, resource), names in names_by.items():
        named = () if "" in names else tuple(sorted(names))
        resources_by[(group, verbs_key, named)].append(resource)
    rules: list[Rule] = []
    # Sorted by group, resources, names (unnamed first), then verbs: a total order, so the output never depends
    # on the order the checks came in.
    for (group, verbs_key, named), resources in sorted(
        resources_by.items(), key=lambda i: (i[0][0], sorted(i[1]), i[0][2], [_verb_key(v) for v in i[0][1]])
    ):
        rule: Rule = {"apiGroups": [group], "resources": sorted(resources), "verbs": list(verbs_key)}
        if named:
            rule["resourceNames"] = list(named)
        rules.append(rule)
    urls_by: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for url, verbs in url_verbs.items():
        urls_by[tuple(sorted(verbs, key=_verb_key))].append(url)
    for verbs_key, urls in sorted(urls_by.items(), key=lambda item: sorted(item[1])):
        rules.append({"nonResourceURLs": sorted(urls), "verbs": list(verbs_key)})
    return rules


def role_name(subject: Subject, scope: str, rules: Sequence[Rule], also_bind: Sequence[Subject] = ()) -> str:
    """Return ``airflow-k8s-reconcile-<10 hex>``, stable for the same subject(s), scope and rules."""
    who: object = [s.to_dict() for s in (subject, *also_bind)] if also_bind else subject.to_dict()
    blob = json.dumps([who, scope, list(rules)], sort_keys=True).encode()
    return f"{NAME_PREFIX}-{hashlib.sha256(blob).hexdigest()[:10]}"


def _documents(
    subject: Subject, scope: str, rules: list[Rule], also_bind: Sequence[Subject]
) -> list[dict[str, Any]]:
    name = role_name(subject, scope, rules, also_bind)
    kind = "Role" if scope else "ClusterRole"
    metadata: dict[str, str] = {"name": name, "namespace": scope} if scope else {"name": name}
    role = {"apiVersion": _RBAC_V1, "kind": kind, "metadata": metadata, "rules": rules}
    binding = {
        "apiVersion": _RBAC_V1,
        "kind": f"{kind}Binding",
        "metadata": dict(metadata),
        "roleRef": {"apiGroup": _RBAC, "kind": kind, "name": name},
        "subjects": [s.to_dict() for s in (subject, *also_bind)],
    }
    return [role, binding]


def _commands(subject: Subject, scope: str, rules: list[Rule], also_bind: Sequence[Subject]) -> list[str]:
    name = role_name(subject, scope, rules, also_bind)
    who = " ".join(s.kubectl_flag() for s in (subject, *also_bind))
    where = f" -n {shlex.quote(scope)}" if scope else ""
    kind = "role" if scope else "clusterrole"
    out: list[str] = []
    for index, rule in enumerate(rules, start=1):
        rule_name = name if len(rules) == 1 else f"{name}-{index}"
        flags = [f"--verb={verb}" for verb in rule["verbs"]]
        if "nonResourceURLs" in rule:
            flags += [f"--non-resource-url={url}" for url in rule["nonResourceURLs"]]
        else:
            group = rule["apiGroups"][0]
            for resource in rule["resources"]:
                plural, slash, sub = resource.partition("/")
                dotted = f"{plural}.{group}" if group else plural
                flags.append(f"--resource={dotted}{slash}{sub}")
            flags += [f"--resource-name={item}" for item in rule.get("resourceNames", [])]
        quoted = " ".join(shlex.quote(flag) for flag in flags)
        out.append(f"kubectl create {kind} {rule_name}{where} {quoted}")
        out.append(f"kubectl create {kind}binding {rule_name}{where} --{kind}={rule_name} {who}")
    return out


def can_i_command(check: PermissionCheck, subject: Subject) -> str:
    """Return the ``kubectl auth can-i`` line that checks ``check`` as ``subject`` (run it as an admin).

    A subresource goes in ``--subresource``: ``can-i get pods/log`` would read ``log`` as an object name.
    """
    if not check.is_resource:
        target = check.url
    else:
        dotted = f"{check.resource}.{check.group}" if check.group else check.resource
        target = f"{dotted}/{check.name}" if check.name else dotted
    parts = ["kubectl", "auth", "can-i", shlex.quote(check.verb), shlex.quote(target)]
    if check.subresource:
        parts.append(shlex.quote(f"--subresource={check.subresource}"))
    if check.namespace:
        parts += ["-n", shlex.quote(check.namespace)]
    parts.append(subject.impersonation_flags())
    return " ".join(parts)


def rbac_remediation(
    missing: Sequence[PermissionCheck], subject: Subject, *, also_bind: Sequence[Subject] = ()
) -> RbacRemediation:
    """Return the least-privilege grant of ``missing`` to ``subject``: YAML, commands, verification lines.

    :param missing: the denied checks (see ``rbac_evaluation.missing``).
    :param subject: whom to bind, usually ``Subject.for_user(identity username)``.
    :param also_bind: further subjects the same Roles are bound to (one binding naming them all, e.g. the Helm
        chart's worker and triggerer service accounts, which run the same tasks' checks); they change the names.
    :return: the remediation; empty strings and tuples when nothing is missing.
    :raises ValueError: when a check holds a wildcard.
    """
    by_scope: dict[str, list[PermissionCheck]] = defaultdict(list)
    for check in dict.fromkeys(missing):
        by_scope[check.namespace].append(check)
    documents: list[dict[str, Any]] = []
    commands: list[str] = []
    for scope in sorted(by_scope, key=lambda ns: (ns == "", ns)):  # namespaces first, cluster scope last
        rules = merge_rules(by_scope[scope])
        documents += _documents(subject, scope, rules, also_bind)
        commands += _commands(subject, scope, rules, also_bind)
    text = yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False) if documents else ""
    verify = tuple(
        can_i_command(check, who) for who in (subject, *also_bind) for check in dict.fromkeys(missing)
    )
    return RbacRemediation(yaml=text, commands=tuple(commands), verify=verify, documents=tuple(documents))
