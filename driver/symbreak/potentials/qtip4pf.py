"""The exactly invariant reference: q-TIP4P/F water evaluated by LAMMPS in-process.

    symbreak label frames.xyz labelled.xyz          # or, from Python:
    from symbreak.potentials import load_potential
    pot = load_potential("qtip4pf", kspace_accuracy=1e-6)
    out = pot.compute(structures)                    # eV, eV/A, virial in eV

Periodic structures use lj/cut/tip4p/long + pppm/tip4p; any cell works (it is
rotated into LAMMPS's upper-triangular frame, tilts are reduced, and forces
and virial are rotated back). Isolated structures (``cell is None``) use plain
Coulomb and LJ with a cutoff larger than the cluster, in shrink-wrapped
non-periodic boundaries: every pair is counted exactly, with no images, so a
single molecule at its equilibrium geometry has energy exactly 0.
"""

from __future__ import annotations

import os
import tempfile
from typing import Sequence

import numpy as np

from ..core.errors import InputError
from ..core.structure import Evaluation, Structure
from .base import Potential
from .qtip4pf_setup import check_water, data_file_text, input_commands, lammps_frame

try:
    from ase.units import kcal, mol

    KCAL_PER_MOL = kcal / mol
except ImportError:  # pragma: no cover - ase is a hard dependency of symbreak
    KCAL_PER_MOL = 0.0433641043


# lammps.LMP_STYLE_GLOBAL, lammps.LMP_TYPE_VECTOR (not imported: LAMMPS loads lazily)
_STYLE_GLOBAL, _TYPE_VECTOR = 0, 1


class QTIP4PF(Potential):
    """QTIP4PF(kspace_accuracy=1e-6, cutoff=9.0, vacuum_cutoff=30.0): q-TIP4P/F by LAMMPS.

    kspace_accuracy: pppm/tip4p relative force accuracy (periodic systems);
        the energy is exactly rotation invariant whatever the accuracy (every
        structure is mapped to one canonical frame), while force-vs-gradient
        consistency and translation invariance improve with it.
    cutoff: LJ and real-space Coulomb cutoff (A) for periodic systems.
    vacuum_cutoff: the smallest Coulomb/LJ cutoff (A) for isolated systems; it
        grows automatically to the cluster's extent + 10 A.
    lj_tail: add the Lennard-Jones tail correction (periodic systems; energy
        and virial only, a function of the volume).
    check: verify the O,H,H ordering and O-H distances of every structure.
    log: a LAMMPS log file (default: none).
    """

    name = "qtip4pf"
    species = frozenset({1, 8})

    def __init__(
        self,
        *,
        kspace_accuracy: float = 1e-6,
        cutoff: float = 9.0,
        vacuum_cutoff: float = 30.0,
        lj_tail: bool = False,
        check: bool = True,
        log: str | None = None,
    ):
        if not kspace_accuracy > 0:
            raise InputError(f"kspace_accuracy must be > 0, got {kspace_accuracy}")
        if not cutoff > 2.0:
            raise InputError(f"cutoff must be > 2 A, got {cutoff}")
        self.kspace_accuracy = float(kspace_accuracy)
        self.cutoff = float(cutoff)
        self.vacuum_cutoff = float(vacuum_cutoff)
        self.lj_tail = bool(lj_tail)
        self.check = check
        self.log = log
        self._lmp = None
        self._key = None

    def describe(self) -> str:
        return f"qtip4pf(kspace_accuracy={self.kspace_accuracy:g}, cutoff={self.cutoff:g}{', lj_tail' if self.lj_tail else ''})"

    # -- LAMMPS instance management -------------------------------------------------

    def close(self) -> None:
        """Usage: pot.close(). Free the LAMMPS instance (a new one is made on the next call)."""
        if self._lmp is not None:
            self._lmp.close()
        self._lmp, self._key = None, None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _vacuum_cutoff_for(self, positions: np.ndarray) -> float:
        extent = float(np.linalg.norm(positions.max(axis=0) - positions.min(axis=0)))
        return max(self.vacuum_cutoff, np.ceil(extent + 10.0))

    def _setup(self, numbers: np.ndarray, frame, key) -> None:
        from .lammps_env import new_lammps

        self.close()
        lmp = new_lammps(log=self.log)
        periodic = frame.box is not None
        with tempfile.TemporaryDirectory(prefix="symbreak-lmp-") as tmp:
            path = os.path.join(tmp, "data.lmp")
            box = frame.box
            if periodic and not frame.triclinic:
                box = np.diag(np.diag(frame.box))
            text = data_file_text(numbers, frame.positions, box)
            if periodic and not frame.triclinic:
                text = text.replace("\n0 0 0 xy xz yz", "")
            with open(path, "w") as fh:
                fh.write(text)
            cmds = input_commands(
                path,
                periodic=periodic,
                cutoff=self.cutoff,
                kspace_accuracy=self.kspace_accuracy,
                coulomb_cutoff=None if periodic else key[2],
                lj_tail=self.lj_tail,
            )
            for cmd in cmds:
                lmp.command(cmd)
        lmp.command("compute symbreak_vir all pressure NULL virial")
        lmp.command("thermo_style custom step pe c_symbreak_vir[*]")
        lmp.command("thermo 1")
        self._lmp, self._key = lmp, key

    # -- evaluation -------------------------------------------------------------------

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        energies = np.zeros(len(structures))
        forces, virials = [], np.zeros((len(structures), 3, 3))
        for k, s in enumerate(structures):
            energies[k], f, virials[k] = self._compute_one(s)
            forces.append(f)
        return Evaluation(energies, forces, virials, [{} for _ in structures])

    def _compute_one(self, s: Structure):
        if self.check:
            check_water(s.numbers, s.positions, s.cell)
        frame = lammps_frame(s.positions, s.cell)
        periodic = frame.box is not None
        if periodic:
            # a new box means a new instance: change_box keeps the old PPPM splitting,
            # which makes results depend (at the 1e-7 eV level) on earlier structures
            key = (s.numbers.tobytes(), True, frame.box.tobytes())
        else:
            key = (s.numbers.tobytes(), False, self._vacuum_cutoff_for(s.positions))
            if self._key is not None and self._key[:2] == key[:2] and self._key[2] >= key[2]:
                key = self._key
        if key != self._key:
            self._setup(s.numbers, frame, key)
        lmp = self._lmp
        flat = np.ascontiguousarray(frame.positions, dtype=np.float64).ravel()
        lmp.scatter_atoms("x", 1, 3, np.ctypeslib.as_ctypes(flat))
        lmp.command("run 0 post no")
        energy = lmp.get_thermo("pe") * KCAL_PER_MOL
        f_local = np.array(lmp.gather_atoms("f", 1, 3), dtype=np.float64).reshape(-1, 3) * KCAL_PER_MOL
        q = frame.rotation
        forces = f_local @ q.T
        if periodic:
            p = np.array(lmp.numpy.extract_compute("symbreak_vir", _STYLE_GLOBAL, _TYPE_VECTOR))
            box = frame.box
            volume = box[0, 0] * box[1, 1] * box[2, 2]
            nktv2p = lmp.extract_global("nktv2p")
            xx, yy, zz, xy, xz, yz = p * volume / nktv2p * KCAL_PER_MOL
            w_local = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
            virial = q @ w_local @ q.T
        else:
            virial = forces.T @ s.positions
        return energy, forces, virial


__all__ = ["QTIP4PF", "KCAL_PER_MOL"]
