"""Block averages: known standard errors of white and correlated noise."""

import numpy as np
import pytest
from symbreak.analysis.blocks import auto_block_size, block_apply, block_average, block_means, block_slices


def ar1(n, rho, rng):
    """Unit-variance AR(1) series; the variance of its mean is (1 + rho) / (1 - rho) / n."""
    noise = rng.standard_normal(n) * np.sqrt(1 - rho**2)
    x = np.empty(n)
    x[0] = rng.standard_normal()
    for k in range(1, n):
        x[k] = rho * x[k - 1] + noise[k]
    return x


def test_white_noise_error_is_sigma_over_root_n():
    rng = np.random.default_rng(0)
    x = 3.0 + 2.0 * rng.standard_normal(40000)
    mean, err = block_average(x, n_blocks=100)
    assert err == pytest.approx(2.0 / np.sqrt(len(x)), rel=0.25)
    assert abs(mean - 3.0) < 4 * err


def test_auto_block_size_recovers_the_error_of_a_correlated_series():
    rng = np.random.default_rng(1)
    rho = 0.9
    x = ar1(2**15, rho, rng)
    exact = np.sqrt((1 + rho) / (1 - rho) / len(x))
    size = auto_block_size(x)
    assert 8 <= size <= 1024
    _, err = block_average(x, n_blocks="auto")
    assert err == pytest.approx(exact, rel=0.3)
    # too small blocks underestimate the error of a correlated series
    _, naive = block_average(x, n_blocks=len(x) // 2)
    assert naive < 0.5 * exact


def test_auto_block_size_of_white_noise_is_small():
    assert auto_block_size(np.random.default_rng(2).standard_normal(4096)) <= 4


def test_block_means_drop_the_leading_remainder():
    assert block_slices(10, 3) == [slice(1, 4), slice(4, 7), slice(7, 10)]
    np.testing.assert_allclose(block_means(np.arange(10.0), 3), [2.0, 5.0, 8.0])


def test_block_apply_of_a_histogram_averages_the_block_histograms():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1000, 5))
    edges = np.linspace(-3, 3, 13)

    def hist(block):
        return np.histogram(block, bins=edges)[0] / block.size

    mean, err, per_block = block_apply(hist, x, n_blocks=10)
    assert per_block.shape == (10, 12) and err.shape == (12,)
    np.testing.assert_allclose(mean, hist(x), atol=1e-12)  # equal blocks: the mean of the block histograms is the whole one


def test_bad_block_requests_are_refused():
    with pytest.raises(ValueError, match="n_blocks must be >= 2"):
        block_average(np.zeros(10), n_blocks=1)
    with pytest.raises(ValueError, match="cannot be split"):
        block_average(np.zeros(5), n_blocks=10)
    with pytest.raises(ValueError, match="'auto'"):
        block_average(np.zeros(50), n_blocks="many")
    with pytest.raises(ValueError, match="frames"):
        block_apply(lambda a, b: a, np.zeros(10), np.zeros(9), n_blocks=2)
