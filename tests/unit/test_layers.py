"""The package's layers, read from its imports: a module imports its own layer and lower ones
only, layers of one level (worker, oracle) never import each other, nothing imports `cli`, no
modules import each other in a cycle, and only `ui` imports Qt. docs/architecture.md draws the
same layers."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "deskgrid"

# Lowest first. One entry per level; the units of one level are peers that must not import
# each other. "base" is the top-level modules (errors, paths, money, atomic files, logging) and
# deskgrid.resources (the top-level resources/ folder).
LAYERS: list[tuple[str, ...]] = [
    ("base",),
    ("crypto",),
    ("apps",),
    ("chain",),
    ("market",),
    ("grid",),
    ("worker", "oracle"),
    ("wallet",),
    ("node",),
    ("desktop",),
    ("ui",),
    ("cli",),
]
LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}
ENTRY_POINTS = {"deskgrid.cli", "deskgrid.__main__"}
RESOURCES = PACKAGE.parents[1] / "resources"  # the package sees it as deskgrid.resources
QT_MODULES = ("PySide6", "qasync", "PyQt5", "PyQt6", "shiboken6")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """`deskgrid.grid.api.jobs` → grid; `deskgrid.errors` → base; `deskgrid.cli` → cli."""
    if module in ENTRY_POINTS:
        return "cli"
    if module == "deskgrid.resources":
        return "base"
    parts = module.split(".")
    if len(parts) == 1 or (PACKAGE / parts[1]).is_file() or (PACKAGE / f"{parts[1]}.py").exists():
        return "base"
    return parts[1]


@cache
def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found["deskgrid.resources"] = RESOURCES / "__init__.py"
    return found


def resolve(imported: str) -> str:
    """The module an import names (`from deskgrid import paths` names deskgrid.paths)."""
    while imported not in modules() and "." in imported:
        imported = imported.rsplit(".", 1)[0]
    return imported


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every deskgrid module `module` imports, at any depth of its code."""
    path = modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            if name == "deskgrid" or name.startswith("deskgrid."):
                target = resolve(name)
                if target != module and target in modules():
                    found.add(target)
    return frozenset(found)


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(m) for m in modules()}
    assert units <= set(LEVEL), f"put these in LAYERS: {sorted(units - set(LEVEL))}"
    for name in ("chain", "grid", "worker", "oracle", "apps", "wallet", "node", "desktop", "ui"):
        assert (PACKAGE / name / "__init__.py").exists(), f"the {name} package is missing"


def wrong_directions(imports=imports_of) -> list[str]:
    wrong = []
    for module in sorted(modules()):
        src = unit_of(module)
        for target in sorted(imports(module)):
            dst = unit_of(target)
            if dst == src and src != "cli":
                continue
            if target in ENTRY_POINTS and not (module == "deskgrid.__main__"):
                wrong.append(f"{module} imports {target}: nothing imports the command line")
            elif LEVEL[dst] >= LEVEL[src] and dst != src:
                how = "a peer" if LEVEL[dst] == LEVEL[src] else "a higher layer"
                wrong.append(f"{module} ({src}) imports {target} ({dst}), {how}")
    return wrong


def test_imports_go_down_the_layers_only() -> None:
    assert wrong_directions() == []


def test_no_import_cycles() -> None:
    graph = {m: imports_of(m) for m in modules()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert [" → ".join(c) for c in cycles] == []


def test_only_the_ui_imports_qt() -> None:
    offenders = []
    for module, path in modules().items():
        if unit_of(module) == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{module} imports {n}" for n in names if n.startswith(QT_MODULES)]
    assert offenders == []


@pytest.mark.parametrize(
    ("module", "imported", "complaint"),
    [
        ("deskgrid.chain.keyfile", "deskgrid.wallet.keystores", "a higher layer"),
        ("deskgrid.worker.native_runner", "deskgrid.cli", "nothing imports the command line"),
        ("deskgrid.worker.worker", "deskgrid.oracle.oracle", "a peer"),
    ],
)
def test_the_check_sees_a_wrong_import(module, imported, complaint) -> None:
    """The rule is not vacuous: an import in the wrong direction is reported."""

    def imports(m: str) -> frozenset[str]:
        return imports_of(m) | {imported} if m == module else imports_of(m)

    assert any(complaint in line and imported in line for line in wrong_directions(imports))
