from __future__ import annotations

import pytest

from airflow_k8s_reconcile.testing import assets
from airflow_k8s_reconcile.testing.assets import AssetsNotFoundError, cached_assets_dir, find_assets


def _binary(directory, name):
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_kubebuilder_assets_directory_wins_over_the_cache(tmp_path):
    _binary(tmp_path, "etcd")
    _binary(tmp_path, "kube-apiserver")
    found = find_assets(
        {"KUBEBUILDER_ASSETS": str(tmp_path), "AIRFLOW_K8S_RECONCILE_CACHE": str(tmp_path / "c")}
    )
    assert found.etcd == tmp_path / "etcd"
    assert found.kube_apiserver == tmp_path / "kube-apiserver"
    assert found.kube_controller_manager is None
    assert found.origin == "KUBEBUILDER_ASSETS"


def test_per_binary_variable_overrides_the_directory(tmp_path):
    _binary(tmp_path, "etcd")
    _binary(tmp_path, "kube-apiserver")
    (tmp_path / "other").mkdir()
    other = _binary(tmp_path / "other", "kube-apiserver")
    found = find_assets({"KUBEBUILDER_ASSETS": str(tmp_path), "TEST_ASSET_KUBE_APISERVER": str(other)})
    assert found.kube_apiserver == other


def test_assets_directory_without_apiserver_names_what_is_missing(tmp_path):
    _binary(tmp_path, "etcd")
    with pytest.raises(
        AssetsNotFoundError, match=r"KUBEBUILDER_ASSETS=.* does not provide an executable kube-apiserver"
    ):
        find_assets({"KUBEBUILDER_ASSETS": str(tmp_path)})


def test_cache_key_changes_with_the_provisioning_script(tmp_path, monkeypatch):
    env = {"AIRFLOW_K8S_RECONCILE_CACHE": str(tmp_path)}
    first = cached_assets_dir(env)
    assert first.parent == tmp_path / "control-plane"
    assert first.name.startswith(f"k8s-{assets.K8S_VERSION}-")
    script = tmp_path / "provision.sh"
    script.write_text(assets.PROVISION_SCRIPT.read_text() + "\n# changed\n")
    monkeypatch.setattr(assets, "PROVISION_SCRIPT", script)
    assert cached_assets_dir(env) != first


def test_complete_cache_is_used_without_provisioning(tmp_path):
    env = {"AIRFLOW_K8S_RECONCILE_CACHE": str(tmp_path)}
    directory = cached_assets_dir(env)
    directory.mkdir(parents=True)
    for name in ("etcd", "kube-apiserver", "kube-controller-manager"):
        _binary(directory, name)
    with pytest.raises(AssetsNotFoundError, match="cluster provision"):
        find_assets(env, allow_provision=False)
    (directory / ".complete").touch()
    found = find_assets(env, allow_provision=False)
    assert found.origin == "cache"
    assert found.kube_controller_manager == directory / "kube-controller-manager"
