"""q-TIP4P/F as LAMMPS runs it: parameters, topology checks, frames and input text.

    from symbreak.potentials.qtip4pf_setup import lammps_frame, data_file_text, input_commands
    frame = lammps_frame(structure)            # rotation + reduced upper-triangular box
    text = data_file_text(structure.numbers, frame.positions, frame.box)
    cmds = input_commands("data.lmp", periodic=True, kspace_accuracy=1e-6)

Pure functions shared by the in-process potential (:mod:`.qtip4pf`) and the
i-PI client (`symbreak reference`, :mod:`symbreak.commands.reference`). Units inside LAMMPS are `real`
(kcal/mol, Angstrom); conversions to eV happen in the callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from ..core.structure import minimum_image
from ..core.water import R_OH_EQ, THETA_EQ

# Habershon, Markland, Manolopoulos, J. Chem. Phys. 131, 024501 (2009), in kcal/mol, A, rad
# (the minimum geometry R_OH_EQ, THETA_EQ is in symbreak.core.water, shared with the builders).
MORSE_D = 116.09
MORSE_ALPHA = 2.287
ANGLE_K = 87.85  # paper convention V = k/2 (theta - theta0)^2; LAMMPS harmonic uses K = k/2
LJ_EPSILON = 0.1852
LJ_SIGMA = 3.1589
Q_H = 0.5564
Q_O = -2 * Q_H
#: the paper's M site: r_M = gamma r_O + (1 - gamma) (r_H1 + r_H2) / 2
M_GAMMA = 0.73612
#: LAMMPS's tip4p styles take an O-M distance and place M at the fixed fraction
#: qdist / (r_eq cos(theta_eq / 2)) of the O -> H-midpoint vector at every geometry;
#: this qdist (0.147139 A, not the rounded 0.1471) makes that fraction 1 - gamma exactly
OM_DISTANCE = (1.0 - M_GAMMA) * R_OH_EQ * float(np.cos(np.radians(THETA_EQ) / 2))
MASS_O = 15.9994
MASS_H = 1.008

#: class2 bond: quartic Taylor expansion of the Morse potential around r_eq
BOND_K2 = MORSE_D * MORSE_ALPHA**2
BOND_K3 = -MORSE_D * MORSE_ALPHA**3
BOND_K4 = 7.0 / 12.0 * MORSE_D * MORSE_ALPHA**4

#: the largest O-H distance (A) accepted when checking the OHH ordering
MAX_OH = 1.6


def check_water(numbers: np.ndarray, positions: np.ndarray, cell: np.ndarray | None) -> None:
    """Usage: check_water(numbers, positions, cell). Raise ValueError unless atoms are O,H,H triplets."""
    numbers = np.asarray(numbers)
    if len(numbers) == 0 or len(numbers) % 3:
        raise InputError(f"q-TIP4P/F needs water as O,H,H triplets; got {len(numbers)} atoms")
    unknown = sorted(set(numbers.tolist()) - {1, 8})
    if unknown:
        raise InputError(f"q-TIP4P/F handles only H and O, got atomic numbers {unknown}")
    pattern = numbers.reshape(-1, 3)
    bad = np.nonzero((pattern != [8, 1, 1]).any(axis=1))[0]
    if len(bad):
        raise InputError(
            f"atoms must be ordered O,H,H per molecule; molecule {bad[0]} (atoms "
            f"{3 * bad[0]}-{3 * bad[0] + 2}) is {pattern[bad[0]].tolist()}"
        )
    mol = positions.reshape(-1, 3, 3)
    d = mol[:, 1:] - mol[:, :1]
    d = minimum_image(d, cell)
    r = np.linalg.norm(d, axis=-1)
    far = np.nonzero(r.max(axis=1) > MAX_OH)[0]
    if len(far):
        raise InputError(
            f"molecule {far[0]}: an O-H distance is {r[far[0]].max():.2f} A > {MAX_OH} A; "
            "atoms must be ordered O,H,H per molecule"
        )


@dataclass(frozen=True)
class Frame:
    """Positions and box in LAMMPS's frame; ``rotation`` Q maps them back: r = Q r'."""

    positions: np.ndarray
    box: np.ndarray | None  # (3, 3) rows a, b, c lower triangular (a along x), or None
    rotation: np.ndarray

    @property
    def triclinic(self) -> bool:
        return self.box is not None and bool(np.any(np.abs(self.box[np.tril_indices(3, -1)]) > 0))


def reduce_box(box: np.ndarray) -> np.ndarray:
    """Usage: reduce_box(rows) -> same lattice with tilts |xy| <= lx/2, |xz| <= lx/2, |yz| <= ly/2."""
    a, b, c = (np.array(v) for v in box)
    c = c - np.round(c[1] / b[1]) * b
    c = c - np.round(c[0] / a[0]) * a
    b = b - np.round(b[0] / a[0]) * a
    return np.array([a, b, c])


def lammps_frame(positions: np.ndarray, cell: np.ndarray | None, tilt_tol: float = 1e-10) -> Frame:
    """Usage: lammps_frame(positions, cell_rows) -> Frame with wrapped positions in LAMMPS's box.

    The cell is rotated (or reflected: q-TIP4P/F is O(3) invariant) so that a is
    along x and b in the xy plane, reduced to small tilts, and atoms are wrapped
    one by one into [0, 1) fractional coordinates (LAMMPS finds bonded partners
    by the closest image). Without a cell the positions are returned unchanged.
    """
    if cell is None:
        return Frame(np.array(positions, dtype=float), None, np.eye(3))
    q, r = np.linalg.qr(np.asarray(cell, dtype=float).T)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q, r = q * signs, (r.T * signs).T
    box = reduce_box(r.T)
    small = np.abs(box) < tilt_tol * np.abs(np.diag(box)).max()
    box[np.tril(small, -1)] = 0.0
    local = positions @ q
    frac = local @ np.linalg.inv(box)
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0
    return Frame(frac @ box, box, q)


def data_file_text(numbers: np.ndarray, positions: np.ndarray, box: np.ndarray | None, margin: float = 1.0) -> str:
    """Usage: data_file_text(numbers, positions, box_rows_or_None) -> LAMMPS data file (atom_style full).

    Types: 1 = O, 2 = H. Bond type 1 O-H, angle type 1 H-O-H. Without a box, a
    box around the atoms is written (to be used with shrink-wrapped boundaries).
    """
    n = len(numbers)
    m = n // 3
    lines = ["q-TIP4P/F water written by symbreak", ""]
    lines += [f"{n} atoms", f"{2 * m} bonds", f"{m} angles", "", "2 atom types", "1 bond types", "1 angle types", ""]
    if box is None:
        lo = positions.min(axis=0) - margin
        hi = positions.max(axis=0) + margin
        for k, axis in enumerate("xyz"):
            lines.append(f"{lo[k]:.16g} {hi[k]:.16g} {axis}lo {axis}hi")
    else:
        lines += [
            f"0 {box[0, 0]:.16g} xlo xhi",
            f"0 {box[1, 1]:.16g} ylo yhi",
            f"0 {box[2, 2]:.16g} zlo zhi",
            f"{box[1, 0]:.16g} {box[2, 0]:.16g} {box[2, 1]:.16g} xy xz yz",
        ]
    lines += ["", "Masses", "", f"1 {MASS_O}", f"2 {MASS_H}", "", "Atoms # full", ""]
    for i in range(n):
        kind, charge = (1, Q_O) if numbers[i] == 8 else (2, Q_H)
        x, y, z = positions[i]
        lines.append(f"{i + 1} {i // 3 + 1} {kind} {charge:.6f} {x:.16g} {y:.16g} {z:.16g}")
    lines += ["", "Bonds", ""]
    for j in range(m):
        o = 3 * j + 1
        lines += [f"{2 * j + 1} 1 {o} {o + 1}", f"{2 * j + 2} 1 {o} {o + 2}"]
    lines += ["", "Angles", ""]
    for j in range(m):
        o = 3 * j + 1
        lines.append(f"{j + 1} 1 {o + 1} {o} {o + 2}")
    return "\n".join(lines) + "\n"


def input_commands(
    data_path: str,
    *,
    periodic: bool,
    cutoff: float = 9.0,
    kspace_accuracy: float = 1e-6,
    coulomb_cutoff: float | None = None,
    shrink_wrap: bool = True,
    lj_tail: bool = False,
) -> list[str]:
    """Usage: input_commands("data.lmp", periodic=True) -> LAMMPS commands up to (not including) `run`.

    periodic: lj/cut/tip4p/long with ``cutoff`` (LJ and real-space Coulomb) and
    pppm/tip4p at relative force accuracy ``kspace_accuracy``.
    isolated: lj/cut/tip4p/cut with plain Coulomb and LJ up to ``coulomb_cutoff``
    (choose it larger than the cluster: then every pair is counted exactly, and
    one molecule at equilibrium has energy 0); shrink-wrapped boundaries unless
    ``shrink_wrap`` is False (then the data file's box is periodic and must be
    wider than twice the cutoff, as in a 100 A gas-phase box served over fix ipi).
    lj_tail: (periodic only) add the analytic Lennard-Jones tail correction
    beyond ``cutoff`` to energy and pressure (``pair_modify tail yes``); it
    depends on the volume only, so forces are unchanged. Off by default.
    """
    cmds = ["units real", "atom_style full", "atom_modify map array"]
    if periodic or not shrink_wrap:
        cmds.append("boundary p p p")
    else:
        cmds.append("boundary s s s")
    cmds += [
        "bond_style class2",
        "angle_style harmonic",
        "special_bonds lj/coul 0.0 0.0 0.5",
    ]
    if periodic:
        cmds.append(f"pair_style lj/cut/tip4p/long 1 2 1 1 {OM_DISTANCE} {cutoff}")
    else:
        rc = float(coulomb_cutoff if coulomb_cutoff is not None else 30.0)
        cmds.append(f"pair_style lj/cut/tip4p/cut 1 2 1 1 {OM_DISTANCE} {rc} {rc}")
    cmds += [
        f"read_data {data_path}",
        f"pair_coeff 1 1 {LJ_EPSILON} {LJ_SIGMA}",
        "pair_coeff 1 2 0.0 1.0",
        "pair_coeff 2 2 0.0 1.0",
        f"bond_coeff 1 {R_OH_EQ} {BOND_K2:.10g} {BOND_K3:.10g} {BOND_K4:.10g}",
        f"angle_coeff 1 {ANGLE_K / 2:.10g} {THETA_EQ}",
        # isolated clusters: all pairs (bins fail when the cutoff dwarfs the shrink-wrapped box)
        "neighbor 2.0 bin" if periodic else "neighbor 2.0 nsq",
        "neigh_modify every 1 delay 0 check yes",
        "thermo_modify norm no",
    ]
    if periodic:
        # after read_data: pppm remembers whether the box was triclinic. Tabulated
        # real-space Coulomb (the default) makes forces differ from -dE/dx by ~1e-2 eV/A.
        cmds += [f"kspace_style pppm/tip4p {kspace_accuracy:.3g}", "pair_modify table 0"]
        if lj_tail:
            cmds.append("pair_modify tail yes")
    return cmds


__all__ = ["check_water", "lammps_frame", "reduce_box", "data_file_text", "input_commands", "Frame"]
