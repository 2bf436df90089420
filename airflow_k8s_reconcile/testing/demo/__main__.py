"""``python -m airflow_k8s_reconcile.testing.demo``."""

from __future__ import annotations

import sys

from airflow_k8s_reconcile.testing.demo.run import main

sys.exit(main())
