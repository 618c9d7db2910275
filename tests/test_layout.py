"""The shape of the code: no import cycles between embedtrain's modules, no imports
through strings, and kernels free of Python objects they cannot cache."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "embedtrain"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every embedtrain module ``name`` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        found |= {c for c in candidates if c in modules and c != name}
    return found


def test_no_import_cycles():
    modules = _modules()
    # the package's own __init__ is a facade that imports lazily; nothing imports it back
    graph = {m: _imports(m, p, modules) - {"embedtrain"} for m, p in modules.items() if m != "embedtrain"}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert len(graph) > 30  # the walk saw the whole package


def test_no_imports_through_strings():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "import_module(f\"embedtrain" not in text and ":train_" not in text, path


def test_kernels_import_nothing_but_numba_numpy_and_each_other():
    allowed = {"numpy", "numba", "llvmlite", "numba.core", "numba.extending", "numba.core.caching",
               "llvmlite.binding", "llvmlite.ir", "__future__", "hashlib", "logging", "os",
               "tempfile", "pathlib", "typing", "stat",   # typing: the kernels' NamedTuple arguments
               # kernels/__init__.py: numba without its passing imports of SciPy and PyYAML
               "sys", "importlib.util", "numba.np.arraymath",
               # kernels/sgns.py makes each specialised kernel once; kernels/warmstart.py
               # keeps numba's runtime functions compiled (issue 28)
               "threading", "pickle", "numba.core.runtime",
               # kernels/options.py: numba's own passes, its dead-branch pruning moved first;
               # the seconds its compile notice counts
               "numba.core.compiler", "numba.core.untyped_passes", "time"}
    for path in (PACKAGE / "kernels").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level:
                assert node.module in allowed, f"{path.name} imports {node.module}"
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module == "corpus.stream", f"{path.name} imports ..{node.module}"
            if isinstance(node, ast.Import):
                assert all(a.name in allowed for a in node.names), path.name


def test_every_command_is_found_where_the_cli_looks_for_it():
    """The CLI imports a command's module only when the command is used
    (cli.app.COMMAND_MODULES): every command a module of the package adds must be listed
    there under that module, and nothing else."""
    import importlib
    import pkgutil

    import embedtrain.cli as cli
    from embedtrain.cli.app import COMMAND_MODULES, main

    for info in pkgutil.iter_modules(cli.__path__):
        importlib.import_module(f"embedtrain.cli.{info.name}")
    found = {name: cmd.callback.__module__.rsplit(".", 1)[1] for name, cmd in main.commands.items()}
    assert found == COMMAND_MODULES
