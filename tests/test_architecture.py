"""The package's shape: imports flow one way down the stages, no cycle, short modules, each
stage with its README (ARCHITECTURE.md explains the order)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
# the stages, lowest first: a module may import its own stage and those before it, never after
LAYERS = ("words", "decimals", "errors", "terminal", "notices", "interrupts", "memory",
          "project", "output", "data", "value", "policy", "activation", "render", "history",
          "run", "distributed", "plan", "report", "workflow", "serve", "commands", "cli", "api")
MAX_LINES = 400


def modules(root: Path) -> dict[str, Path]:
    """Every module under ``root`` (a folder named engine) by its dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(root: Path) -> dict[str, set[str]]:
    """The engine modules each module imports, wherever the import statement is (a function's
    lazy import and a type checker's import count: they are arrows all the same)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                # `from engine.x import y`: y may be a module of its own (then the arrow is to
                # y; the package's __init__ holds only its docstring)
                subs = [f"{base}.{a.name}" for a in node.names]
                targets = subs if all(s in mods for s in subs) else [base, *subs]
            else:
                continue
            found |= {t for t in targets if t in mods and t != name and t != "engine"}
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path around each cycle found (depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS[0]  # the package's own __init__: the version, nothing else
    return "cli" if parts[1] == "__main__" else parts[1]


def test_no_import_cycle() -> None:
    found = cycles(imports(ENGINE))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_flow_down_the_stages() -> None:
    graph = imports(ENGINE)
    unknown = sorted({layer(m) for m in graph} - set(LAYERS))
    assert not unknown, (f"engine/{unknown[0]} is in no stage: place it in LAYERS (here) and in "
                         "ARCHITECTURE.md")
    upward = [f"{m} ({layer(m)}) imports {t} ({layer(t)})" for m, targets in sorted(graph.items())
              for t in sorted(targets) if LAYERS.index(layer(t)) > LAYERS.index(layer(m))]
    assert not upward, "imports up the stages:\n" + "\n".join(upward)


def test_lazy_and_relative_imports_are_seen(tmp_path: Path) -> None:
    pkg = tmp_path / "engine"
    (pkg / "policy").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "policy" / "__init__.py").write_text("")
    (pkg / "policy" / "a.py").write_text("def f():\n    from engine.policy import b\n")
    (pkg / "policy" / "b.py").write_text("from . import a\nfrom ..errors import x\n")
    graph = imports(pkg)
    assert graph["engine.policy.a"] == {"engine.policy.b"}
    assert graph["engine.policy.b"] == {"engine.policy.a", "engine.errors"}
    assert cycles(graph) == [["engine.policy.a", "engine.policy.b", "engine.policy.a"]]


@pytest.mark.parametrize("folder", [ENGINE, ROOT / "tests"], ids=["engine", "tests"])
def test_no_module_over_400_lines(folder: Path) -> None:
    # test files hold many cases and may be long; helpers shared by tests may not
    paths = [p for p in folder.rglob("*.py")
             if folder == ENGINE or not p.name.startswith("test_")]
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in sorted(paths)
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(long)


def test_every_stage_has_its_readme() -> None:
    stages = [p for p in sorted(ENGINE.iterdir()) if (p / "__init__.py").is_file()]
    assert {p.name for p in stages} <= set(LAYERS), "a stage package missing from LAYERS"
    missing = [str(p.relative_to(ROOT)) for p in stages if not (p / "README.md").is_file()]
    assert not missing, f"stage packages without README.md: {missing}"
    for path in stages:
        text = (path / "README.md").read_text()
        for must in ("Comes in", "Goes out", "Must not import"):
            assert must in text, f"{path.name}/README.md does not say {must!r}"
