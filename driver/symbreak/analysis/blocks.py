"""Block averages: means with standard errors from a correlated time series.

    mean, err = block_average(series, n_blocks=10)        # (T, ...) -> mean and standard error
    mean, err = block_average(series, n_blocks="auto")    # block size from the blocking analysis
    mean, err, per_block = block_apply(histogram, positions, n_blocks=10)
    size = auto_block_size(series)                        # frames per decorrelated block

Frames come along the first axis. When the frame count is not a multiple of
the block count, the leading frames (the least equilibrated ones) are dropped.
The standard error is std(block values, ddof=1) / sqrt(n_blocks): valid when a
block is longer than the correlation time of the series.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError


def _check_blocks(n_frames: int, n_blocks: int) -> None:
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)):
        raise InputError(f"n_blocks must be an integer or 'auto', got {n_blocks!r}")
    if n_blocks < 2:
        raise InputError(f"n_blocks must be >= 2 to estimate an error, got {n_blocks}")
    if n_frames < n_blocks:
        raise InputError(f"{n_frames} frames cannot be split into {n_blocks} blocks: use fewer blocks or more frames")


def block_slices(n_frames: int, n_blocks: int) -> list[slice]:
    """``block_slices(1000, 10)``: frame slices of n equal consecutive blocks (leading remainder dropped)."""
    _check_blocks(n_frames, n_blocks)
    size = n_frames // n_blocks
    start = n_frames - size * n_blocks
    return [slice(start + k * size, start + (k + 1) * size) for k in range(n_blocks)]


def block_means(values, n_blocks: int) -> np.ndarray:
    """``block_means(series, 10)``: (n_blocks, ...) means of consecutive blocks of frames (first axis)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise InputError("values must have a frame axis first, got a scalar")
    return np.stack([values[s].mean(axis=0) for s in block_slices(len(values), n_blocks)])


def auto_block_size(series, confidence: float = 0.99) -> int:
    """``auto_block_size(series)``: frames per block from the automatic blocking method.

    Repeatedly averages neighbouring pairs of frames (Flyvbjerg-Petersen) and
    picks the first level whose remaining levels show no lag-1 correlation,
    by the chi-squared test of Jonsson (Phys. Rev. E 98, 043304, 2018). Uses
    the last 2^k frames of a 1-d series; a multi-column series (T, ...) gets
    the largest block size over its columns.
    """
    x = np.asarray(series, dtype=float)
    from scipy import stats  # here: importing scipy.stats costs a second, and most users of blocks never need it

    if x.ndim == 0 or len(x) < 4:
        raise InputError(f"auto_block_size needs a series of at least 4 frames, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("auto_block_size: the series contains NaN or infinite values")
    if x.ndim > 1:
        columns = x.reshape(len(x), -1).T
        return max(auto_block_size(c, confidence) for c in columns)
    d = int(np.floor(np.log2(len(x))))
    x = x[len(x) - 2**d :]
    mu = x.mean()
    s = np.zeros(d)
    gamma = np.zeros(d)
    for i in range(d):
        n = len(x)
        s[i] = x.var()
        gamma[i] = np.sum((x[:-1] - mu) * (x[1:] - mu)) / n
        x = 0.5 * (x[0::2] + x[1::2])
    if np.all(s == 0):
        return 1
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(s > 0, (gamma / s) ** 2, 0.0) * 2.0 ** np.arange(d, 0, -1)
    m_stat = np.cumsum(terms[::-1])[::-1]
    quantiles = stats.chi2.ppf(confidence, np.arange(d, 0, -1))
    for k in range(d):
        if m_stat[k] < quantiles[k]:
            return 2**k
    return 2 ** (d - 1)


def _resolve_blocks(values: np.ndarray, n_blocks) -> int:
    if isinstance(n_blocks, str):
        if n_blocks != "auto":
            raise InputError(f"n_blocks must be an integer or 'auto', got {n_blocks!r}")
        size = auto_block_size(values)
        n_blocks = len(values) // size
        if n_blocks < 2:
            raise InputError(
                f"the series is correlated over {size} of its {len(values)} frames: too short for an error bar"
            )
    return n_blocks


def block_average(values, n_blocks=10) -> tuple[np.ndarray, np.ndarray]:
    """``mean, err = block_average(series, n_blocks=10)``: mean and standard error over blocks of frames.

    ``values`` is (T, ...); the result has the shape of one frame. ``n_blocks``
    may be ``"auto"`` (block size from :func:`auto_block_size`).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise InputError("values must have a frame axis first, got a scalar")
    means = block_means(values, _resolve_blocks(values, n_blocks))
    n = len(means)
    return means.mean(axis=0), means.std(axis=0, ddof=1) / np.sqrt(n)


def block_apply(func, *arrays, n_blocks: int = 10):
    """``mean, err, per_block = block_apply(f, positions, cells, n_blocks=10)``: f on each block of frames.

    ``func`` gets the block's slice of every array (all share the first, frame
    axis) and returns an array or number (a histogram, a free-energy surface,
    an MSD curve). Returns the mean over blocks, its standard error and the
    (n_blocks, ...) per-block values. For a quantity that is non-linear in the
    data the mean over blocks differs slightly from the value on all frames.
    """
    if not arrays:
        raise InputError("block_apply needs at least one array of frames")
    n_frames = len(arrays[0])
    for k, a in enumerate(arrays):
        if len(a) != n_frames:
            raise InputError(f"block_apply: array {k} has {len(a)} frames, array 0 has {n_frames}")
    per_block = np.stack(
        [np.asarray(func(*[a[s] for a in arrays]), dtype=float) for s in block_slices(n_frames, n_blocks)]
    )
    return per_block.mean(axis=0), per_block.std(axis=0, ddof=1) / np.sqrt(len(per_block)), per_block
