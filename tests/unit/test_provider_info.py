from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import jsonschema
from packaging.utils import canonicalize_name

from airflow_k8s_reconcile.provider_info import get_provider_info


def _schema() -> dict:
    import airflow

    return json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())


def test_provider_info_validates_against_airflows_schema():
    jsonschema.validate(get_provider_info(), _schema())


def test_package_name_is_the_normalised_distribution_name():
    dist = metadata.distribution("airflow-k8s-reconcile")
    assert get_provider_info()["package-name"] == canonicalize_name(dist.metadata["Name"])


def test_entry_point_resolves_to_get_provider_info():
    points = [
        ep
        for ep in metadata.entry_points(group="apache_airflow_provider")
        if ep.value.startswith("airflow_k8s_reconcile")
    ]
    assert len(points) == 1
    assert points[0].load() is get_provider_info


def test_every_listed_module_imports():
    import importlib

    info = get_provider_info()
    modules = [
        m
        for key in ("hooks", "operators", "sensors", "triggers")
        for entry in info.get(key, ())
        for m in entry["python-modules"]
    ]
    classes = [c["hook-class-name"] for c in info.get("connection-types", ())]
    for module in modules:
        importlib.import_module(module)
    for dotted in classes:
        module, _, name = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), name)


def test_airflow_providers_list_shows_the_provider_next_to_cncf(tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Airflow 3.0 logs its alembic plugin set-up at INFO on stdout, before the JSON.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run(
        [str(airflow), "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    providers = {p["package_name"]: p for p in json.loads(out.stdout)}
    assert "airflow-k8s-reconcile" in providers
    assert "apache-airflow-providers-cncf-kubernetes" in providers
