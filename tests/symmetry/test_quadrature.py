"""Rotation quadratures: sizes, weights, exactness degree (and no more), inversion, i-PI's grids."""

import numpy as np
import pytest
from symbreak.symmetry.quadrature import (
    identity_quadrature,
    lebedev_orders,
    lebedev_quadrature,
    legendre_quadrature,
)

GRIDS = [("legendre", 2), ("legendre", 3), ("legendre", 4), ("lebedev", 3), ("lebedev", 5), ("lebedev", 7)]


def make(kind, order, inversion=False):
    return (legendre_quadrature if kind == "legendre" else lebedev_quadrature)(order, inversion)


def legendre_p(l, x):
    return np.polynomial.legendre.legval(x, np.eye(l + 1)[l])


def unit_vectors(rng, n):
    v = rng.standard_normal((n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def grid_average_single(q, l, a, b):
    """sum_k w_k P_l((R_k a) . b): the Haar average is 0 for l >= 1."""
    return q.weights @ legendre_p(l, (q.rotations @ a) @ b)


def grid_average_pair(q, l1, l2, a1, b1, a2, b2):
    """sum_k w_k P_l1((R_k a1) . b1) P_l2((R_k a2) . b2): spans D^j components with j <= l1 + l2."""
    return q.weights @ (legendre_p(l1, (q.rotations @ a1) @ b1) * legendre_p(l2, (q.rotations @ a2) @ b2))


def haar_average_pair(l1, l2, a1, b1, a2, b2):
    """Exact O(3) average of the product: delta_{l1 l2} P_l(a1 . a2) P_l(b1 . b2) / (2l + 1)."""
    if l1 != l2:
        return 0.0
    return legendre_p(l1, a1 @ a2) * legendre_p(l1, b1 @ b2) / (2 * l1 + 1)


@pytest.mark.parametrize("order, size", [(1, 1), (2, 18), (3, 75), (4, 196)])
def test_legendre_sizes_and_doubling_with_inversion(order, size):
    q = legendre_quadrature(order)
    qi = legendre_quadrature(order, inversion=True)
    assert len(q) == size and q.rotations.shape == (size, 3, 3)
    assert len(qi) == 2 * size
    assert q.degree == 2 * order - 2 and qi.degree == q.degree
    assert qi.inversion and not q.inversion
    np.testing.assert_allclose(qi.rotations[size:], -q.rotations, atol=0)
    np.testing.assert_allclose(qi.weights[:size], qi.weights[size:], atol=0)


@pytest.mark.parametrize("order, size", [(3, 18), (5, 70), (7, 182)])
def test_lebedev_sizes(order, size):
    q = lebedev_quadrature(order)
    assert len(q) == size
    assert q.degree == order - 1
    assert len(lebedev_quadrature(order, inversion=True)) == 2 * size


def test_identity_quadrature():
    q = identity_quadrature()
    np.testing.assert_array_equal(q.rotations, np.eye(3)[None])
    qi = identity_quadrature(inversion=True)
    np.testing.assert_array_equal(qi.rotations, [np.eye(3), -np.eye(3)])
    np.testing.assert_allclose(qi.weights, [0.5, 0.5])


def test_with_inversion_is_idempotent():
    qi = legendre_quadrature(2, inversion=True)
    assert qi.with_inversion() is qi


@pytest.mark.parametrize("inversion", [False, True])
@pytest.mark.parametrize("kind, order", GRIDS + [("legendre", 1)])
def test_weights_normalised_and_rotations_orthogonal(kind, order, inversion):
    q = make(kind, order, inversion)
    assert q.weights.sum() == pytest.approx(1.0, abs=1e-14)
    if kind == "legendre":
        assert np.all(q.weights > 0)
    r = q.rotations
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape), atol=1e-13)
    det = np.linalg.det(r)
    expected_det = np.concatenate([np.ones(len(q) // 2), -np.ones(len(q) // 2)]) if inversion else 1.0
    np.testing.assert_allclose(det, expected_det, atol=1e-12)
    # no rotation appears twice: a duplicate would waste evaluations and skew the weights
    flat = np.round(r.reshape(len(q), 9), 8)
    assert len(np.unique(flat, axis=0)) == len(q)


@pytest.mark.parametrize("kind, order", GRIDS)
def test_exact_up_to_degree_and_not_beyond(kind, order):
    q = make(kind, order)
    rng = np.random.default_rng(order)
    vectors = unit_vectors(rng, 8)
    pairs = list(zip(vectors[:4], vectors[4:]))
    for l in range(1, q.degree + 1):
        for a, b in pairs:
            assert abs(grid_average_single(q, l, a, b)) < 1e-12, (q.label, l)
    beyond = max(abs(grid_average_single(q, q.degree + 1, a, b)) for a, b in pairs)
    assert beyond > 1e-3, (q.label, beyond)


@pytest.mark.parametrize("kind, order", GRIDS)
def test_degree_from_products_of_two_factors(kind, order):
    """Products of two Legendre factors span every D^j with j <= l1 + l2: the grid must
    reproduce their exact Haar average whenever l1 + l2 <= degree, and fail at degree + 1."""
    q = make(kind, order)
    rng = np.random.default_rng(100 + order)
    for total in range(2, q.degree + 2):
        worst = 0.0
        for l1 in range(1, total):
            l2 = total - l1
            for _ in range(3):
                a1, b1, a2, b2 = unit_vectors(rng, 4)
                err = grid_average_pair(q, l1, l2, a1, b1, a2, b2) - haar_average_pair(l1, l2, a1, b1, a2, b2)
                worst = max(worst, abs(err))
        if total <= q.degree:
            assert worst < 1e-12, (q.label, total, worst)
        else:
            assert worst > 1e-3, (q.label, total, worst)


def test_haar_average_pair_formula_against_a_fine_grid():
    """The reference formula of the product test, checked on a grid far above the degrees used."""
    q = legendre_quadrature(7)
    rng = np.random.default_rng(11)
    for l1, l2 in [(1, 1), (2, 2), (3, 3), (4, 4), (1, 2), (2, 4)]:
        a1, b1, a2, b2 = unit_vectors(rng, 4)
        np.testing.assert_allclose(
            grid_average_pair(q, l1, l2, a1, b1, a2, b2), haar_average_pair(l1, l2, a1, b1, a2, b2), atol=1e-12
        )


@pytest.mark.parametrize("kind, order", GRIDS)
def test_inversion_cancels_every_odd_l_and_keeps_even_beyond_degree(kind, order):
    q = make(kind, order, inversion=True)
    rng = np.random.default_rng(200 + order)
    vectors = unit_vectors(rng, 8)
    pairs = list(zip(vectors[:4], vectors[4:]))
    for l in range(1, q.degree + 6):
        values = [abs(grid_average_single(q, l, a, b)) for a, b in pairs]
        if l % 2 or l <= q.degree:
            assert max(values) < 1e-12, (q.label, l, max(values))
    assert q.degree % 2 == 0
    assert max(abs(grid_average_single(q, q.degree + 2, a, b)) for a, b in pairs) > 1e-3


def _match_ipi(ours, ipi_quads):
    """Indices into ``ours`` of i-PI's rotations (nearest match) and i-PI's normalised weights."""
    ipi_rot = np.array([r for r, _, _ in ipi_quads])
    ipi_w = np.array([w for _, w, _ in ipi_quads], dtype=float)
    ipi_w /= ipi_w.sum()
    dist = np.linalg.norm(ipi_rot[:, None] - ours.rotations[None], axis=(2, 3))
    nearest = dist.argmin(axis=1)
    assert dist[np.arange(len(ipi_rot)), nearest].max() < 1e-10
    return nearest, ipi_w


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_legendre_grid_is_ipis(order):
    from ipi.utils.mathtools import get_rotation_quadrature_legendre

    q = legendre_quadrature(order)
    nearest, ipi_w = _match_ipi(q, get_rotation_quadrature_legendre(order))
    assert len(nearest) == len(q)
    assert len(set(nearest.tolist())) == len(q)  # a bijection
    np.testing.assert_allclose(q.weights[nearest], ipi_w, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:path is deprecated:DeprecationWarning")
@pytest.mark.parametrize("order", [3, 5, 7])
def test_lebedev_grid_is_ipis(order):
    from ipi.utils.mathtools import get_rotation_quadrature_lebedev

    q = lebedev_quadrature(order)
    nearest, ipi_w = _match_ipi(q, get_rotation_quadrature_lebedev(order))
    assert len(nearest) == len(q)
    assert len(set(nearest.tolist())) == len(q)
    np.testing.assert_allclose(q.weights[nearest], ipi_w, rtol=1e-10)


def test_every_listed_lebedev_order_exists():
    from scipy.integrate import lebedev_rule

    for order in lebedev_orders():
        points, weights = lebedev_rule(order)
        assert points.shape == (3, len(weights))


@pytest.mark.parametrize("order", [0, -1])
def test_invalid_legendre_order(order):
    with pytest.raises(ValueError, match=rf"order must be >= 1, got {order}"):
        legendre_quadrature(order)


@pytest.mark.parametrize("order", [1, 2, 4, 33, 200])
def test_invalid_lebedev_order_names_the_available_ones(order):
    with pytest.raises(ValueError) as err:
        lebedev_quadrature(order)
    message = str(err.value)
    assert f"degree {order}" in message
    assert "available: 3, 5, 7, 9" in message
