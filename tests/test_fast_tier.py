"""The fast tier's guard (tests/conftest.py): an unmarked test that starts a process or LAMMPS fails, a slow one runs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

INNER = '''
import subprocess, sys
import pytest

def _start():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

@pytest.fixture(scope="module")
def simulation():
    _start()  # a module fixture that starts a process counts for the test that sets it up
    return 1

def test_unmarked_starts_a_process():
    _start()

@pytest.mark.slow
def test_marked_starts_a_process():
    _start()

def test_unmarked_through_a_fixture(simulation):
    pass

def test_unmarked_starts_lammps():
    from symbreak.potentials.lammps_env import new_lammps
    new_lammps()

def test_unmarked_pure_python():
    assert sum(range(4)) == 6
'''


@pytest.mark.slow
def test_unmarked_tests_that_start_processes_fail_and_name_what_they_started(tmp_path):
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          "-o", "markers=slow", str(tmp_path / "test_inner.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "test_unmarked_starts_a_process starts a process" in text and "add @pytest.mark.slow" in text
    assert "test_unmarked_through_a_fixture starts a process" in text
    assert "test_unmarked_starts_lammps starts LAMMPS" in text
    assert "2 failed, 2 passed, 1 error" in text  # the fixture's failure is an error of the test that set it up
    # -m 'not slow' deselects the marked one
    fast = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                           "-o", "markers=slow", "-m", "not slow", "-k", "pure", str(tmp_path / "test_inner.py")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert fast.returncode == 0 and "1 passed" in fast.stdout, fast.stdout + fast.stderr
