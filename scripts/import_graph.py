"""The import graph between symbreak's top-level packages, and a check that every import points down and none goes round.

    python scripts/import_graph.py            # the graph, one line a package: what it imports
    python scripts/import_graph.py --check    # exit 1 (listing each file and line) if a package imports one above
                                              # it, or modules of one package import each other in a cycle

Every import counts, also those inside functions (they run too). The layers, bottom first, are
LAYERS below; a package may import itself and any package listed before it. Modules directly in
symbreak/ (cli.py, __init__.py) are the entry points above everything. Inside a package the modules
must form no cycle (a.py imports b.py, which imports a.py, directly or through others); a package's
__init__.py, which re-exports its modules, is left out of that check.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "driver" / "symbreak"

#: bottom first: shared types, then structures and models, the symmetry wrappers, the ranks of a torch.distributed
#: launch, the ASE calculator, the socket server, i-PI plumbing, the runs, their analysis, training, the audit, the
#: study, the subcommands
LAYERS = ("core", "structures", "potentials", "symmetry", "distributed", "ase", "server", "ipi", "campaign", "analysis",
          "training", "audit", "study", "commands")


def imported_modules(path: Path) -> list[tuple[tuple[str, ...], int]]:
    """(module path inside symbreak, line) for every import of a symbreak module in ``path``.

    ``from .x import name`` counts as an import of x.name (which may be a module or a name in x).
    """
    rel = path.relative_to(PACKAGE)
    here = rel.parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - (node.level - 1)]) if node.level - 1 <= len(here) else []
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [a.name] for a in node.names] if not node.module else [target]
            elif node.module and node.module.split(".")[0] == "symbreak":
                names = [node.module.split(".")[1:] + ([] if len(node.module.split(".")) > 1 else [a.name])
                         for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1:] for a in node.names if a.name.split(".")[0] == "symbreak"]
        found += [(tuple(parts), node.lineno) for parts in names if parts]
    return found


def imported_packages(path: Path) -> list[tuple[str, int]]:
    """(top-level symbreak package, line) for every import of a symbreak module in ``path``."""
    return [(parts[0], line) for parts, line in imported_modules(path) if parts[0] in LAYERS]


def module_of(parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The module file an imported path names: pkg/mod.py for ('pkg', 'mod', 'name') or ('pkg', 'mod')."""
    for n in (len(parts), len(parts) - 1):
        if n >= 2 and (PACKAGE.joinpath(*parts[:n]).with_suffix(".py")).is_file():
            return parts[:n]
    return None


def module_cycles() -> list[str]:
    """'a.py -> b.py -> a.py (file:line, ...)' for every cycle of imports between modules of one package."""
    edges: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) < 2 or rel.parts[0] not in LAYERS or rel.name == "__init__.py":
            continue
        here = tuple(rel.with_suffix("").parts)
        for parts, line in imported_modules(path):
            target = module_of(parts)
            if target is not None and target != here and target[:-1] == here[:-1]:
                edges.setdefault(here, {}).setdefault(target, f"{rel}:{line}")
    cycles, seen = [], set()

    def visit(node, stack):
        for target in edges.get(node, {}):
            if target in stack:
                loop = stack[stack.index(target):] + [target]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    where = ", ".join(edges[a][b] for a, b in zip(loop, loop[1:]))
                    cycles.append(" -> ".join("/".join(m) + ".py" for m in loop) + f" ({where})")
            elif len(stack) < 50:
                visit(target, stack + [target])

    for start in sorted(edges):
        visit(start, [start])
    return cycles


def graph() -> dict[str, dict[str, list[str]]]:
    """package -> {imported package -> ['file:line', ...]} for every top-level package."""
    out: dict[str, dict[str, list[str]]] = {name: {} for name in LAYERS}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if len(rel.parts) < 2 or rel.parts[0] not in LAYERS:
            continue
        for target, line in imported_packages(path):
            if target != rel.parts[0]:
                out[rel.parts[0]].setdefault(target, []).append(f"{rel}:{line}")
    return out


def upward_imports(g: dict[str, dict[str, list[str]]]) -> list[str]:
    """'file:line: a imports b (above it)' for every import of a higher layer."""
    rank = {name: k for k, name in enumerate(LAYERS)}
    return [f"{where}: {pkg} imports {target} (above it)"
            for pkg, targets in g.items() for target, places in targets.items() if rank[target] > rank[pkg]
            for where in places]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a package imports one above it or modules of a package import each other in a cycle")
    args = parser.parse_args(argv)
    g = graph()
    for pkg in reversed(LAYERS):
        below = [t for t in LAYERS if t in g[pkg]]
        print(f"{pkg:10s} -> {', '.join(below) if below else '(nothing)'}")
    bad = upward_imports(g)
    if bad:
        print("\nupward imports:\n  " + "\n  ".join(bad))
    cycles = module_cycles()
    if cycles:
        print("\nimport cycles inside a package:\n  " + "\n  ".join(cycles))
    return 1 if (args.check and (bad or cycles)) else 0


if __name__ == "__main__":
    sys.exit(main())
