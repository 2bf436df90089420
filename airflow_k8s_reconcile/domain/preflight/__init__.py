"""Preflight decisions: required permissions, Kubernetes' RBAC matching, findings and remediation.

Pure like the rest of ``domain``: standard library and PyYAML only; no Airflow, no Kubernetes client, no I/O. The
runners in ``hooks`` perform what this package asks for (one SelfSubjectRulesReview per namespace, the access
reviews :func:`~airflow_k8s_reconcile.domain.preflight.rbac_evaluation.access_reviews_needed` names) and hand the
JSON answers back.

May import: ``airflow_k8s_reconcile.findings`` and ``domain.common``. Must not import ``domain.reconcile`` (an
import-linter contract holds this).

Modules:

- ``permissions``: :class:`Permission`, :class:`PermissionCheck`, the ``--require`` SPEC parser, cluster scope;
- ``rbac_rules``: the rules review and the exact RBAC matchers (``evaluation_helpers.go``);
- ``rbac_evaluation``: local verdicts, which access reviews are needed, request bodies, settling answers;
- ``rbac_findings``: missing / unknown / granted findings;
- ``subjects`` and ``rbac_remediation``: least-privilege Role/RoleBinding YAML, kubectl commands, can-i lines;
- ``network_policy``: the egress NetworkPolicy snippet for the API server and DNS.
"""
