"""The pure core of ConfigMap reconcile: desired state, validation, markers, diff, attribution, plan and report.

Decides, never performs: live objects come in as plain dicts exactly as the API server's JSON returns them
(deserialising a list into the client's typed models costs about six times the raw JSON parse), and what to write
goes out as plain dicts (the server-side apply body, the RFC 6902 patch, the delete options) for the hooks to send.

May import: the standard library, :mod:`airflow_k8s_reconcile.findings`, :mod:`airflow_k8s_reconcile.exceptions`
and :mod:`airflow_k8s_reconcile.domain.common`. Must not import the Kubernetes client, Airflow, I/O modules, or the
sibling capabilities ``domain.connection`` and ``domain.preflight`` (import-linter enforces the last one).

Modules, in the order a reconcile uses them: :mod:`.spec` (what is desired, and from which inputs),
:mod:`.validation` (every violation at once, before any request), :mod:`.markers` (ownership label and
annotations, content hash, hash-suffixed names), :mod:`.diff` (desired vs live), :mod:`.attribution` (who changed
each drifted key, from ``managedFields``), :mod:`.patch` (request bodies), :mod:`.plan` (what to do per object,
ownership guard, prune, flap protection), :mod:`.answers` (how to branch on the API server's answer),
:mod:`.report` (the masked XCom/CLI report, its text, and Event payloads).
"""
