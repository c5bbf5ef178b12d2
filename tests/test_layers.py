"""The packages form layers: none imports a package above it (scripts/import_graph.py --check)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "import_graph.py"


def test_no_package_imports_one_above_it():
    out = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "core       -> (nothing)" in out.stdout


def test_the_check_finds_an_upward_import(tmp_path, monkeypatch):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import import_graph
    finally:
        sys.path.remove(str(SCRIPT.parent))
    monkeypatch.setattr(import_graph, "PACKAGE", tmp_path)
    for pkg in import_graph.LAYERS:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "core" / "bad.py").write_text("def f():\n    from ..analysis.blocks import block_average\n")
    (tmp_path / "analysis" / "fine.py").write_text("from ..core import errors\nfrom symbreak.ipi import outputs\n")
    bad = import_graph.upward_imports(import_graph.graph())
    assert bad == ["core/bad.py:2: core imports analysis (above it)"]
