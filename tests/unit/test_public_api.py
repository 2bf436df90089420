"""The public API: what each public package exports, that it loads lazily, and that no signature leaks a private type.

Public modules are the top-level package, ``findings``, ``exceptions`` and ``hooks``, ``operators``, ``sensors``,
``triggers`` with their submodules; a module with a ``_`` segment, ``domain``, ``cli``, ``testing`` and
``provider_info`` are not. A public signature (function, method, property, class field) may name only types that a
public module exports in ``__all__``, or types from outside this package.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest

import airflow_k8s_reconcile

PACKAGE = airflow_k8s_reconcile.__name__
ROOT = Path(airflow_k8s_reconcile.__file__).parent
LAZY_PACKAGES = [PACKAGE, *(f"{PACKAGE}.{name}" for name in ("hooks", "operators", "sensors", "triggers"))]
NOT_PUBLIC = ("domain", "cli", "testing", "provider_info")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def public_modules() -> list[str]:
    """Every public module of the package, found on disk (so a new module is covered without editing this test)."""
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        name = _module_name(path)
        segments = name.split(".")[1:]
        if any(s.startswith("_") for s in segments) or (segments and segments[0] in NOT_PUBLIC):
            continue
        names.append(name)
    return names


def _exports(module: ModuleType) -> list[str]:
    """Return ``__all__``, or the public names a module defines itself when it has none."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return list(declared)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def public_objects() -> dict[int, str]:
    """Return ``id(object) -> 'module.name'`` for everything a public module exports."""
    out = {}
    for name in public_modules():
        module = importlib.import_module(name)
        for export in _exports(module):
            out[id(getattr(module, export))] = f"{name}.{export}"
    return out


# --- resolving annotation text to the object it names, through the defining module's own imports ---------------
def _imports(module: ModuleType) -> dict[str, str]:
    """Return local name -> dotted origin for every import in the module, ``TYPE_CHECKING`` blocks included."""
    origins: dict[str, str] = {}
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                origins[local] = alias.name if alias.asname else local
    return origins


def _dotted_names(annotation: str) -> list[str]:
    """Return each name or dotted name used in an annotation (``a.b.C[D]`` -> ``a.b.C``, ``D``)."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Attribute | ast.Name):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                found.append(".".join([node.id, *reversed(parts)]))
                return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted forward reference
            visit(ast.parse(node.value, mode="eval").body)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(annotation, mode="eval").body)
    return found


def _lookup(dotted: str) -> object:
    """Import the longest module prefix of ``dotted`` and return the attribute it names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            value = getattr(value, attr)
        return value
    raise LookupError(dotted)


def leaks(annotation: object, module: ModuleType, public: dict[int, str]) -> list[str]:
    """Return the dotted origins of names in ``annotation`` that belong to this package but are not public."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        annotation = getattr(annotation, "__qualname__", repr(annotation))
        if not isinstance(annotation, str):
            return []
    imports = _imports(module)
    bad = []
    for dotted in _dotted_names(annotation):
        head, _, rest = dotted.partition(".")
        origin = imports.get(head) or (f"{module.__name__}.{head}" if hasattr(module, head) else head)
        origin = f"{origin}.{rest}" if rest else origin
        if not origin.startswith(PACKAGE + "."):
            continue
        if id(_lookup(origin)) not in public:
            bad.append(origin)
    return bad


def _functions(owner: type) -> typing.Iterator[tuple[str, typing.Any]]:
    for name, value in vars(owner).items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, property):
            value = value.fget
        elif isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if callable(value) and hasattr(value, "__annotations__"):
            yield name, inspect.unwrap(value)


def signature_leaks(obj: object, public: dict[int, str]) -> list[str]:
    """Return ``where: origin`` for every private type named in the public signatures of ``obj``."""
    found = []
    if inspect.isclass(obj):
        for owner in obj.__mro__:
            if not owner.__module__.startswith(PACKAGE):
                continue  # Airflow's BaseHook / BaseOperator are not ours to police
            module = sys.modules[owner.__module__]
            for field, annotation in vars(owner).get("__annotations__", {}).items():
                if not field.startswith("_"):
                    found += [f"{owner.__qualname__}.{field}: {o}" for o in leaks(annotation, module, public)]
            for name, function in _functions(owner):
                for param, annotation in function.__annotations__.items():
                    found += [
                        f"{owner.__qualname__}.{name}({param}): {o}"
                        for o in leaks(annotation, module, public)
                    ]
    elif inspect.isfunction(obj):
        module = sys.modules[obj.__module__]
        for param, annotation in obj.__annotations__.items():
            found += [f"{obj.__qualname__}({param}): {o}" for o in leaks(annotation, module, public)]
    return sorted(set(found))


@pytest.mark.parametrize("module_name", public_modules())
def test_public_signatures_name_only_public_types(module_name):
    public = public_objects()
    module = importlib.import_module(module_name)
    found = [leak for name in _exports(module) for leak in signature_leaks(getattr(module, name), public)]
    assert not found, f"{module_name} exposes types from non-public modules: {found}"


_LEAKY = """
from __future__ import annotations
from typing import TYPE_CHECKING
from airflow_k8s_reconcile.findings import Report
if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import Resolution
    from airflow_k8s_reconcile.hooks._base import ConnectionHookBase

class Leaky:
    hook: ConnectionHookBase | None
    def resolve(self, report: Report) -> Resolution: ...
    def _private(self) -> Resolution: ...
"""


def test_the_checker_finds_private_types_in_signatures(tmp_path, monkeypatch):
    """Seed: a module of this package whose public class names a domain type and a private hook module's type."""
    path = tmp_path / "leaky.py"
    path.write_text(_LEAKY)
    name = f"{PACKAGE}._seed_leaky"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    assert signature_leaks(module.Leaky, public_objects()) == [
        f"Leaky.hook: {PACKAGE}.hooks._base.ConnectionHookBase",
        f"Leaky.resolve(return): {PACKAGE}.domain.connection.resolution.Resolution",
    ]


def test_public_modules_cover_the_role_packages():
    modules = set(public_modules())
    assert {
        PACKAGE,
        f"{PACKAGE}.findings",
        f"{PACKAGE}.exceptions",
        f"{PACKAGE}.hooks",
        f"{PACKAGE}.hooks.kubernetes",
        f"{PACKAGE}.operators",
        f"{PACKAGE}.operators.connection_check",
        f"{PACKAGE}.sensors",
        f"{PACKAGE}.triggers",
    } <= modules
    assert not {m for m in modules if ".domain" in m or "._" in m}


# --- lazy exports ------------------------------------------------------------------------------------------------
def _type_checking_imports(package: str) -> dict[str, str]:
    """Return name -> module of the ``if TYPE_CHECKING:`` imports in a package's ``__init__``."""
    source = Path(importlib.import_module(package).__file__).read_text()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                if isinstance(item, ast.ImportFrom):
                    out.update({alias.name: item.module for alias in item.names})
    return out


_PROBE = """
import importlib, json, sys
package = importlib.import_module(sys.argv[1])
before = sorted(m for m in sys.modules if m.startswith(sys.argv[1] + "."))
names = {name: getattr(package, name).__module__ for name in package.__all__ if name != "__version__"}
print(json.dumps({"before": before, "names": names, "dir": dir(package)}))
"""


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_package_exports_load_lazily_and_match_the_type_checking_imports(package):
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, package], capture_output=True, text=True, check=True
    ).stdout
    seen = json.loads(out)
    declared = _type_checking_imports(package)
    exported = [name for name in importlib.import_module(package).__all__ if name != "__version__"]
    assert sorted(declared) == sorted(exported), "__all__ and the TYPE_CHECKING imports disagree"
    for name, module in declared.items():
        # What mypy sees (the TYPE_CHECKING import) is what the runtime hands out.
        assert getattr(importlib.import_module(package), name) is getattr(
            importlib.import_module(module), name
        )
        assert name in seen["dir"]
    exporting_modules = set(declared.values())
    assert not exporting_modules & set(seen["before"]), "importing the package imported what it exports"


def test_one_export_does_not_import_its_siblings():
    probe = (
        "import sys\n"
        "from airflow_k8s_reconcile.hooks import ConnectionArguments\n"
        "print(sorted(m for m in sys.modules if m.startswith('airflow_k8s_reconcile.hooks.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['airflow_k8s_reconcile.hooks.arguments']"


def test_unknown_names_raise_attribute_error():
    import airflow_k8s_reconcile.operators as operators

    with pytest.raises(AttributeError, match="has no attribute 'NoSuchOperator'"):
        _ = operators.NoSuchOperator
    assert not hasattr(airflow_k8s_reconcile, "domain_secret")


def test_top_level_reexports_the_findings_module_objects():
    from airflow_k8s_reconcile import findings

    assert airflow_k8s_reconcile.Finding is findings.Finding
    assert airflow_k8s_reconcile.Report is findings.Report
    assert airflow_k8s_reconcile.Status is findings.Status


# --- the README's "Public API" table -----------------------------------------------------------------------------
# The source tree's README, also when testing the installed wheel (make test-oldest).
README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED = [PACKAGE, *(f"{PACKAGE}.{name}" for name in ("findings", "exceptions")), *LAZY_PACKAGES[1:]]


def readme_table(text: str) -> dict[str, list[str]]:
    """Return module -> names from the table under ``## Public API`` (``(none ...)`` is an empty list)."""
    section = text.split("\n## Public API\n", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = [
                name.strip().strip("`") for name in cells[1].split(",") if "`" in name
            ]
    return table


def test_readme_public_api_table_matches_all():
    table = readme_table(README.read_text())
    assert set(DOCUMENTED) <= set(table)
    assert set(table) <= set(public_modules()), "the table names a module that is not public"
    for module, names in table.items():
        assert sorted(names) == sorted(importlib.import_module(module).__all__), module


def test_readme_table_parser_reads_names_and_empty_rows():
    text = "x\n## Public API\n\n| module | public names |\n|---|---|\n| `a.b` | `X`, `y` |\n| `a.c` | (none yet) |\n## Next\n| `z` | `Q` |"
    assert readme_table(text) == {"a.b": ["X", "y"], "a.c": []}
