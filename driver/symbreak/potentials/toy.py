"""Analytic flexible water with a known, tunable rotational symmetry breaking.

    from symbreak.potentials import load_potential
    pot = load_potential("toy", dipole_amplitudes={2: 0.01}, bond_amplitudes={})

The yardstick for every symmetry test: an exactly invariant flexible-water part
(harmonic O-H bonds and H-O-H angle, shifted O-O Lennard-Jones between
molecules) plus, per molecule, the anisotropic term

    E_aniso = sum_l a_l P_l(u . n_l) + b_l P_l(v . m_l)

with u = unit((r_H1 + r_H2)/2 - r_O) (the dipole axis), v = unit(r_H2 - r_H1),
P_l the Legendre polynomials and n_l, m_l fixed lab-frame unit vectors
(:func:`lab_directions`). The O(3) average of every l >= 1 term is exactly
zero and its parity is (-1)^l, so a quadrature that cancels angular components
up to l = l_max must return :meth:`ToyWater.invariant_part` exactly.
Forces and virial are analytic (pure numpy, no autograd).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Mapping, Sequence

import numpy as np

from ..core.errors import InputError
from ..core.structure import Evaluation, Structure
from .base import Potential

#: a_l in eV: amplitude of P_l(u . n_l) per molecule, u the dipole axis
DEFAULT_DIPOLE_AMPLITUDES: dict[int, float] = {1: 5e-3, 2: 5e-3, 3: 5e-3, 4: 5e-3, 5: 5e-3}
#: b_l in eV: amplitude of P_l(v . m_l) per molecule, v the H1 -> H2 axis
DEFAULT_BOND_AMPLITUDES: dict[int, float] = {1: 3e-3, 2: 3e-3, 3: 3e-3, 4: 3e-3, 5: 3e-3}


@dataclass(frozen=True)
class ToyWaterConfig:
    """Parameters of :class:`ToyWater`: ``ToyWaterConfig(dipole_amplitudes={1: 0.01})``.

    Energies in eV, lengths in Angstrom, angles in degrees.
    """

    #: O-H bond force constant k in E = k/2 (r - r0)^2, eV/A^2 (~3700 cm^-1 stretch)
    bond_k: float = 45.0
    #: O-H equilibrium length, A
    bond_r0: float = 0.9572
    #: H-O-H bend force constant k in E = k/2 (theta - theta0)^2, eV/rad^2 (q-TIP4P/F-like)
    angle_k: float = 7.6
    #: H-O-H equilibrium angle, degrees
    angle_theta0: float = 104.52
    #: O-O Lennard-Jones well depth, eV (q-TIP4P/F's 0.1852 kcal/mol)
    lj_epsilon: float = 0.0067
    #: O-O Lennard-Jones sigma, A
    lj_sigma: float = 3.1589
    #: O-O cutoff, A; the pair energy is shifted to vanish there (continuous energy)
    lj_cutoff: float = 6.0
    #: {l: a_l} for the dipole-axis term; l >= 1
    dipole_amplitudes: Mapping[int, float] = field(
        default_factory=lambda: dict(DEFAULT_DIPOLE_AMPLITUDES)
    )
    #: {l: b_l} for the H-H-axis term; l >= 1
    bond_amplitudes: Mapping[int, float] = field(
        default_factory=lambda: dict(DEFAULT_BOND_AMPLITUDES)
    )
    #: seed of the lab directions n_l, m_l (see :func:`lab_directions`); the default was
    #: picked so that for l = 1..6 every component has |x| > 0.1 and no two directions
    #: have |cos| > 0.95: no accidental alignment with the symmetry planes of a grid
    direction_seed: int = 20241631

    def __post_init__(self):
        for label in ("dipole_amplitudes", "bond_amplitudes"):
            amps = {int(l): float(a) for l, a in dict(getattr(self, label)).items()}
            bad = sorted(l for l in amps if l < 1)
            if bad:
                raise InputError(
                    f"{label} must use angular orders l >= 1 (l = 0 is invariant), got {bad}"
                )
            object.__setattr__(self, label, amps)
        if not 0 < self.lj_cutoff:
            raise InputError(f"lj_cutoff must be positive, got {self.lj_cutoff}")


def lab_directions(l: int, seed: int = ToyWaterConfig.direction_seed) -> tuple[np.ndarray, np.ndarray]:
    """``n_l, m_l = lab_directions(l, seed)``: the fixed unit vectors of order l.

    Two normalised standard-normal 3-vectors from ``numpy.random.default_rng([seed, l])``:
    deterministic, generic, distinct per l, and independent of which other orders
    are switched on.
    """
    g = np.random.default_rng([int(seed), int(l)]).standard_normal((2, 3))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return g[0], g[1]


def legendre(l: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``p, dp = legendre(l, x)``: P_l(x) and dP_l/dx by the three-term recurrence."""
    x = np.asarray(x, dtype=np.float64)
    p_prev, p = np.ones_like(x), x.copy()
    dp_prev, dp = np.zeros_like(x), np.ones_like(x)
    if l == 0:
        return p_prev, dp_prev
    for n in range(1, l):
        p_prev, p = p, ((2 * n + 1) * x * p - n * p_prev) / (n + 1)
        dp_prev, dp = dp, dp_prev + (2 * n + 1) * p_prev
    return p, dp


class ToyWater(Potential):
    """``ToyWater(dipole_amplitudes={2: 0.01}, bond_amplitudes={})``: analytic water, tunable anisotropy.

    Keyword arguments are the fields of :class:`ToyWaterConfig` (or pass
    ``config=ToyWaterConfig(...)``, optionally with overrides), plus ``chunk_size``.
    Structures must be consecutive O, H, H triplets. Periodic cells may have any
    shape and orientation; positions may be wrapped or not (the minimum image is
    applied to intramolecular vectors, all images within the cutoff to O-O pairs).
    """

    name = "toy"
    species = frozenset({1, 8})

    def __init__(
        self,
        *,
        config: ToyWaterConfig | None = None,
        chunk_size: int | None = None,
        **overrides,
    ):
        config = config if config is not None else ToyWaterConfig()
        known = {f.name for f in fields(ToyWaterConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(
                f"ToyWater got unknown options {unknown}; valid ones are {sorted(known)} and chunk_size"
            )
        self.config = replace(config, **overrides) if overrides else config
        self.chunk_size = chunk_size
        c = self.config
        self._theta0 = np.deg2rad(c.angle_theta0)
        sr6 = (c.lj_sigma / c.lj_cutoff) ** 6
        self._lj_shift = 4.0 * c.lj_epsilon * (sr6 * sr6 - sr6)
        self._dipole_terms = [
            (l, lab_directions(l, c.direction_seed)[0], a)
            for l, a in sorted(c.dipole_amplitudes.items())
            if a != 0.0
        ]
        self._bond_terms = [
            (l, lab_directions(l, c.direction_seed)[1], b)
            for l, b in sorted(c.bond_amplitudes.items())
            if b != 0.0
        ]

    # -- public API -------------------------------------------------------------------

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        """``pot.compute([structure, ...])``: energies, forces and virials of the full model."""
        return self._evaluate(structures, invariant=True, anisotropic=True)

    def invariant_part(self, structures: Sequence[Structure]) -> Evaluation:
        """``pot.invariant_part(structures)``: the model with every anisotropic amplitude zero.

        This is the exact O(3) average of :meth:`compute`: the analytic answer for
        averaging tests.
        """
        return self._evaluate(structures, invariant=True, anisotropic=False)

    def anisotropic_part(self, structures: Sequence[Structure]) -> Evaluation:
        """``pot.anisotropic_part(structures)``: only the sum of the a_l and b_l terms."""
        return self._evaluate(structures, invariant=False, anisotropic=True)

    def describe(self) -> str:
        """``pot.describe()``: a one-line summary with the anisotropic amplitudes and seed."""
        c = self.config
        return f"toy(a={dict(c.dipole_amplitudes)}, b={dict(c.bond_amplitudes)}, seed={c.direction_seed})"

    # -- validation -------------------------------------------------------------------

    def check_structure(self, structure: Structure) -> None:
        """``pot.check_structure(structure)``: raise ValueError unless atoms are O, H, H triplets."""
        self.check_species(structure.numbers)
        n = structure.n_atoms
        if n % 3:
            raise InputError(
                f"potential 'toy' needs water molecules as consecutive O,H,H triplets: "
                f"got {n} atoms, not a multiple of 3"
            )
        expected = np.tile([8, 1, 1], n // 3)
        wrong = np.flatnonzero(structure.numbers != expected)
        if wrong.size:
            i = int(wrong[0])
            raise InputError(
                f"potential 'toy' needs water molecules as consecutive O,H,H triplets: "
                f"atom {i} has atomic number {int(structure.numbers[i])}, expected {int(expected[i])}"
            )

    # -- implementation ---------------------------------------------------------------

    def _evaluate(self, structures: Sequence[Structure], invariant: bool, anisotropic: bool) -> Evaluation:
        structures = list(structures)
        for s in structures:
            self.check_structure(s)
        n_struct = len(structures)
        energies = np.zeros(n_struct)
        virials = np.zeros((n_struct, 3, 3))
        forces = [np.zeros((s.n_atoms, 3)) for s in structures]
        if n_struct == 0:
            return Evaluation(energies, forces, virials, [])

        # Intramolecular vectors of every molecule in the batch, evaluated in one pass.
        d1_parts, d2_parts, owner_parts = [], [], []
        for b, s in enumerate(structures):
            pos = s.positions
            d1 = pos[1::3] - pos[0::3]
            d2 = pos[2::3] - pos[0::3]
            if s.cell is not None:
                d1, d2 = _minimum_image(np.concatenate([d1, d2]), s.cell).reshape(2, -1, 3)
            d1_parts.append(d1)
            d2_parts.append(d2)
            owner_parts.append(np.full(len(d1), b))
        d1 = np.concatenate(d1_parts)
        d2 = np.concatenate(d2_parts)
        owner = np.concatenate(owner_parts)

        e_mol = np.zeros(len(d1))
        g1 = np.zeros_like(d1)
        g2 = np.zeros_like(d2)
        if invariant:
            self._intramolecular(d1, d2, e_mol, g1, g2)
        if anisotropic:
            self._anisotropic(d1, d2, e_mol, g1, g2)

        # W = -sum_k g_k (outer) d_k over internal vectors d_k with gradients g_k = dE/dd_k
        w_mol = -(np.einsum("ma,mb->mab", g1, d1) + np.einsum("ma,mb->mab", g2, d2))
        energies += np.bincount(owner, weights=e_mol, minlength=n_struct)
        np.add.at(virials, owner, w_mol)
        start = 0
        for b, s in enumerate(structures):
            m = s.n_atoms // 3
            gb1, gb2 = g1[start : start + m], g2[start : start + m]
            f = forces[b]
            f[0::3] += gb1 + gb2
            f[1::3] -= gb1
            f[2::3] -= gb2
            start += m

        if invariant:
            for b, s in enumerate(structures):
                e, w = self._lennard_jones(s, forces[b])
                energies[b] += e
                virials[b] += w
        return Evaluation(energies, forces, virials, [{} for _ in structures])

    def _intramolecular(self, d1, d2, e_mol, g1, g2) -> None:
        """Harmonic bonds and angle: add energies to e_mol and dE/dd to g1, g2 in place."""
        c = self.config
        r1 = np.linalg.norm(d1, axis=1)
        r2 = np.linalg.norm(d2, axis=1)
        e_mol += 0.5 * c.bond_k * ((r1 - c.bond_r0) ** 2 + (r2 - c.bond_r0) ** 2)
        g1 += (c.bond_k * (r1 - c.bond_r0) / r1)[:, None] * d1
        g2 += (c.bond_k * (r2 - c.bond_r0) / r2)[:, None] * d2

        inv12 = 1.0 / (r1 * r2)
        cos = np.einsum("ma,ma->m", d1, d2) * inv12
        cos = np.clip(cos, -1.0, 1.0)
        theta = np.arccos(cos)
        # a linear molecule has an ill-defined bend gradient; keep it finite
        sin = np.maximum(np.sqrt(1.0 - cos * cos), 1e-12)
        e_mol += 0.5 * c.angle_k * (theta - self._theta0) ** 2
        de_dcos = -c.angle_k * (theta - self._theta0) / sin
        g1 += de_dcos[:, None] * (d2 * inv12[:, None] - (cos / r1**2)[:, None] * d1)
        g2 += de_dcos[:, None] * (d1 * inv12[:, None] - (cos / r2**2)[:, None] * d2)

    def _anisotropic(self, d1, d2, e_mol, g1, g2) -> None:
        """The a_l and b_l Legendre terms: add energies and dE/dd1, dE/dd2 in place."""
        if self._dipole_terms:
            dip = 0.5 * (d1 + d2)
            e, g = self._legendre_sum(dip, self._dipole_terms)
            e_mol += e
            g1 += 0.5 * g
            g2 += 0.5 * g
        if self._bond_terms:
            hh = d2 - d1
            e, g = self._legendre_sum(hh, self._bond_terms)
            e_mol += e
            g1 -= g
            g2 += g

    @staticmethod
    def _legendre_sum(d: np.ndarray, terms) -> tuple[np.ndarray, np.ndarray]:
        """sum_l amp_l P_l(unit(d) . dir_l) per row of d, and its gradient wrt d."""
        inv = 1.0 / np.linalg.norm(d, axis=1)
        u = d * inv[:, None]
        energy = np.zeros(len(d))
        grad = np.zeros_like(d)
        for l, direction, amp in terms:
            x = u @ direction
            p, dp = legendre(l, x)
            energy += amp * p
            # d(u . n)/dd = (n - (u . n) u) / |d|
            grad += (amp * dp * inv)[:, None] * (direction[None, :] - x[:, None] * u)
        return energy, grad

    def _lennard_jones(self, s: Structure, forces: np.ndarray) -> tuple[float, np.ndarray]:
        """Shifted O-O LJ over all pairs of different molecules (all images within the cutoff).

        Adds the forces in place; returns the energy and the virial.
        """
        c = self.config
        oxygens = np.arange(0, s.n_atoms, 3)
        if len(oxygens) == 0:
            return 0.0, np.zeros((3, 3))
        pos_o = s.positions[oxygens]
        if s.cell is None:
            i, j = np.triu_indices(len(oxygens), k=1)
            vec = pos_o[j] - pos_o[i]
            weight = 1.0
        else:
            from ase import Atoms
            from ase.neighborlist import neighbor_list

            atoms = Atoms(numbers=np.full(len(oxygens), 8), positions=pos_o, cell=s.cell, pbc=True)
            # each pair appears as (i, j) and (j, i): half weight. Images of a molecule's own
            # O are other molecules of the periodic system and are included.
            i, j, vec = neighbor_list("ijD", atoms, c.lj_cutoff)
            weight = 0.5
        r2 = np.einsum("pa,pa->p", vec, vec)
        keep = r2 < c.lj_cutoff**2
        i, j, vec, r2 = i[keep], j[keep], vec[keep], r2[keep]
        if len(i) == 0:
            return 0.0, np.zeros((3, 3))
        sr6 = (c.lj_sigma**2 / r2) ** 3
        sr12 = sr6 * sr6
        energy = weight * float(np.sum(4.0 * c.lj_epsilon * (sr12 - sr6) - self._lj_shift))
        # dE/dvec = (dE/dr / r) vec, with dE/dr / r = 4 eps (-12 sr12 + 6 sr6) / r^2
        g = (weight * 4.0 * c.lj_epsilon * (-12.0 * sr12 + 6.0 * sr6) / r2)[:, None] * vec
        f_o = np.zeros_like(pos_o)
        np.add.at(f_o, i, g)
        np.add.at(f_o, j, -g)
        forces[oxygens] += f_o
        return energy, -np.einsum("pa,pb->ab", g, vec)


def _minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """The shortest lattice-equivalent of each row of ``vectors`` for a cell of any shape."""
    from ase.geometry import find_mic

    return find_mic(vectors, cell, pbc=True)[0]
