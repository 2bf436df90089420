"""Thin Airflow operators: validate rendered arguments, read through hooks, decide in ``domain``, write through hooks.

The operator modules import only ``airflow.sdk`` at import time (the hooks, the Kubernetes client and the core load
inside ``execute``), so a DAG file importing them parses fast. Import them from their modules, e.g.
``from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator``.
"""
