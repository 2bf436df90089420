"""Lazy package exports (PEP 562), so importing one public class does not import its siblings.

A DAG file that imports ``K8sConnectionCheckOperator`` from :mod:`airflow_k8s_reconcile.operators` must not pay for
every other operator, nor for the hooks and the Kubernetes client behind them: the DAG processor parses DAG files
over and over. Each public package therefore declares ``__all__``, imports its classes under ``TYPE_CHECKING`` (so
mypy and IDEs see real types) and hands the same table to :func:`lazy_exports`, which imports a submodule on first
access only.

Standard library only, and nothing heavy: every package of this provider imports it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return a module ``__getattr__`` and ``__dir__`` that load ``exports`` on first access.

    :param package: the package's ``__name__``.
    :param exports: public name -> submodule (relative to ``package``) that defines or re-exports it.
    :return: ``(__getattr__, __dir__)``; assign both at module level outside ``TYPE_CHECKING``.
    """
    table = dict(exports)

    def __getattr__(name: str) -> object:
        submodule = table.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(sys.modules[package], name, value)  # later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *table})

    return __getattr__, __dir__
