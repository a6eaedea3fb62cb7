"""Dependencies point one way (docs/architecture.md): entry points → starter and console
→ workflows → activities → partners → models and shared code. The sandbox, a simulator,
is reached only from entry points. Checked on the source, so a new arrow against the
grain or a new import cycle fails here before it grows roots."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("worker", "starter", "workflows", "activities", "crossdock")

# Lower is higher up. A module may import its own layer or any layer below it.
LAYERS: dict[str, int] = {
    "worker": 0,
    "crossdock.cli": 0,
    "crossdock.cli_console": 0,
    "crossdock.cli_bulk": 0,
    "crossdock.cli_replay": 0,
    "crossdock.cli_cases": 0,
    "crossdock.runner": 0,
    "crossdock.chaos": 0,
    "crossdock.demo": 0,
    "crossdock.demo_disputes": 0,
    "crossdock.demo_operator": 0,
    "crossdock.demo_returns": 0,
    "crossdock.demo_buyers": 0,
    "starter": 1,
    "crossdock.console": 1,
    "workflows": 2,
    "activities": 3,
    "crossdock.partners": 4,
    "crossdock": 5,
}
# The simulator stands beside the product: only entry points may start it.
SANDBOX = "crossdock.sandbox"

# Arrows against the grain that remain, each to be removed; the test fails when one is
# gone from the code too, so this list only shrinks.
KNOWN_BACK_ARROWS: frozenset[tuple[str, str]] = frozenset()
# Import cycles that remain, likewise only to shrink.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def product_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        single = ROOT / f"{package}.py"
        paths = [single] if single.is_file() else sorted((ROOT / package).rglob("*.py"))
        found |= {module_name(path): path for path in paths}
    return found


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """Imports under `if TYPE_CHECKING:`: annotations only, no dependency at run time."""
    guarded: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            guarded |= {child for stmt in node.body for child in ast.walk(stmt)}
    return guarded


def imports_of(path: Path) -> Iterator[str]:
    """Every module `path` imports at run time, at module level or inside a function."""
    package = module_name(path).rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    guarded = _type_checking_only(tree)
    for node in ast.walk(tree):
        if node in guarded:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def resolve(name: str) -> str | None:
    """The product module `name` refers to (a module, or the package of a name in it)."""
    modules = product_modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def layer_of(module: str) -> int | None:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def is_sandbox(module: str) -> bool:
    return module == SANDBOX or module.startswith(SANDBOX + ".")


@cache
def graph() -> dict[str, frozenset[str]]:
    edges: dict[str, frozenset[str]] = {}
    for module, path in product_modules().items():
        targets = {resolve(name) for name in imports_of(path)}
        edges[module] = frozenset(t for t in targets if t and t != module)
    return edges


def against_the_grain(source: str, target: str) -> bool:
    if is_sandbox(target):
        return not is_sandbox(source) and layer_of(source) != 0
    # The sandbox sits at the models' level: it may use them and nothing above.
    mine = LAYERS["crossdock"] if is_sandbox(source) else layer_of(source)
    theirs = layer_of(target)
    return mine is not None and theirs is not None and theirs < mine


def back_arrows(edges: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    return {(s, t) for s, targets in edges.items() for t in targets if against_the_grain(s, t)}


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_new_arrow_against_the_grain() -> None:
    arrows = back_arrows(graph())
    assert arrows - KNOWN_BACK_ARROWS == set(), "imports against the grain"
    assert KNOWN_BACK_ARROWS - arrows == set(), "fixed: remove from KNOWN_BACK_ARROWS"


def test_no_new_import_cycles() -> None:
    # A package's __init__ importing its own children is not a cycle of concern.
    found = {frozenset(g) for g in cycles(graph()) if not all(m.startswith(g[0]) for m in g)}
    assert found - KNOWN_CYCLES == set(), "new import cycles"
    assert KNOWN_CYCLES - found == set(), "fixed: remove from KNOWN_CYCLES"


def test_the_check_sees_a_planted_back_arrow_and_cycle() -> None:
    planted = dict(graph())
    planted["crossdock.money"] = planted["crossdock.money"] | {"workflows.order"}
    planted["activities.payments"] = planted["activities.payments"] | {"crossdock.sandbox.app"}
    assert ("crossdock.money", "workflows.order") in back_arrows(planted)
    assert ("activities.payments", "crossdock.sandbox.app") in back_arrows(planted)
    assert any("crossdock.money" in group for group in cycles(planted))


def unresolved_imports(path: Path) -> set[str]:
    """The first-party modules `path` imports from that do not exist."""
    modules = product_modules()
    tree = ast.parse(path.read_text(), str(path))
    named = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    ]
    return {n for n in named if n.split(".")[0] in PACKAGES and n not in modules}


def test_every_first_party_import_names_a_module_that_exists(tmp_path: Path) -> None:
    # A moved module's old name, caught before anything imports it (mypy catches it too;
    # this names the importer and the missing module in one list).
    missing = {(m, n) for m, path in product_modules().items() for n in unresolved_imports(path)}
    assert missing == set()
    planted = tmp_path / "planted.py"
    planted.write_text("from workflows.order_status import OrderStatus\nimport os\n")
    assert unresolved_imports(planted) == {"workflows.order_status"}
