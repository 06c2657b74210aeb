"""The house rules, read from the code: procedures are plug-ins, layers import one way.

- No module outside ``sim/procedures/`` compares anything to a procedure id, keys anything
  by one, imports a procedure's package or tests for a procedure's classes: the shared
  layers know procedures only through :mod:`sim.procedures.registry` and
  :class:`sim.procedures.base.Procedure`.
- No import cycles among sim's modules (module-level imports), and the core imports nothing
  above it (but :mod:`sim.words`, which imports nothing and serves every layer).
- The pure core (what the pipeline runs) loads no window, camera or GL code, and neither
  does any procedure's pure part.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from sim.procedures.registry import ids

SIM = Path(__file__).resolve().parents[1] / "sim"
PROCEDURES = SIM / "procedures"
SHARED_PROCEDURE_MODULES = {"sim.procedures", "sim.procedures.base", "sim.procedures.registry"}
SHARED_PROCEDURE_MODULES |= {"sim.procedures.check"}


def _module(path: Path) -> str:
    rel = path.relative_to(SIM.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def _shared() -> list[Path]:
    return [p for p in _sources() if PROCEDURES not in p.parents or p.parent == PROCEDURES]


def _ids_in(node: ast.AST) -> list[str]:
    """Procedure ids written as string constants anywhere under ``node``."""
    known = set(ids())
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in known
    ]


def procedure_switches(path: Path) -> list[str]:
    """Where a shared module names a procedure: a comparison with (or membership in) a
    procedure id, a dict keyed or a match case on one, an import of a procedure's package."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(SIM.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Compare | ast.match_case):
            found += [f"{where}: compares with '{i}'" for i in _ids_in(node)]
        elif isinstance(node, ast.Dict):
            found += [f"{where}: keyed by '{i}'" for k in node.keys if k for i in _ids_in(k)]
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module == "sim.procedures":
                names += [f"sim.procedures.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("sim.procedures.") and not any(
                    name == m or name.startswith(m + ".") and m != "sim.procedures"
                    for m in SHARED_PROCEDURE_MODULES
                ):
                    found.append(f"{where}: imports {name}")
    return found


def test_shared_modules_name_no_procedure() -> None:
    found = [hit for p in _shared() for hit in procedure_switches(p)]
    assert found == []


def probing(path: Path) -> list[str]:
    """``getattr``/``hasattr`` on a task state or an input source: a capability that should
    be declared (a typed state, a Protocol), not guessed at."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(SIM.parent)}:{n.lineno}: {ast.unparse(n)}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in ("getattr", "hasattr")
        and n.args
        and _names(n.args[0]) & {"state", "st", "source", "geo"}
    ]


def _names(node: ast.AST) -> set[str]:
    """Variable and attribute names in an expression."""
    return {
        x.id if isinstance(x, ast.Name) else x.attr
        for x in ast.walk(node)
        if isinstance(x, ast.Name | ast.Attribute)
    }


def test_shared_modules_probe_no_state_or_source() -> None:
    found = [hit for p in _shared() for hit in probing(p)]
    assert found == []


def test_the_check_finds_a_procedure_switch(tmp_path: Path) -> None:
    """The rule above is not vacuous: each way of naming a procedure is caught."""
    task = ids()[0]
    bad = SIM / "_probe_switch.py"
    bad.write_text(
        f"from sim.procedures.{task.replace('-', '_')}.spec import parts\n"
        f"A = x == {task!r}\nB = {{{task!r}: 1}}\nC = y in ({task!r}, 'other')\n"
    )
    try:
        found = procedure_switches(bad)
    finally:
        bad.unlink()
    assert len(found) == 4, found


def _imports(path: Path) -> set[str]:
    """The sim modules ``path`` imports at module level (not inside functions)."""
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for n in [node, *(node.body if isinstance(node, ast.If | ast.Try) else [])]:
            if isinstance(n, ast.Import):
                out |= {a.name for a in n.names if a.name.startswith("sim")}
            elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sim"):
                assert n.module is not None
                out.add(n.module)
                out |= {f"{n.module}.{a.name}" for a in n.names}
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in _sources()}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(" -> ".join([*trail[trail.index(n) :], n]))
            elif n not in state:
                visit(n, [*trail, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package importing its own submodules is not a cycle of modules
    cycles = [
        c for c in cycles if not all(p.startswith(c.split(" -> ")[0]) for p in c.split(" -> "))
    ]
    assert cycles == []


def test_the_core_imports_nothing_above_it() -> None:
    graph = _graph()
    up = {
        m: sorted(i for i in imp if not i.startswith(("sim.core", "sim.errors", "sim.words")))
        for m, imp in graph.items()
        if m.startswith("sim.core")
    }
    assert {m: i for m, i in up.items() if i} == {}


@pytest.mark.parametrize("task", ids())
def test_the_pure_core_loads_no_window_camera_or_gl_code(task: str) -> None:
    code = (
        "import sys\n"
        "from sim.scenarios import find_scenario\n"
        "from sim.pipeline import Pipeline\n"
        "from sim.sources.scripted import scripted_items\n"
        "import sim.storage.recording, sim.storage.session, sim.metrics.streaming\n"
        f"sc = find_scenario({task!r})\n"
        "p = Pipeline(sc)\n"
        "p.feed_all(scripted_items(sc, 'expert', 0))\n"
        "p.result()\n"
        "bad = [m for m in ('pygame', 'OpenGL', 'cv2', 'mediapipe') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
