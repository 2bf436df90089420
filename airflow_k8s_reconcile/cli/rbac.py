"""``airflow-k8s-reconcile rbac``: the least-privilege RBAC a DAG folder's tasks need, as YAML to apply.

It parses the DAG folder the way Airflow does (a ``DagBag``: same import rules, same ``.airflowignore``), collects
the ``required_permissions`` every operator and sensor of this package declares (the declarations the tasks'
preflight checks, so the YAML and the checks cannot disagree), and renders them with the preflight's own
remediation (:func:`~airflow_k8s_reconcile.domain.preflight.rbac_remediation.rbac_remediation`): a Role and
RoleBinding per namespace, a ClusterRole only for cluster scope, no wildcards. A YAML comment above each rule names
the tasks it is for.

Values known only at run time are resolved as a run without a conf would see them: a templated field is rendered
with the DAG's default ``params`` (``"{{ params.namespace }}"`` becomes the param's default), and a mapped task
(``.partial(...).expand(...)``) counts with its ``partial`` arguments; a namespace still unknown after that (the
connection's, an expanded or XCom one) is taken from ``-n``. Several ``--subject`` share one Role per namespace
through one binding naming them all: the Helm chart's worker and triggerer service accounts run the same tasks'
checks (a deferrable sensor checks from the triggerer), and one Role per namespace is easier to review.

Exit codes: 0 printed, 1 a DAG file did not import or a task's declaration is invalid, 2 usage error. Airflow is
imported only when the command runs (``DagBag``), so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from airflow_k8s_reconcile.domain.common.names import DNS_LABEL_RULE, is_dns_label

# The official chart's worker service account for a release named "airflow" in namespace "airflow".
DEFAULT_SUBJECT = "system:serviceaccount:airflow:airflow-worker"
_PACKAGE = "airflow_k8s_reconcile."


@dataclasses.dataclass(frozen=True, slots=True)
class TaskNeeds:
    """What one task declares: ``dag_id.task_id``, its checks, and whether it waits in the triggerer."""

    label: str
    checks: tuple[Any, ...]  # PermissionCheck (imported lazily)
    deferrable: bool


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``rbac`` subcommand."""
    rbac = subparsers.add_parser(
        "rbac",
        help="print the least-privilege RBAC YAML the tasks of a DAG folder need",
        description=(
            "Parse a DAG folder like Airflow does and print the Role/RoleBinding YAML granting what every "
            "airflow-k8s-reconcile operator and sensor in it declares (required_permissions), with a comment "
            "naming the tasks each rule is for."
        ),
    )
    rbac.add_argument("--dags", required=True, type=Path, metavar="DIR", help="the DAG folder (or one file)")
    rbac.add_argument(
        "--subject",
        action="append",
        default=[],
        metavar="USER",
        help=(
            "who to bind, e.g. system:serviceaccount:NS:NAME (repeatable: add the triggerer's for deferrable "
            f"sensors; default {DEFAULT_SUBJECT})"
        ),
    )
    rbac.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help=(
            "namespace for tasks that work in the connection's namespace, an expanded one, or a template the "
            "DAG's default params do not resolve (repeatable)"
        ),
    )


def _usage_error(args: argparse.Namespace) -> str | None:
    if not args.dags.exists():
        return f"--dags {str(args.dags)!r} does not exist"
    bad = [ns for ns in args.namespace if not is_dns_label(ns)]
    if bad:
        return f"invalid namespace {bad[0]!r}: use {DNS_LABEL_RULE}"
    for subject in args.subject:
        if not subject or subject != subject.strip():
            return f"invalid --subject {subject!r}: give a user name, e.g. {DEFAULT_SUBJECT}"
    return None


def _dagbag(folder: Path) -> Any:
    """Parse ``folder`` with Airflow's ``DagBag``; its logging goes to stderr (stdout is the YAML's)."""
    with contextlib.redirect_stdout(sys.stderr):
        from airflow_k8s_reconcile.compat import dagbag

        return dagbag(str(folder))


def _declared(task: Any) -> bool:
    """Return whether ``task`` is one of this package's and declares permissions (without evaluating them)."""
    return type(task).__module__.startswith(_PACKAGE) and hasattr(type(task), "required_permissions")


def _unmapped(task: Any) -> Any:
    """Return ``task``, or for a mapped task the operator its ``partial`` arguments make.

    The expanded arguments exist only at run time (often another task's XCom); what they would set, typically the
    namespace, stays empty and comes from ``-n``. A ``MappedOperator`` is Airflow's class, not this package's, so
    without this the task would be skipped and its permissions silently missing from the YAML.
    """
    cls = getattr(task, "operator_class", None)
    if isinstance(cls, type) and cls is not type(task) and hasattr(task, "unmap"):
        return task.unmap({})
    return task


class _UnresolvedError(Exception):
    """A templated permission field (other than the namespace) that the DAG's default params do not render."""


def _rendered(operator: Any, dag: Any) -> Any:
    """Return a copy of ``operator`` with each templated field rendered over the DAG's default params.

    The declarations derive from the arguments (``namespace="{{ params.namespace }}"`` is a namespace only once
    rendered), so the fields are rendered first, as a run triggered without a conf would. A field that needs
    more than the params (``ti``, ``ds``, an XCom) keeps its template: the declaration then says what it can
    (a namespace becomes "unknown", taken from ``-n``). ``StrictUndefined`` because Airflow's own environment
    renders an unknown name as ``""``, which would read as "the connection's namespace" without a word.
    """
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)  # noqa: S701 (YAML, not HTML)
    env.filters.update(getattr(dag, "user_defined_filters", None) or {})
    params = dag.params.dump() if hasattr(dag.params, "dump") else dict(dag.params)
    context = {**(getattr(dag, "user_defined_macros", None) or {}), "params": params}
    out = copy.copy(operator)
    for field in getattr(operator, "template_fields", ()):
        try:
            setattr(out, field, operator.render_template(getattr(operator, field), context, env))
        except jinja2.TemplateError:
            continue
    return out


_TEMPLATABLE = ("group", "resource", "subresource", "namespace", "resource_name", "url")


def _resolve(permission: Any) -> Any:
    """Return ``permission``, with a namespace still templated made ``""`` (unknown: ``-n`` supplies it).

    :raises _UnresolvedError: another field is still a template (a group or resource from an XCom...).
    """
    for field in _TEMPLATABLE:
        value = getattr(permission, field)
        if field != "namespace" and ("{{" in value or "{%" in value):
            raise _UnresolvedError(f"{field} {value!r} is known only at run time")
    if "{{" in permission.namespace or "{%" in permission.namespace:
        return dataclasses.replace(permission, namespace="")
    return permission


def collect(bag: Any, namespaces: Sequence[str]) -> tuple[list[TaskNeeds], list[str]]:
    """Return each declaring task's checks, and the problems (one line each) that make the YAML incomplete.

    A namespace that is empty (the connection's) or a template (rendered only at run time) is taken from
    ``namespaces``; without any, the task is reported instead of guessed.
    """
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionSpecError, expand_checks
    from airflow_k8s_reconcile.permissions import as_permissions

    needs: list[TaskNeeds] = []
    problems: list[str] = []
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        for task in sorted(dag.tasks, key=lambda item: item.task_id):
            label = f"{dag_id}.{task.task_id}"
            try:
                operator = _unmapped(task)
                if not _declared(operator):
                    continue
                operator = _rendered(operator, dag)
                declared = [_resolve(p) for p in as_permissions(operator.required_permissions)]
            except (PermissionSpecError, _UnresolvedError) as err:
                problems.append(f"{label}: {err}")
                continue
            except (
                Exception
            ) as err:  # a declaration that breaks on parse-time arguments: name it, no traceback
                problems.append(f"{label}: required_permissions failed: {type(err).__name__}: {err}")
                continue
            concrete = [p for p in declared if p.namespace]
            open_ = [p for p in declared if not p.namespace]
            if open_ and not namespaces and _needs_namespace(open_):
                problems.append(
                    f"{label}: works in the connection's namespace, an expanded or a templated one; "
                    "pass -n NAMESPACE"
                )
                continue
            checks = expand_checks(concrete, ()) + expand_checks(open_, namespaces)
            needs.append(
                TaskNeeds(label, tuple(dict.fromkeys(checks)), bool(getattr(operator, "deferrable", False)))
            )
    return needs, problems


def _needs_namespace(permissions: Iterable[Any]) -> bool:
    """Return whether any of ``permissions`` is namespaced (cluster-scoped ones and URLs need no namespace)."""
    from airflow_k8s_reconcile.domain.preflight.permissions import expand_checks

    return any(check.namespace for check in expand_checks(permissions, ("probe",)))


def _rule_allows(rule: dict[str, list[str]], check: Any) -> bool:
    from airflow_k8s_reconcile.domain.preflight.rbac_rules import (
        NonResourceRule,
        ResourceRule,
        non_resource_rule_allows,
        resource_rule_allows,
    )

    if "nonResourceURLs" in rule:
        return non_resource_rule_allows(
            NonResourceRule(verbs=tuple(rule["verbs"]), urls=tuple(rule["nonResourceURLs"])), check
        )
    resource_rule = ResourceRule(
        verbs=tuple(rule["verbs"]),
        api_groups=tuple(rule["apiGroups"]),
        resources=tuple(rule["resources"]),
        resource_names=tuple(rule.get("resourceNames", ())),
    )
    return resource_rule_allows(resource_rule, check)


def _rule_comments(rule: dict[str, list[str]], scope: str, needs: Sequence[TaskNeeds]) -> list[str]:
    lines = []
    for need in needs:
        verbs = [c.verb for c in need.checks if c.namespace == scope and _rule_allows(rule, c)]
        if verbs:
            lines.append(f"# {need.label} needs: {', '.join(dict.fromkeys(verbs))}")
    return lines


def annotate(remediation: Any, needs: Sequence[TaskNeeds]) -> str:
    """Return the remediation's YAML with a comment above each rule naming the tasks (and verbs) it is for."""
    texts = remediation.yaml.split("\n---\n")
    out: list[str] = []
    for document, text in zip(remediation.documents, texts, strict=True):
        rules = iter(document.get("rules", ()))
        scope = document["metadata"].get("namespace", "")
        lines = []
        for line in text.splitlines():
            if "rules" in document and line.startswith("- "):  # a top-level list item of a Role: a rule
                lines += _rule_comments(next(rules), scope, needs)
            lines.append(line)
        out.append("\n".join(lines))
    return "---\n" + "\n---\n".join(out) + "\n"


def render(needs: Sequence[TaskNeeds], subjects: Sequence[str], folder: Path) -> str:
    """Return the whole output: a header naming the subjects and tasks, then the annotated YAML per subject."""
    from airflow_k8s_reconcile.domain.preflight.rbac_remediation import rbac_remediation
    from airflow_k8s_reconcile.domain.preflight.subjects import Subject

    header = [
        f"# Least-privilege RBAC for the airflow-k8s-reconcile tasks in {folder} (airflow-k8s-reconcile rbac)."
    ]
    if not any(need.checks for need in needs):
        return "\n".join([*header, "# No task declares permissions: nothing to grant."]) + "\n"
    header.append("# Tasks: " + ", ".join(need.label for need in needs if need.checks))
    deferrable = [need.label for need in needs if need.deferrable]
    if deferrable and len(subjects) == 1:
        header.append(
            "# Deferrable ("
            + ", ".join(deferrable)
            + "): the triggerer runs their checks with its own service "
            "account; add it with a second --subject."
        )
    checks = [check for need in needs for check in need.checks]
    first, *others = [Subject.for_user(user) for user in subjects]
    header.append(("# Subject: " if not others else "# Subjects: ") + ", ".join(subjects))
    remediation = rbac_remediation(checks, first, also_bind=others)
    return "\n".join(header) + "\n" + annotate(remediation, needs)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``rbac``; return the exit code."""
    problem = _usage_error(args)
    if problem:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return 2
    bag = _dagbag(args.dags)
    if bag.import_errors:
        for path, error in sorted(bag.import_errors.items()):
            print(f"DAG file {path} did not import:\n{error}", file=sys.stderr)
        return 1
    needs, problems = collect(bag, args.namespace)
    if problems:
        print("Cannot derive the RBAC of every task:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    sys.stdout.write(render(needs, args.subject or [DEFAULT_SUBJECT], args.dags))
    return 0
