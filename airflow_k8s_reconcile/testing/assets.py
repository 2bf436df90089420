"""Find (or provision) the control plane binaries: etcd, kube-apiserver and kube-controller-manager.

Lookup order follows Go's envtest convention, so users with modern binaries (``setup-envtest``) can use them:

1. ``TEST_ASSET_ETCD`` / ``TEST_ASSET_KUBE_APISERVER`` / ``TEST_ASSET_KUBE_CONTROLLER_MANAGER`` per binary;
2. ``$KUBEBUILDER_ASSETS``, a directory holding ``etcd`` and ``kube-apiserver`` (``kube-controller-manager``
   optional: without it namespaces never finish deleting and no ``default`` ServiceAccount appears);
3. the project's cache, ``~/.cache/airflow-k8s-reconcile/control-plane/k8s-<version>-<script hash>/``;
4. otherwise the bundled ``provision-control-plane.sh`` builds them from Debian packages (minutes, once).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

K8S_VERSION = "1.20.2"
PROVISION_SCRIPT = Path(__file__).with_name("assets") / "provision-control-plane.sh"
_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")


class AssetsNotFoundError(RuntimeError):
    """No usable control plane binaries, and provisioning was not possible or not allowed."""


@dataclasses.dataclass(frozen=True, slots=True)
class ControlPlaneAssets:
    """Paths of the binaries a :class:`~airflow_k8s_reconcile.testing.control_plane.LocalControlPlane` runs."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path | None
    origin: str

    def describe(self) -> str:
        """Return a one-line description for progress output."""
        kcm = self.kube_controller_manager or "no kube-controller-manager"
        return f"{self.origin}: {self.kube_apiserver}, {self.etcd}, {kcm}"


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the project's cache directory (``$AIRFLOW_K8S_RECONCILE_CACHE`` overrides it)."""
    if explicit := environ.get("AIRFLOW_K8S_RECONCILE_CACHE"):
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-k8s-reconcile"


def cached_assets_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the cache directory for this version and this revision of the provisioning script."""
    digest = hashlib.sha256(PROVISION_SCRIPT.read_bytes()).hexdigest()[:12]
    return cache_root(environ) / "control-plane" / f"k8s-{K8S_VERSION}-{digest}"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _from_environment(environ: Mapping[str, str]) -> ControlPlaneAssets | None:
    found: dict[str, Path] = {}
    assets_dir = environ.get("KUBEBUILDER_ASSETS")
    for name in _BINARIES:
        per_binary = environ.get("TEST_ASSET_" + name.upper().replace("-", "_"))
        if per_binary:
            found[name] = Path(per_binary)
        elif assets_dir and _executable(Path(assets_dir) / name):
            found[name] = Path(assets_dir) / name
    if not found:
        return None
    missing = [
        name for name in ("etcd", "kube-apiserver") if name not in found or not _executable(found[name])
    ]
    if missing:
        where = f"KUBEBUILDER_ASSETS={assets_dir}" if assets_dir else "TEST_ASSET_* variables"
        raise AssetsNotFoundError(
            f"{where} does not provide an executable {' and '.join(missing)}. Point it at a directory holding "
            "etcd and kube-apiserver (for example the output of `setup-envtest use -p path`), or unset it to use "
            "the provisioned 1.20.2 binaries."
        )
    return ControlPlaneAssets(
        etcd=found["etcd"],
        kube_apiserver=found["kube-apiserver"],
        kube_controller_manager=found.get("kube-controller-manager"),
        origin="KUBEBUILDER_ASSETS" if assets_dir else "TEST_ASSET_*",
    )


def _from_dir(directory: Path, origin: str) -> ControlPlaneAssets | None:
    if not (directory / ".complete").exists():
        return None
    if not all(_executable(directory / name) for name in _BINARIES):
        return None
    return ControlPlaneAssets(
        etcd=directory / "etcd",
        kube_apiserver=directory / "kube-apiserver",
        kube_controller_manager=directory / "kube-controller-manager",
        origin=origin,
    )


def provision(environ: Mapping[str, str] = os.environ) -> Path:
    """Run the provisioning script (progress goes to stderr) and return the asset directory.

    :raises AssetsNotFoundError: when the script fails; its output says why.
    """
    env = dict(environ)
    env.setdefault("AIRFLOW_K8S_RECONCILE_CACHE", str(cache_root(environ)))
    result = subprocess.run(
        ["bash", str(PROVISION_SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssetsNotFoundError(
            f"provisioning the control plane failed (exit {result.returncode}); see the output above. On a machine "
            "without apt, set KUBEBUILDER_ASSETS to a directory with etcd and kube-apiserver instead."
        )
    return Path(result.stdout.strip().splitlines()[-1])


def find_assets(
    environ: Mapping[str, str] = os.environ, *, allow_provision: bool = True
) -> ControlPlaneAssets:
    """Return the binaries to run, provisioning them when allowed and nothing else is found.

    :param allow_provision: build the binaries when they are neither configured nor cached.
    :raises AssetsNotFoundError: when nothing usable exists.
    """
    configured = _from_environment(environ)
    if configured:
        return configured
    cached = _from_dir(cached_assets_dir(environ), "cache")
    if cached:
        return cached
    if not allow_provision:
        raise AssetsNotFoundError(
            f"no control plane binaries in {cached_assets_dir(environ)}. Run `airflow-k8s-reconcile cluster "
            "provision` (builds Kubernetes 1.20.2 from Debian packages, a few minutes once), or set "
            "KUBEBUILDER_ASSETS."
        )
    directory = provision(environ)
    assets = _from_dir(directory, "cache (provisioned now)")
    if assets is None:
        raise AssetsNotFoundError(f"provisioning reported {directory}, but it holds no complete asset set")
    return assets
