"""Shared fixtures: small water structures (consecutive O, H, H triplets, eV/Angstrom).

    def test_something(water_molecule, water_box, water_box_triclinic): ...

The builders live in :mod:`symbreak.potentials.testing` so that code outside
pytest can use the same structures. Add new shared fixtures here, keep them
generic and cheap.
"""

import subprocess

import pytest
from symbreak.potentials import testing


@pytest.fixture
def water_molecule():
    """One distorted H2O in vacuum (``cell is None``), random orientation."""
    return testing.water_molecule(seed=0)


@pytest.fixture
def water_box():
    """8 distorted H2O in a periodic cubic 6.2 A cell, random orientations."""
    return testing.water_box(n_per_side=2, seed=1)


@pytest.fixture
def water_box_triclinic():
    """8 H2O in a sheared, rotated (non upper-triangular) cell, molecules split and unwrapped."""
    return testing.water_box_triclinic(n_per_side=2, seed=2)


@pytest.fixture(scope="session")
def tiny_pet_model(tmp_path_factory):
    """Path to a tiny random-weight metatrain PET (H, O; float32) exported to metatomic, made once per session."""
    pytest.importorskip("metatrain", reason="the tiny PET model needs metatrain (pip install 'symbreak[controls]')")
    pytest.importorskip("metatomic.torch", reason="metatomic models need metatomic-torch (pip install 'symbreak[metatomic]')")
    from symbreak.potentials.foreign_models import export_random_pet

    return export_random_pet(str(tmp_path_factory.mktemp("models") / "tiny-pet.pt"))


# ---- the fast tier: `bash run-tests.sh -m "not slow"` ----------------------------------------------------------
# A test that starts i-PI, LAMMPS, a server or any other process belongs to the slow tier. The guard below makes
# an unmarked test fail at once, naming what it started, when it (or a fixture it sets up, of any scope) starts a
# process or a LAMMPS instance: the fast tier stays fast. Outside of a test (collection) nothing is checked.

_RUNNING: dict = {"item": None}
_ORIGINALS: list = []
#: programs a test may start in the fast tier: `file`, which platform.architecture() runs when a package
#: (metatomic, through torch) asks for the interpreter's architecture at import
_HARMLESS = frozenset({"file"})


def _refuse_unless_slow(what: str) -> None:
    item = _RUNNING["item"]
    if item is not None and item.get_closest_marker("slow") is None:
        pytest.fail(f"{item.nodeid} {what} but is not marked slow: add @pytest.mark.slow "
                    "(the fast tier, -m 'not slow', starts no process)", pytrace=False)


def _lammps_class():
    try:
        from symbreak.potentials.lammps_env import import_lammps

        return import_lammps().lammps
    except ImportError:
        return None


def pytest_configure(config):
    popen_init = subprocess.Popen.__init__

    def guarded_popen(self, args, *rest, **kwargs):
        program = args[0] if isinstance(args, (list, tuple)) and args else args
        if str(program) in _HARMLESS:
            return popen_init(self, args, *rest, **kwargs)
        try:
            _refuse_unless_slow(f"starts a process ({' '.join(map(str, args)) if isinstance(args, (list, tuple)) else args})")
        except BaseException:
            self._child_created, self.returncode = False, None  # what Popen.__del__ reads
            raise
        popen_init(self, args, *rest, **kwargs)

    _ORIGINALS.append((subprocess.Popen, "__init__", popen_init))
    subprocess.Popen.__init__ = guarded_popen
    lammps = _lammps_class()
    if lammps is not None:
        lammps_init = lammps.__init__

        def guarded_lammps(self, *args, **kwargs):
            try:
                _refuse_unless_slow("starts LAMMPS")
            except BaseException:
                self.lmp, self.opened = None, False  # what lammps.close, called by its __del__, reads
                raise
            lammps_init(self, *args, **kwargs)

        _ORIGINALS.append((lammps, "__init__", lammps_init))
        lammps.__init__ = guarded_lammps


def pytest_unconfigure(config):
    while _ORIGINALS:
        owner, name, original = _ORIGINALS.pop()
        setattr(owner, name, original)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _RUNNING["item"] = item
    try:
        yield
    finally:
        _RUNNING["item"] = None
