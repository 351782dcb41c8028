"""The package's import graph has no cycles, lazy imports included."""

import ast
from pathlib import Path

from tests.conftest import ROOT


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _Imports(ast.NodeVisitor):
    """The ``sim`` modules a module imports, lazy ones included (not for type checking)."""

    def __init__(self, modules):
        self.modules, self.deps = modules, set()

    def visit_If(self, node):  # type-checking imports, and a module's __main__ block
        test = ast.unparse(node.test)
        if "TYPE_CHECKING" not in test and "__main__" not in test:
            self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.module and node.module.split(".")[0] == "sim":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                self.deps.add(full if full in self.modules else node.module)

    def visit_Import(self, node):
        self.deps.update(a.name for a in node.names if a.name.split(".")[0] == "sim")


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in (ROOT / "sim").rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        visitor = _Imports(modules)
        visitor.visit(ast.parse(path.read_text()))
        graph[name] = {d for d in visitor.deps if d in modules and d != name}
    return graph


def test_no_module_of_sim_imports_one_that_imports_it_back():
    graph = _graph()
    assert graph["sim.params"] >= {"sim.tactics", "sim.policies"}  # the builder imports them
    cycles = []

    def visit(start, node, path):
        for dep in graph[node]:
            if dep == start:
                cycles.append(" -> ".join([*path, start]))
            elif dep not in path:
                visit(start, dep, [*path, dep])

    for module in graph:
        visit(module, module, [module])
    assert not cycles, cycles[:5]
