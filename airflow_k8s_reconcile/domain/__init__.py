"""The pure core: every decision the provider makes, as functions from plain values to plain values.

Layers (enforced by import-linter, see ``pyproject.toml`` and ``docs/architecture.md``)::

    operators | sensors | triggers | cli     thin: validate arguments, call a hook, decide here, report
    hooks                                     I/O: files, environment, clock, exec plugins, the Kubernetes API
    domain                                    this package: pure decisions
    findings | exceptions                     the vocabulary: Finding, Status, Report, errors

What ``domain`` may import: the standard library (minus I/O: no ``os``, ``pathlib``, ``tempfile``, ``time``,
``asyncio``, ``threading``, ``http``, ``socket``, ``ssl``, ``subprocess``, ``logging``), ``PyYAML`` and
``cryptography`` for parsing, and :mod:`airflow_k8s_reconcile.findings` / :mod:`airflow_k8s_reconcile.exceptions`.
Never Airflow, never a Kubernetes client. Facts from the outside world (environment, home directory, clock, file
contents) come in as arguments or through a port (:data:`~airflow_k8s_reconcile.domain.connection.files.FileReader`),
so every diagnosis is tested with plain values.

Sub-packages, one per capability:

- :mod:`~airflow_k8s_reconcile.domain.common`: the one finding catalogue, redaction, wording, name rules;
  shared by every capability and importing none of them.
- :mod:`~airflow_k8s_reconcile.domain.connection`: from connection settings to a resolved cluster source, and the
  diagnosis of API and transport errors.
- ``preflight`` and ``reconcile`` come with their features; they may import ``common`` and ``connection``, never
  each other.
"""
