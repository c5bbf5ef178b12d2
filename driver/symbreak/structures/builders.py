"""Water structures as O,H,H triplets: one molecule, a liquid box, proton-disordered ice Ih.

    from symbreak.structures import molecule, liquid_box, ice_ih
    gas = molecule()                                # q-TIP4P/F minimum, cell None
    liq = liquid_box(64, density=0.997, seed=1)     # random, non-overlapping, cubic cell
    ice = ice_ih((3, 2, 2), seed=0)                 # 96 molecules, ice rules, zero net dipole

All positions in Angstrom, cells as rows. Geometries use the q-TIP4P/F
equilibrium molecule (r_OH 0.9419 A, HOH 107.4 deg), except ice, whose H sit
on the O...O bonds at r_OH from their O.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.errors import InputError
from ..core.structure import Structure, minimum_image
from ..core.water import R_OH_EQ, THETA_EQ

#: g/cm^3 -> molecules per A^3 for H2O (18.015 g/mol)
_MOLECULES_PER_A3 = 6.02214076e23 / 18.01528 / 1e24

#: hexagonal ice Ih lattice constants (A), ~0.92 g/cm^3
ICE_A = 4.511
ICE_C = 7.346

#: the most molecules ice_ih builds: its hydrogen-bond search and proton shuffling are O(N^2)
#: in time and memory (near-cubic supercells: 1728 molecules take ~8 s, 2048 ~20 s on one core;
#: elongated ones such as 3 3 12 take longer, as reaching zero net dipole needs more loop flips)
MAX_ICE_MOLECULES = 2048


def molecule_geometry(r_oh: float = R_OH_EQ, angle: float = THETA_EQ) -> np.ndarray:
    """Usage: molecule_geometry() -> (3, 3) O, H, H with O at the origin, bisector along +y, in the xy plane."""
    half = np.deg2rad(angle) / 2
    return np.array([[0.0, 0.0, 0.0], [r_oh * np.sin(half), r_oh * np.cos(half), 0.0], [-r_oh * np.sin(half), r_oh * np.cos(half), 0.0]])


def molecule(*, rotation: np.ndarray | None = None, seed: int | None = None) -> Structure:
    """Usage: molecule(seed=None) -> one H2O at the q-TIP4P/F minimum, centred on its O, in vacuum.

    With ``seed`` the molecule gets a Haar-random orientation; ``rotation``
    (3x3) sets it explicitly.
    """
    pos = molecule_geometry()
    if seed is not None:
        rotation = Rotation.random(random_state=np.random.default_rng(seed)).as_matrix()
    if rotation is not None:
        pos = pos @ np.asarray(rotation).T
    return Structure(pos, np.array([8, 1, 1]), None)


def box_length(n_molecules: int, density: float) -> float:
    """Usage: box_length(64, 0.997) -> edge (A) of the cubic box with that density in g/cm^3."""
    if n_molecules < 1 or not 0 < density < np.inf:
        raise InputError(f"need n_molecules >= 1 and a finite density > 0, got {n_molecules}, {density}")
    return float((n_molecules / (density * _MOLECULES_PER_A3)) ** (1.0 / 3.0))


def liquid_box(
    n_molecules: int = 64,
    *,
    density: float = 0.997,
    seed: int = 0,
    min_oo: float = 2.5,
    max_tries: int = 20000,
) -> Structure:
    """Usage: liquid_box(64, density=0.997, seed=0) -> random water in a periodic cubic box.

    O atoms are placed uniformly at random with every O-O minimum-image distance
    >= ``min_oo`` A (random sequential addition); orientations are Haar-random.
    Not equilibrated: relax or run it before use (see :func:`relax`).
    """
    if not 0 <= min_oo < np.inf:
        raise InputError(f"need a finite min_oo >= 0, got {min_oo}")
    if n_molecules > max_tries:  # every placement is one try
        raise InputError(f"cannot place {n_molecules} molecules in {max_tries} tries: at most {max_tries} molecules")
    rng = np.random.default_rng(seed)
    length = box_length(n_molecules, density)
    oxygens = np.zeros((0, 3))
    tries = 0
    while len(oxygens) < n_molecules:
        tries += 1
        if tries > max_tries:
            raise InputError(
                f"could not place {n_molecules} molecules {min_oo} A apart at {density} g/cm^3; "
                "lower min_oo or the density"
            )
        trial = rng.uniform(0.0, length, 3)
        d = oxygens - trial
        d -= length * np.round(d / length)
        if len(d) and np.min(np.einsum("ij,ij->i", d, d)) < min_oo**2:
            continue
        oxygens = np.vstack([oxygens, trial])
    rot = Rotation.random(n_molecules, random_state=rng).as_matrix()
    pos = np.einsum("mab,ib->mia", rot, molecule_geometry()) + oxygens[:, None, :]
    return Structure(pos.reshape(-1, 3), np.tile([8, 1, 1], n_molecules), np.eye(3) * length)


# -- ice Ih ------------------------------------------------------------------------------


def ice_ih_oxygens(repeats=(3, 2, 2), a: float = ICE_A, c: float = ICE_C) -> tuple[np.ndarray, np.ndarray]:
    """Usage: ice_ih_oxygens((3, 2, 2)) -> (O positions (8 nx ny nz, 3), orthorhombic cell rows).

    The orthorhombic cell (a, sqrt(3) a, c) holds 8 molecules; the c axis is along z.
    ValueError unless ``repeats`` are three positive integers.
    """
    repeats = check_repeats(repeats)
    hexagonal = np.array([[1 / 3, 2 / 3, 1 / 16], [1 / 3, 2 / 3, 7 / 16], [2 / 3, 1 / 3, 9 / 16], [2 / 3, 1 / 3, 15 / 16]])
    a1, a2 = np.array([a, 0.0, 0.0]), np.array([-a / 2, np.sqrt(3) * a / 2, 0.0])
    base = hexagonal[:, :1] * a1 + hexagonal[:, 1:2] * a2 + hexagonal[:, 2:3] * np.array([0.0, 0.0, c])
    centring = np.array([a / 2, np.sqrt(3) * a / 2, 0.0])
    unit = np.vstack([base, base + centring])
    ortho = np.diag([a, np.sqrt(3) * a, c])
    unit = (unit @ np.linalg.inv(ortho)) % 1.0 @ ortho
    nx, ny, nz = repeats
    shifts = np.array([[i, j, k] for i in range(nx) for j in range(ny) for k in range(nz)]) @ ortho
    oxygens = (shifts[:, None, :] + unit[None]).reshape(-1, 3)
    return oxygens, ortho * np.array(repeats)[:, None]


def check_repeats(repeats) -> tuple[int, int, int]:
    """Usage: check_repeats((3, 2, 2)) -> the repeats as ints; ValueError unless three positive integers."""
    try:
        values = tuple(int(r) for r in repeats)
        ok = len(values) == 3 and all(v == r and v >= 1 for v, r in zip(values, repeats))
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InputError(f"repeats must be three positive integers, got {tuple(repeats) if np.iterable(repeats) else repeats}")
    return values


def _bonds(oxygens: np.ndarray, cell: np.ndarray, cutoff: float = 3.2) -> tuple[np.ndarray, np.ndarray]:
    """Hydrogen-bond edges (i, j) and their minimum-image vectors i -> j; each O must have 4."""
    d = minimum_image(oxygens[None, :, :] - oxygens[:, None, :], cell)
    r = np.linalg.norm(d, axis=-1)
    i, j = np.nonzero(np.triu((r < cutoff) & (r > 0.1)))
    counts = np.bincount(np.concatenate([i, j]), minlength=len(oxygens))
    if not np.all(counts == 4):
        raise InputError("the ice supercell is too small: every O needs 4 distinct neighbours (use >= 2 cells per axis)")
    return np.stack([i, j], axis=1), d[i, j]


def _eulerian_orientation(n: int, edges: np.ndarray) -> np.ndarray:
    """Orient every edge of a 4-regular graph so that each vertex has 2 in, 2 out (Hierholzer)."""
    adjacency = [[] for _ in range(n)]
    for e, (i, j) in enumerate(edges):
        adjacency[i].append(e)
        adjacency[j].append(e)
    used = np.zeros(len(edges), bool)
    direction = np.zeros(len(edges), bool)  # True: i -> j
    pointer = [0] * n
    for start in range(n):
        stack = [start]
        while stack:
            v = stack[-1]
            while pointer[v] < len(adjacency[v]) and used[adjacency[v][pointer[v]]]:
                pointer[v] += 1
            if pointer[v] == len(adjacency[v]):
                stack.pop()
                continue
            e = adjacency[v][pointer[v]]
            used[e] = True
            i, j = edges[e]
            direction[e] = v == i
            stack.append(j if v == i else i)
    return direction


def _donors(edges: np.ndarray, direction: np.ndarray) -> np.ndarray:
    return np.where(direction, edges[:, 0], edges[:, 1])


def _flip_random_loop(n: int, edges: np.ndarray, direction: np.ndarray, rng) -> np.ndarray:
    """Reverse a random closed path that follows the donor -> acceptor arrows (keeps the ice rules)."""
    out_edges = [[] for _ in range(n)]
    donors = _donors(edges, direction)
    for e, d in enumerate(donors):
        out_edges[d].append(e)
    v = int(rng.integers(n))
    path, seen = [], {v: 0}
    while True:
        e = out_edges[v][rng.integers(2)]
        path.append(e)
        i, j = edges[e]
        v = int(j if donors[e] == i else i)
        if v in seen:
            loop = path[seen[v]:]
            new = direction.copy()
            new[loop] = ~new[loop]
            return new
        seen[v] = len(path)


def _polarization(edges, vectors, direction) -> np.ndarray:
    sign = np.where(direction, 1.0, -1.0)
    return (sign[:, None] * vectors).sum(axis=0)


def ice_ih(
    repeats=(3, 2, 2),
    *,
    seed: int = 0,
    a: float = ICE_A,
    c: float = ICE_C,
    shuffles: int | None = None,
    zero_dipole: bool = True,
    r_oh: float = R_OH_EQ,
) -> Structure:
    """Usage: ice_ih((3, 2, 2), seed=0) -> proton-disordered ice Ih obeying the ice rules.

    Each O donates two and accepts two hydrogen bonds (an Eulerian orientation
    of the 4-regular O network), randomised by reversing ``shuffles`` random
    donor-acceptor loops; with ``zero_dipole`` further loop flips are accepted
    only while the net polarization shrinks, until it vanishes. H sit on the
    O...O bonds at ``r_oh`` from their donor.
    """
    repeats = check_repeats(repeats)
    n_molecules = 8 * math.prod(repeats)
    if n_molecules > MAX_ICE_MOLECULES:
        raise InputError(
            f"repeats {' '.join(map(str, repeats))} make {n_molecules} molecules: the ice builder makes at most "
            f"{MAX_ICE_MOLECULES} (O(N^2) time and memory)"
        )
    rng = np.random.default_rng(seed)
    oxygens, cell = ice_ih_oxygens(repeats, a, c)
    n = len(oxygens)
    edges, vectors = _bonds(oxygens, cell)
    direction = _eulerian_orientation(n, edges)
    for _ in range(shuffles if shuffles is not None else 4 * n):
        direction = _flip_random_loop(n, edges, direction, rng)
    if zero_dipole:
        pol = np.linalg.norm(_polarization(edges, vectors, direction))
        for _ in range(200 * n):
            if pol < 1e-6:
                break
            trial = _flip_random_loop(n, edges, direction, rng)
            trial_pol = np.linalg.norm(_polarization(edges, vectors, trial))
            if trial_pol <= pol:
                direction, pol = trial, trial_pol
        if pol > 1e-6:
            raise InputError(f"could not reach zero net dipole (|P| = {pol:.2f}); try another seed")
    donors = _donors(edges, direction)
    unit = np.where(direction[:, None], vectors, -vectors)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    pos = np.zeros((n, 3, 3))
    pos[:, 0] = oxygens
    filled = np.ones(n, int)
    for e in np.argsort(donors, kind="stable"):
        o = donors[e]
        pos[o, filled[o]] = oxygens[o] + r_oh * unit[e]
        filled[o] += 1
    return Structure(pos.reshape(-1, 3), np.tile([8, 1, 1], n), cell)


def ice_rule_violations(structure: Structure, r_oh_max: float = 1.1, r_hbond_max: float = 2.4) -> int:
    """Usage: ice_rule_violations(s) -> how many O do not own exactly 2 H and accept exactly 2 hydrogen bonds.

    Each H donates to the nearest O other than its own (within ``r_hbond_max``);
    the ice rules ("two near, two far") hold when every O owns two H within
    ``r_oh_max`` and is the acceptor of two. Works for every polymorph,
    including those with non-bonded O...O pairs as short as the bonds (VI, VII).
    """
    pos, cell = structure.positions, structure.cell
    o = pos[structure.numbers == 8]
    h = pos[structure.numbers == 1]
    r = np.linalg.norm(minimum_image(h[:, None] - o[None], cell), axis=-1)  # (n_H, n_O)
    owner = np.argmin(r, axis=1)
    owned = np.bincount(owner[r[np.arange(len(h)), owner] < r_oh_max], minlength=len(o))
    r[np.arange(len(h)), owner] = np.inf
    acceptor = np.argmin(r, axis=1)
    bonded = r[np.arange(len(h)), acceptor] < r_hbond_max
    accepted = np.bincount(acceptor[bonded], minlength=len(o))
    return int(np.sum((owned != 2) | (accepted != 2)))


__all__ = [
    "molecule_geometry",
    "molecule",
    "box_length",
    "liquid_box",
    "ice_ih_oxygens",
    "ice_ih",
    "check_repeats",
    "MAX_ICE_MOLECULES",
    "ice_rule_violations",
]

