"""The floors written in docs/architecture.md hold: no module imports from a floor above its own,
every module has a floor, evaluation and training never import each other, and the package has no
import cycles. Every import counts, the ones inside functions too, since a lazy import still ties
the two modules together."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"robrew": ROOT / "robrew", "robrew.envs": ROOT / "envs"}
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def floors() -> dict[str, int]:
    """Room (dotted module or package name) -> floor, from the table in docs/architecture.md; the
    facade (the line starting "Facade:") sits above every floor."""
    out = {}
    for line in ARCHITECTURE.read_text().splitlines():
        if line.startswith("Facade:"):
            out.update({room: 99 for room in re.findall(r"`(robrew[\w.]*)`", line.split("(")[0])})
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for room in re.findall(r"`([\w.]+)`", cells[1]):
                out[room] = int(cells[0])
    return out


def floor_of(module: str, rooms: dict[str, int]) -> int | None:
    """The floor of the deepest room that contains ``module``."""
    while module:
        if module in rooms:
            return rooms[module]
        module = module.rsplit(".", 1)[0] if "." in module else ""
    return None


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for robrew and its envs subpackage (robrew.envs)."""
    out = {}
    for prefix, root in SOURCES.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """robrew modules that ``name`` imports (absolute and relative, at any depth of the file)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # `import robrew.envs.tabletop.env` -> the deepest known module
                t = t.rsplit(".", 1)[0] if "." in t else ""
            if t and t != name:
                found.add(t)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def test_eval_never_imports_training(graph):
    bad = {m: sorted(d for d in deps if d.startswith("robrew.training")) for m, deps in graph.items()}
    bad = {m: d for m, d in bad.items() if m.startswith("robrew.eval") and d}
    assert not bad, f"robrew.eval imports robrew.training: {bad}"


def test_training_never_imports_eval_apps(graph):
    """Training and evaluation sit side by side; both may use the run format (robrew.runs)."""
    assert not any(
        d.startswith("robrew.apps") for m, deps in graph.items() if not m.startswith("robrew.apps") for d in deps
    )


def test_no_import_cycles(graph):
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(stack[stack.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_graph_sees_real_imports(graph):
    """The checker itself: it finds edges that certainly exist (a broken parser would pass the tests above)."""
    assert "robrew.rewards.base" in graph["robrew.rewards.clip.model"]
    assert "robrew.runs" in graph["robrew.eval.evaluate"]  # a lazy import inside a function counts too
    assert (
        "robrew.render" in graph["robrew.envs.tabletop.env"]
        or "robrew.envs.rendering" in graph["robrew.envs.tabletop.env"]
    )


def test_training_and_eval_side_by_side(graph):
    """Training and evaluation share the run format and robrew.metrics; neither imports the other."""
    for a, b in (("robrew.training", "robrew.eval"), ("robrew.eval", "robrew.training")):
        bad = {m: sorted(d for d in deps if d.startswith(b)) for m, deps in graph.items() if m.startswith(a)}
        assert not {m: d for m, d in bad.items() if d}, f"{a} imports {b}: {bad}"


def test_the_architecture_doc_has_every_floor():
    rooms = floors()
    assert sorted(set(rooms.values()) - {99}) == list(range(1, 9)) and rooms["robrew"] == 99, rooms


def test_every_module_has_a_floor(graph):
    rooms = floors()
    homeless = sorted(m for m in graph if floor_of(m, rooms) is None)
    assert not homeless, f"modules without a floor in docs/architecture.md: {homeless}"


def test_nothing_imports_upward(graph):
    rooms = floors()
    upward = sorted(
        f"{m} (floor {floor_of(m, rooms)}) -> {d} (floor {floor_of(d, rooms)})"
        for m, deps in graph.items()
        for d in deps
        if (floor_of(m, rooms) or 0) < (floor_of(d, rooms) or 0)
    )
    assert not upward, "imports that go up a floor (docs/architecture.md):\n" + "\n".join(upward)
