"""The layout shows the architecture: no import cycles, no generated code, no class swapping.

Module-level imports between crmkit's modules form no cycle (a method may
import the module that implements it inside its body, as
``PlsResult.bootstrap`` does, which runs after both modules are loaded).
The lifecycle engine does not import the standard machines at all, and
nothing in ``src`` builds code from strings or assigns ``__class__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MODULES = {
    ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): path
    for path in SRC.rglob("*.py")
}


def _imports(path: Path, module: str, *, top_level_only: bool) -> set[str]:
    """The crmkit modules ``module`` imports (submodules named in ``from pkg import sub`` count)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if top_level_only and inner:
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("crmkit"))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                if not base.startswith("crmkit"):
                    continue
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in MODULES else base)
            visit(child, inner)

    visit(tree, False)
    found.discard(module)
    return found


def test_no_import_cycles_at_module_level() -> None:
    graph = {m: _imports(p, m, top_level_only=True) & MODULES.keys() for m, p in MODULES.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m)
    assert not cycles, cycles


def test_the_engine_does_not_import_the_standard_machines() -> None:
    engine = _imports(
        MODULES["crmkit.lifecycle._machine"], "crmkit.lifecycle._machine", top_level_only=False
    )
    assert "crmkit.lifecycle._standard" not in engine
    assert "crmkit.lifecycle" not in engine


def test_no_generated_code_and_no_class_swapping() -> None:
    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("exec", "eval"):
                offenders.append(f"{module}:{node.lineno} calls {node.func.id}")  # type: ignore[attr-defined]
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "__class__" for t in node.targets
            ):
                offenders.append(f"{module}:{node.lineno} assigns __class__")
    assert not offenders, offenders
