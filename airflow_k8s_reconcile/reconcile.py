"""The public types of ConfigMap reconciliation: what a DAG author builds, passes and gets back.

A render function given to ``K8sGenerateConfigMapsOperator`` returns :class:`ConfigMapSpec` values (or plain dicts
of the same fields); :class:`Policy`, :class:`Mode` and :class:`OnForeign` say how a reconcile treats drift and
objects it does not own; :class:`Masking` decides what a report may show of values. They are defined in the pure
core (``domain/reconcile``), which is not public API; this module is their stable address.
"""

from __future__ import annotations

from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef
from airflow_k8s_reconcile.domain.reconcile.masking import Masking
from airflow_k8s_reconcile.domain.reconcile.policy import Mode, OnForeign, Policy

__all__ = ["ConfigMapSpec", "InputRef", "Masking", "Mode", "OnForeign", "Policy"]
