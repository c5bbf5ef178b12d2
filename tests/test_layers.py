"""The packages form layers: none imports a package above it, no module cycle inside one (scripts/import_graph.py --check)."""

import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "import_graph.py"


def _import_graph():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import import_graph
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return import_graph


def test_no_package_imports_one_above_it_and_no_module_cycle(capsys):
    assert _import_graph().main(["--check"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "core       -> (nothing)" in out and "cycle" not in out


def _fake_package(tmp_path, monkeypatch, init: str = ""):
    """import_graph pointed at an empty symbreak in tmp_path: one folder per layer, each with ``init``."""
    import_graph = _import_graph()
    monkeypatch.setattr(import_graph, "PACKAGE", tmp_path)
    for pkg in import_graph.LAYERS:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text(init)
    return import_graph


def test_the_check_finds_a_cycle_inside_a_package(tmp_path, monkeypatch, capsys):
    # __init__.py re-exports its modules: left out of the cycle check
    import_graph = _fake_package(tmp_path, monkeypatch, "from .plan import x\nfrom .frontier import y\n")
    (tmp_path / "study" / "plan.py").write_text("def f():\n    from .frontier import frontier_runs\n")
    (tmp_path / "study" / "frontier.py").write_text("from .helpers import z\n")
    (tmp_path / "study" / "helpers.py").write_text("from symbreak.study.plan import StudyRun\n")
    (tmp_path / "study" / "fine.py").write_text("from . import plan\nfrom .frontier import y\n")
    (cycle,) = import_graph.module_cycles()
    assert cycle.startswith("study/plan.py -> study/frontier.py -> study/helpers.py -> study/plan.py")
    assert "study/plan.py:2" in cycle and "study/helpers.py:1" in cycle
    assert import_graph.main(["--check"]) == 1
    assert "import cycles inside a package" in capsys.readouterr().out


def test_the_check_finds_an_upward_import(tmp_path, monkeypatch):
    import_graph = _fake_package(tmp_path, monkeypatch)
    (tmp_path / "core" / "bad.py").write_text("def f():\n    from ..analysis.blocks import block_average\n")
    (tmp_path / "analysis" / "fine.py").write_text("from ..core import errors\nfrom symbreak.ipi import outputs\n")
    bad = import_graph.upward_imports(import_graph.graph())
    assert bad == ["core/bad.py:2: core imports analysis (above it)"]
