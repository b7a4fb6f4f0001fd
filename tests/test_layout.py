"""The shape of the project: the contract package imported by both halves and importing neither,
the offline half never importing the online one, no import cycles between modules nor between the
folders of a half (imports inside functions count too), no module over 300 lines, and sub-packages
rather than groups of modules sharing a name prefix."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("modelfolder", "distill", "service", "bench")
# What each top-level package may import of the others: arrows point down only.
ALLOWED = {"modelfolder": set(), "distill": {"modelfolder"}, "service": {"modelfolder"},
           "bench": {"modelfolder", "distill", "service"}}
MAX_LINES = 300


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The project modules `path` imports anywhere in its body (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = {name: path for package in PACKAGES for name, path in _modules(package).items()}
    return {name: _imports(path, name, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (as a list of modules), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    assert _cycle(_graph()) is None


def _unit(module: str) -> str:
    """The folder a module counts in: its first sub-package (`service.runtime`), or itself when it
    sits at the top of its package (`service.app`)."""
    return ".".join(module.split(".")[:2])


def _unit_graph() -> dict[str, set[str]]:
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in _graph().items():
        units[_unit(module)] |= {_unit(t) for t in targets if _unit(t) != _unit(module)}
    return units


def test_packages_import_only_the_packages_below_them():
    wrong = sorted(f"{module} -> {target}" for module, targets in _graph().items() for target in targets
                   if (a := module.split(".")[0]) != (b := target.split(".")[0]) and b not in ALLOWED[a])
    assert wrong == []


def test_the_folders_of_each_package_form_no_circle():
    """Within distill/ and service/, no folder (or top-level module) reaches back to one that
    reaches it: every arrow between folders points one way."""
    assert _cycle(_unit_graph()) is None


def test_the_folder_cycle_finder_sees_a_circle_through_sub_folders():
    graph = {"service.a.x": {"service.b.y"}, "service.b.z": {"service.a"}, "service.a": set()}
    units: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        units[_unit(module)] |= {_unit(t) for t in targets if _unit(t) != _unit(module)}
    assert _cycle(units) == ["service.a", "service.b", "service.a"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_the_line_limit(package):
    long = {str(p.relative_to(ROOT)): n for p in _modules(package).values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_name_prefix_standing_in_for_a_sub_package(package):
    groups: dict[tuple[Path, str], list[str]] = defaultdict(list)
    for path in _modules(package).values():
        if path.name != "__init__.py" and "_" in path.stem.strip("_"):
            groups[(path.parent, path.stem.split("_")[0])].append(path.name)
    for path in _modules(package).values():  # a module named like the prefix belongs to its group
        if (path.parent, path.stem) in groups:
            groups[(path.parent, path.stem)].append(path.name)
    crowded = {f"{folder.relative_to(ROOT)}/{prefix}_*": names for (folder, prefix), names in groups.items()
               if len(names) >= 3}
    assert crowded == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_folder_of_code_is_a_regular_package(package):
    # setuptools' find_packages leaves folders without __init__.py out of a built wheel
    folders = {p.parent for p in (ROOT / package).rglob("*.py")}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file()) == []
