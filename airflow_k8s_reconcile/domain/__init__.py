"""Pure decisions: diagnosis, RBAC matching, rendering, diffs and plans.

Standard library (plus ``PyYAML`` and ``cryptography`` for parsing) only: no Airflow, no Kubernetes client, no
network, no environment, clock or filesystem access. Callers pass those facts in; functions return values.
"""
