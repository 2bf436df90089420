from __future__ import annotations

import os
import tempfile

# Airflow reads AIRFLOW_HOME when first imported; keep the suite away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

pytest_plugins = ["pytester"]
