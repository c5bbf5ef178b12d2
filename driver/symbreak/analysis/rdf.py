"""Radial distribution functions and dipole correlations of water, any periodic cell.

    g = radial_distribution(positions, numbers, cells, pair="OO", r_max=6.0, n_bins=120, n_blocks=10)
    g.r, g.g, g.g_err                   # A, g(r), block errors (None without n_blocks)
    g = radial_distribution(bead_positions, numbers, cells, pair="OH")   # (P, T, N, 3): averaged over beads
    c = dipole_correlations(positions, numbers, cells, r_max=6.0, n_bins=60)
    c.r, c.c_L, c.c_T                   # A, then NaN in bins with no pair

g(r) is normalised by the number of pairs counted, so that an ideal gas
(uncorrelated uniform positions) gives g = 1 at every r; intramolecular O-H
and H-H pairs are excluded. Distances use the minimum image in any cell
(triclinic too): r_max may not exceed half the smallest perpendicular width
of the cell, the range in which the minimum image is unique.
The dipole correlations are, binned by the O-O distance r_ij with r^ = r_ij / r,
c_L(r) = <(r^.u_i)(r^.u_j)> and c_T(r) = <u_i.u_j - (r^.u_i)(r^.u_j)>.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from .blocks import block_apply
from .molecules import as_cells, as_frames, dipole_axes, perpendicular_widths, water_molecules

PAIRS = ("OO", "OH", "HH")


@dataclass(frozen=True)
class RadialDistribution:
    """g(r) of one pair of species, normalised so that an ideal gas gives 1; r in Angstrom."""

    r: np.ndarray  # (n_bins,) bin centres, A
    edges: np.ndarray  # (n_bins + 1,) bin edges, A
    g: np.ndarray  # (n_bins,) dimensionless
    g_err: np.ndarray | None  # (n_bins,) block standard error over frames; None without n_blocks


@dataclass(frozen=True)
class DipoleCorrelations:
    """c_L(r) and c_T(r) of the dipole axes binned by O-O distance (dimensionless, NaN in empty bins); r in A."""

    r: np.ndarray  # (n_bins,) bin centres, A
    edges: np.ndarray  # (n_bins + 1,) bin edges, A
    counts: np.ndarray  # (n_bins,) pairs per bin summed over frames
    c_L: np.ndarray  # (n_bins,) <(r^.u_i)(r^.u_j)>
    c_T: np.ndarray  # (n_bins,) <u_i.u_j - (r^.u_i)(r^.u_j)>
    c_L_err: np.ndarray | None  # (n_bins,) block standard errors over frames; None without n_blocks
    c_T_err: np.ndarray | None


def pair_indices(n_molecules: int, pair: str) -> tuple[np.ndarray, np.ndarray]:
    """``i, j = pair_indices(M, "OH")``: atom indices of the pairs counted for ``pair`` (intramolecular excluded)."""
    if pair not in PAIRS:
        raise InputError(f"pair must be one of {PAIRS}, got {pair!r}")
    oxygens = 3 * np.arange(n_molecules)
    hydrogens = np.stack([oxygens + 1, oxygens + 2], axis=1).ravel()
    if pair == "OO":
        a, b = np.triu_indices(n_molecules, k=1)
        return oxygens[a], oxygens[b]
    if pair == "OH":
        i, j = np.meshgrid(oxygens, hydrogens, indexing="ij")
        keep = i // 3 != j // 3
        return i[keep], j[keep]
    a, b = np.triu_indices(2 * n_molecules, k=1)
    i, j = hydrogens[a], hydrogens[b]
    keep = i // 3 != j // 3
    return i[keep], j[keep]


def _largest_r_max(cells: np.ndarray) -> float:
    return float(perpendicular_widths(cells).min() / 2.0)


def _check_inputs(positions, numbers, cells, r_max, n_bins, beads: bool):
    positions = as_frames(positions, beads=beads)
    frames = positions if positions.ndim == 3 else positions[0]
    n_mol = water_molecules(numbers, frames.shape[1])
    if cells is None:
        raise InputError("g(r) needs the periodic cell (its volume sets the ideal-gas normalisation); got cells=None")
    cells = as_cells(cells, frames.shape[0])
    largest = _largest_r_max(cells)
    if r_max is None:
        r_max = largest
    if not 0 < r_max <= largest * (1 + 1e-12):
        raise InputError(
            f"r_max = {r_max} A must be in (0, {largest:.4g}] A, half the smallest perpendicular cell width, "
            "where the minimum image is unique"
        )
    if int(n_bins) < 1:
        raise InputError(f"n_bins must be >= 1, got {n_bins}")
    return positions, n_mol, cells, float(r_max), int(n_bins)


#: rows of the dense distance blocks: bounds the memory to ~ CHUNK x N x 3 floats
CHUNK = 32


def _bin_index(r: np.ndarray, r_max: float, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    inside = r < r_max
    return np.minimum((r[inside] * (n_bins / r_max)).astype(int), n_bins - 1), inside


def _vectors(frac_diff: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum-image Cartesian vectors of fractional differences, elementwise (bitwise the same for any layout)."""
    f = frac_diff - np.rint(frac_diff)
    return f[..., 0, None] * cell[0] + f[..., 1, None] * cell[1] + f[..., 2, None] * cell[2]


def _norm(d: np.ndarray) -> np.ndarray:
    return np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2])


def _pair_counts(frac: np.ndarray, cell: np.ndarray, pair: str, r_max: float, n_bins: int) -> np.ndarray:
    """Histogram of one frame's distances over the pairs of :func:`pair_indices` (dense blocks, then corrections)."""
    species = {"O": frac[0::3], "H": np.concatenate([frac[1::3], frac[2::3]])}
    a, b = species[pair[0]], species[pair[1]]
    counts = np.zeros(n_bins)
    for start in range(0, len(a), CHUNK):
        r = _norm(_vectors(a[start : start + CHUNK, None, :] - b[None, :, :], cell))
        counts += np.bincount(_bin_index(r.ravel(), r_max, n_bins)[0], minlength=n_bins)
    if pair[0] == pair[1]:
        counts[0] -= len(a)  # every atom with itself at r = 0
        counts /= 2.0  # ordered pairs counted twice
    if pair != "OO":
        # intramolecular pairs, with the same arithmetic as the dense blocks so that they cancel exactly
        o, h1, h2 = frac[0::3], frac[1::3], frac[2::3]
        for diff in ([o - h1, o - h2] if pair == "OH" else [h1 - h2]):
            counts -= np.bincount(_bin_index(_norm(_vectors(diff, cell)), r_max, n_bins)[0], minlength=n_bins)
    return counts


def radial_distribution(
    positions, numbers, cells, pair: str = "OO", r_max: float | None = None, n_bins: int = 200, n_blocks: int | None = None
) -> RadialDistribution:
    """``g = radial_distribution(positions, numbers, cells, pair="OO", r_max=6.0)``: g(r) with ideal gas = 1.

    ``positions`` (T, N, 3), or (P, T, N, 3) for all beads of a path-integral
    run (each bead's pairs counted within that bead, then averaged); ``cells``
    (3, 3) or (T, 3, 3), rows as lattice vectors. ``r_max`` defaults to half
    the smallest perpendicular width. Returns a :class:`RadialDistribution`:
    ``g.r`` (bin centres), ``g.edges``, ``g.g`` and, with ``n_blocks``,
    ``g.g_err`` (block standard error over frames).
    """
    positions, n_mol, cells, r_max, n_bins = _check_inputs(positions, numbers, cells, r_max, n_bins, beads=True)
    if positions.ndim == 3:
        positions = positions[None]
    n_pairs = len(pair_indices(n_mol, pair)[0])
    if n_pairs == 0:
        raise InputError(f"no {pair} pairs between different molecules in a system of {n_mol} molecule(s)")
    edges = np.linspace(0.0, r_max, n_bins + 1)
    shells = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    volumes = np.abs(np.linalg.det(cells))
    inverse = np.linalg.inv(cells)
    n_beads, n_frames = positions.shape[:2]
    g_frames = np.zeros((n_frames, n_bins))
    for t in range(n_frames):
        for k in range(n_beads):
            counts = _pair_counts(positions[k, t] @ inverse[t], cells[t], pair, r_max, n_bins)
            g_frames[t] += counts * volumes[t] / (n_pairs * shells)
    g_frames /= n_beads
    if n_blocks is None:
        g, g_err = g_frames.mean(axis=0), None
    else:
        g, g_err, _ = block_apply(lambda frames: frames.mean(axis=0), g_frames, n_blocks=n_blocks)
    return RadialDistribution(r=0.5 * (edges[1:] + edges[:-1]), edges=edges, g=g, g_err=g_err)


def dipole_correlations(
    positions, numbers, cells, r_max: float | None = None, n_bins: int = 60, n_blocks: int | None = None
) -> DipoleCorrelations:
    """``c = dipole_correlations(positions, numbers, cells, r_max=6.0)``: c_L(r), c_T(r) binned by O-O distance.

    Returns a :class:`DipoleCorrelations`: ``c.r``, ``c.edges``, ``c.c_L``,
    ``c.c_T`` (NaN in bins with no pair), ``c.counts`` (pairs per bin over all
    frames) and, with ``n_blocks``, ``c.c_L_err`` and ``c.c_T_err`` (block
    standard errors over frames).
    """
    positions, n_mol, cells, r_max, n_bins = _check_inputs(positions, numbers, cells, r_max, n_bins, beads=False)
    u = dipole_axes(positions, numbers, cells)
    if n_mol < 2:
        raise InputError("dipole correlations need at least two molecules")
    edges = np.linspace(0.0, r_max, n_bins + 1)
    n_frames = len(positions)
    counts = np.zeros((n_frames, n_bins))
    sum_l = np.zeros((n_frames, n_bins))
    sum_t = np.zeros((n_frames, n_bins))
    inverse = np.linalg.inv(cells)
    for t in range(n_frames):
        frac = positions[t, 0::3] @ inverse[t]
        for start in range(0, n_mol, CHUNK):
            # ordered pairs (rows of this chunk, any other molecule): both orders give the same products
            rows = np.arange(start, min(start + CHUNK, n_mol))
            d = _vectors(frac[None, :, :] - frac[rows, None, :], cells[t])
            r = _norm(d)
            k, j = np.nonzero((r < r_max) & (rows[:, None] != np.arange(n_mol)[None, :]))
            idx, _ = _bin_index(r[k, j], r_max, n_bins)
            rhat = d[k, j] / r[k, j, None]
            ui, uj = u[t, rows[k]], u[t, j]
            longitudinal = np.sum(rhat * ui, axis=1) * np.sum(rhat * uj, axis=1)
            transverse = np.sum(ui * uj, axis=1) - longitudinal
            counts[t] += 0.5 * np.bincount(idx, minlength=n_bins)
            sum_l[t] += 0.5 * np.bincount(idx, weights=longitudinal, minlength=n_bins)
            sum_t[t] += 0.5 * np.bincount(idx, weights=transverse, minlength=n_bins)

    def ratios(cnt, sl, st):
        total = cnt.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([np.where(total > 0, sl.sum(axis=0) / total, np.nan), np.where(total > 0, st.sum(axis=0) / total, np.nan)])

    c_L, c_T = ratios(counts, sum_l, sum_t)
    c_L_err = c_T_err = None
    if n_blocks is not None:
        _, (c_L_err, c_T_err), _ = block_apply(ratios, counts, sum_l, sum_t, n_blocks=n_blocks)
    return DipoleCorrelations(r=0.5 * (edges[1:] + edges[:-1]), edges=edges, counts=counts.sum(axis=0),
                              c_L=c_L, c_T=c_T, c_L_err=c_L_err, c_T_err=c_T_err)
