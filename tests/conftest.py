from __future__ import annotations

import os
import tempfile

import pytest

# Airflow reads AIRFLOW_HOME when first imported; keep the suite away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

pytest_plugins = ["pytester"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "min_airflow(version, reason): skip, naming the version and why, when the running Airflow is older "
        "(make test-oldest runs the suite on the oldest supported Airflow)",
    )


def pytest_collection_modifyitems(items):
    marked = [(item, item.get_closest_marker("min_airflow")) for item in items]
    marked = [(item, marker) for item, marker in marked if marker is not None]
    if not marked:
        return  # no Airflow import for runs that do not need it
    from airflow_k8s_reconcile.compat import AIRFLOW_VERSION, _release

    running = ".".join(map(str, AIRFLOW_VERSION))
    for item, marker in marked:
        (version,) = marker.args
        reason = marker.kwargs["reason"]  # a skip must say why; KeyError here is the reminder
        if _release(version) > AIRFLOW_VERSION:
            item.add_marker(
                pytest.mark.skip(reason=f"needs Airflow >= {version} (running {running}): {reason}")
            )
