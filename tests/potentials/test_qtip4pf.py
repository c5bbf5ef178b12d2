"""The LAMMPS q-TIP4P/F reference: gradients, invariances, the isolated molecule, CLIs, fix ipi."""

import os

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.potentials.base import Structure

try:
    from symbreak.potentials.lammps_env import new_lammps

    new_lammps().close()
except ImportError as err:  # pragma: no cover - depends on the environment
    pytest.skip(f"LAMMPS unavailable: {err}", allow_module_level=True)

from symbreak.potentials.qtip4pf import QTIP4PF
from symbreak.potentials.qtip4pf_setup import ANGLE_K, MORSE_ALPHA, MORSE_D, R_OH_EQ, THETA_EQ
from symbreak.potentials.testing import finite_difference_virial


@pytest.fixture(scope="module")
def tight():
    """PPPM tight enough that forces are the gradient of the energy to ~1e-5 eV/A."""
    return QTIP4PF(kspace_accuracy=1e-8)


@pytest.fixture(scope="module")
def pot():
    return QTIP4PF()


def _fd_forces(pot, s, picks, h=1e-5):
    out = []
    for i, a in picks:
        e = []
        for sign in (1, -1):
            p = s.positions.copy()
            p[i, a] += sign * h
            e.append(pot.compute_one(Structure(p, s.numbers, s.cell))[0])
        out.append(-(e[0] - e[1]) / (2 * h))
    return np.array(out)


_fd_virial = finite_difference_virial


@pytest.mark.parametrize("name,tol", [("water_molecule", 1e-6), ("water_box", 1e-4), ("water_box_triclinic", 1e-4)])
@pytest.mark.slow
def test_forces_are_minus_gradient(tight, name, tol, request):
    s = request.getfixturevalue(name)
    rng = np.random.default_rng(0)
    picks = [(int(rng.integers(s.n_atoms)), int(rng.integers(3))) for _ in range(5)]
    _, f, _ = tight.compute_one(s)
    fd = _fd_forces(tight, s, picks)
    assert np.allclose(fd, [f[i, a] for i, a in picks], atol=tol)


@pytest.mark.parametrize("name,h,tol", [("water_molecule", 1e-5, 1e-6), ("water_box_triclinic", 1e-3, 1e-3)])
@pytest.mark.slow
def test_virial_is_minus_strain_derivative(tight, name, h, tol, request):
    # periodic: PPPM's grid/g_ewald switch with the box at the 1e-7 eV level, so a larger step
    s = request.getfixturevalue(name)
    _, _, w = tight.compute_one(s)
    assert np.allclose(_fd_virial(tight, s, h), w, atol=tol)


@pytest.mark.parametrize("name", ["water_molecule", "water_box", "water_box_triclinic"])
@pytest.mark.parametrize("improper", [False, True])
@pytest.mark.slow
def test_rotation_invariance(pot, name, improper, request):
    s = request.getfixturevalue(name)
    rot = Rotation.random(random_state=7).as_matrix() * (-1 if improper else 1)
    e, f, w = pot.compute_one(s)
    e2, f2, w2 = pot.compute_one(s.rotated(rot))
    scale = np.abs(f).max()
    assert abs(e2 - e) <= 1e-10 * max(1.0, abs(e))
    assert np.abs(f2 - f @ rot.T).max() <= 1e-10 * scale
    assert np.abs(w2 - rot @ w @ rot.T).max() <= 1e-10 * np.abs(w).max()


@pytest.mark.slow
def test_translation_and_unwrapping(tight, water_box_triclinic):
    s = water_box_triclinic
    rng = np.random.default_rng(3)
    e, f, _ = tight.compute_one(s)
    shifted = s.positions + rng.normal(size=3) * 2.0 + rng.integers(-2, 3, (s.n_atoms, 3)) @ s.cell
    e2, f2, _ = tight.compute_one(Structure(shifted, s.numbers, s.cell))
    assert abs(e2 - e) < 1e-6
    assert np.abs(f2 - f).max() < 1e-5


@pytest.mark.slow
def test_vacuum_translation_exact(pot, water_molecule):
    e, f, _ = pot.compute_one(water_molecule)
    e2, f2, _ = pot.compute_one(Structure(water_molecule.positions + 37.0, water_molecule.numbers, None))
    assert abs(e2 - e) < 1e-12 and np.abs(f2 - f).max() < 1e-10


@pytest.mark.slow
def test_molecule_permutation(tight, water_box):
    s = water_box
    perm = np.random.default_rng(5).permutation(s.n_atoms // 3)
    atoms = (3 * perm[:, None] + np.arange(3)).ravel()
    e, f, w = tight.compute_one(s)
    e2, f2, w2 = tight.compute_one(Structure(s.positions[atoms], s.numbers[atoms], s.cell))
    assert abs(e2 - e) < 1e-7
    assert np.abs(f2 - f[atoms]).max() < 1e-6
    assert np.abs(w2 - w).max() < 1e-6


@pytest.mark.slow
def test_batch_matches_single_calls_and_is_history_free(pot, water_molecule, water_box, water_box_triclinic):
    batch = [water_box, water_molecule, water_box_triclinic, water_box]
    out = pot.compute(batch)
    fresh = [QTIP4PF().compute_one(s) for s in batch]
    for k, (e, f, w) in enumerate(fresh):
        assert out.energies[k] == pytest.approx(e, abs=1e-12)
        assert np.allclose(out.forces[k], f, atol=1e-12)
        assert np.allclose(out.virials[k], w, atol=1e-12)


def test_bad_topology_is_a_clear_error(pot, water_box):
    hoh = Structure(water_box.positions, np.tile([1, 8, 1], 8), water_box.cell)
    with pytest.raises(ValueError, match="O,H,H"):
        pot.compute_one(hoh)
    with pytest.raises(ValueError, match="only H and O"):
        pot.compute_one(Structure(np.zeros((3, 3)), [8, 1, 11], None))
    swapped = water_box.positions.copy()
    swapped[[1, 4]] = swapped[[4, 1]]
    with pytest.raises(ValueError, match="O-H distance"):
        pot.compute_one(Structure(swapped, water_box.numbers, water_box.cell))


def _geometry(pos):
    d1, d2 = pos[1] - pos[0], pos[2] - pos[0]
    r1, r2 = np.linalg.norm(d1), np.linalg.norm(d2)
    return r1, r2, np.degrees(np.arccos(d1 @ d2 / (r1 * r2)))


@pytest.mark.slow
def test_isolated_minimum(pot, water_molecule):
    from symbreak.potentials.relaxation import relax
    from symbreak.structures import molecule

    e, f, _ = pot.compute_one(molecule(seed=1))
    assert abs(e) < 1e-12 and np.abs(f).max() < 1e-10
    relaxed = relax(water_molecule, pot, steps=500, fmax=1e-6)
    r1, r2, angle = _geometry(relaxed.positions)
    assert r1 == pytest.approx(R_OH_EQ, abs=1e-5) and r2 == pytest.approx(R_OH_EQ, abs=1e-5)
    assert angle == pytest.approx(THETA_EQ, abs=1e-3)
    assert abs(pot.compute_one(relaxed)[0]) < 1e-9


def _gf_frequencies():
    """Harmonic frequencies (cm^-1) of the published force field by Wilson's GF method."""
    amu = 1.66053906660e-27
    kcal_mol_a2 = 4184.0 / 6.02214076e23 / 1e-20  # kcal/mol/A^2 -> J/m^2
    mu_h, mu_o = 1 / 1.008, 1 / 15.9994
    r, th = R_OH_EQ, np.radians(THETA_EQ)
    g = np.array(
        [
            [mu_h + mu_o, mu_o * np.cos(th), -mu_o * np.sin(th) / r],
            [mu_o * np.cos(th), mu_h + mu_o, -mu_o * np.sin(th) / r],
            [-mu_o * np.sin(th) / r, -mu_o * np.sin(th) / r, (2 * mu_h + 2 * mu_o * (1 - np.cos(th))) / r**2],
        ]
    )
    fmat = np.diag([2 * MORSE_D * MORSE_ALPHA**2, 2 * MORSE_D * MORSE_ALPHA**2, ANGLE_K])
    lam = np.sort(np.linalg.eigvals(g @ fmat).real) * kcal_mol_a2 / amu
    return np.sqrt(lam) / (2 * np.pi * 2.99792458e10)


@pytest.mark.slow
def test_harmonic_frequencies(pot):
    from symbreak.structures import molecule

    s = molecule()
    masses = np.repeat([15.9994, 1.008, 1.008], 3)
    h = 1e-4
    hess = np.zeros((9, 9))
    for k in range(9):
        cols = []
        for sign in (1, -1):
            p = s.positions.ravel().copy()
            p[k] += sign * h
            cols.append(-pot.compute_one(Structure(p.reshape(3, 3), s.numbers, None))[1].ravel())
        hess[:, k] = (cols[0] - cols[1]) / (2 * h)
    hess = 0.5 * (hess + hess.T) / np.sqrt(np.outer(masses, masses))
    # eV/A^2/amu -> cm^-1
    lam = np.sort(np.linalg.eigvalsh(hess))[-3:] * 1.602176634e-19 / 1e-20 / 1.66053906660e-27
    nu = np.sqrt(lam) / (2 * np.pi * 2.99792458e10)
    assert np.allclose(nu, _gf_frequencies(), rtol=1e-3)
    # q-TIP4P/F monomer: bend near 1650, stretches near 3900 cm^-1 (harmonic, no intramolecular Coulomb)
    assert 1550 < nu[0] < 1750 and 3750 < nu[1] < nu[2] < 4050


@pytest.mark.slow
def test_label_cli(tmp_path, water_box, water_molecule):
    import ase.io
    from symbreak.cli import main
    from symbreak.structures.io import write_ipi_xyz

    src, out = tmp_path / "in.xyz", tmp_path / "out.xyz"
    write_ipi_xyz(str(src), [water_box, water_box.rotated(Rotation.random(random_state=1).as_matrix())])
    assert main(["label", str(src), str(out), "--quiet"]) == 0
    frames = ase.io.read(out, index=":")
    assert len(frames) == 2
    e0 = QTIP4PF().compute_one(water_box)[0]
    for atoms in frames:
        assert atoms.get_potential_energy() == pytest.approx(e0, abs=2e-4)  # 1e-12 A xyz precision
        assert atoms.get_forces().shape == (24, 3) and atoms.get_stress().shape == (6,)
    gas_in, gas_out = tmp_path / "gas.xyz", tmp_path / "gas_out.xyz"
    write_ipi_xyz(str(gas_in), water_molecule)
    assert main(["label", str(gas_in), str(gas_out), "--vacuum", "--quiet"]) == 0
    assert ase.io.read(gas_out).get_potential_energy() == pytest.approx(pot_energy(water_molecule), abs=1e-9)
    assert main(["label", str(tmp_path / "missing.xyz"), str(out)]) == 2


def pot_energy(s):
    return QTIP4PF().compute_one(s)[0]


@pytest.mark.slow
def test_reference_client_drives_ipi(tmp_path, water_box):
    """A real i-PI run over a UNIX socket with `symbreak reference` (fix ipi) as the client."""
    from symbreak.ipi.md_settings import MDSettings
    from symbreak.structures.io import read_structures, write_ipi_xyz
    from symbreak.ipi.outputs import read_properties
    from symbreak.training.ipi_md import run_reference_md

    init = tmp_path / "init.xyz"
    write_ipi_xyz(str(init), water_box)
    md = MDSettings(temperature_k=300, steps=30, stride=5, thermostat_tau_fs=10.0, seed=12345)
    result = run_reference_md(str(tmp_path / "run"), str(init), md, kspace_accuracy=1e-6, timeout=120)
    props = read_properties(result.properties)
    assert len(props["step"]) == 7 and props["step"][-1] == 30
    assert np.all((props["temperature"] > 50) & (props["temperature"] < 1500))
    drift = np.abs(props["conserved"] - props["conserved"][0]).max() / 8
    assert drift < 5e-3  # eV per molecule over 15 fs
    # the fix ipi energies are the in-process reference energies of the same frames
    frames = read_structures(result.trajectories[0])
    relabelled = QTIP4PF(kspace_accuracy=1e-6).compute(frames).energies
    assert np.allclose(relabelled, props["potential"], atol=2e-3)  # xyz keeps 5 significant digits
    assert not any(p.startswith("ipi_sb") and str(os.getpid()) in p for p in os.listdir("/tmp"))


@pytest.mark.slow
def test_lj_tail_correction(water_box):
    """--lj-tail shifts energy and pressure by the analytic LJ tail beyond the cutoff; forces are unchanged."""
    from symbreak.potentials.qtip4pf_setup import LJ_EPSILON, LJ_SIGMA

    plain, tail = QTIP4PF(), QTIP4PF(lj_tail=True)
    try:
        e0, f0, w0 = plain.compute_one(water_box)
        e1, f1, w1 = tail.compute_one(water_box)
    finally:
        plain.close()
        tail.close()
    n_o, volume = int(np.sum(water_box.numbers == 8)), abs(np.linalg.det(water_box.cell))
    eps, x = LJ_EPSILON * 0.0433641043, LJ_SIGMA / plain.cutoff  # kcal/mol -> eV
    prefactor = np.pi * n_o**2 / volume * eps * LJ_SIGMA**3
    assert np.isclose(e1 - e0, 8 / 3 * prefactor * (x**9 / 3 - x**3), rtol=1e-4)
    assert np.allclose(f1, f0, atol=1e-9)
    # the pressure tail (virial route): trace W = 3 P V
    assert np.isclose(np.trace(w1 - w0), 16 * prefactor * (2 / 3 * x**9 - x**3), rtol=1e-4)
    assert np.allclose(w1 - w0, np.diag(np.diag(w1 - w0)), atol=1e-8)


def _independent_dimer_energy(pos, gamma=0.73612):
    """q-TIP4P/F of two molecules in vacuum from the paper's definitions (kcal/mol -> eV), M at a fixed fraction."""
    from symbreak.potentials.qtip4pf_setup import LJ_EPSILON, LJ_SIGMA, Q_H

    kcal = 0.0433641043
    coulomb = 332.06371  # LAMMPS 'real' units: e^2/A in kcal/mol
    energy = 0.0
    sites = []
    for m in range(2):
        o, h1, h2 = pos[3 * m : 3 * m + 3]
        for h in (h1, h2):
            dr = np.linalg.norm(h - o) - R_OH_EQ
            a = MORSE_ALPHA * dr
            energy += MORSE_D * (a**2 - a**3 + 7 / 12 * a**4)  # quartic expansion of the Morse bond
        cos = (h1 - o) @ (h2 - o) / (np.linalg.norm(h1 - o) * np.linalg.norm(h2 - o))
        energy += ANGLE_K / 2 * (np.arccos(cos) - np.radians(THETA_EQ)) ** 2
        sites.append([(gamma * o + (1 - gamma) / 2 * (h1 + h2), -2 * Q_H), (h1, Q_H), (h2, Q_H)])
    r = np.linalg.norm(pos[0] - pos[3])
    energy += 4 * LJ_EPSILON * ((LJ_SIGMA / r) ** 12 - (LJ_SIGMA / r) ** 6)
    energy += sum(coulomb * qa * qb / np.linalg.norm(a - b) for a, qa in sites[0] for b, qb in sites[1])
    return energy * kcal


@pytest.mark.slow
def test_dimer_matches_the_published_definition(pot):
    """A distorted dimer against the paper's definitions, M at the fraction gamma = 0.73612 at every geometry.

    LAMMPS places M at the fraction qdist / (r_eq cos(theta_eq / 2)) of the O -> H-midpoint vector, so
    qdist = 0.147139 A reproduces gamma exactly (the rounded 0.1471 A is off by 2e-5 eV here)."""
    rng = np.random.default_rng(3)
    base = np.array([[0.0, 0.0, 0.0], [0.9419, 0.0, 0.0], [-0.28, 0.90, 0.0]])
    dimer = np.concatenate([base, base @ Rotation.random(random_state=4).as_matrix().T + [2.9, 0.3, -0.2]])
    dimer += rng.normal(scale=0.05, size=dimer.shape)  # bonds and angles away from equilibrium
    e_lammps = pot.compute_one(Structure(dimer, np.array([8, 1, 1, 8, 1, 1]), None))[0]
    assert e_lammps == pytest.approx(_independent_dimer_energy(dimer), abs=2e-7)
    assert abs(_independent_dimer_energy(dimer, gamma=0.7362) - e_lammps) > 1e-6  # the test resolves gamma


def test_reference_client_waits_for_the_socket(tmp_path):
    """fix ipi tries to connect once: the client waits for i-PI's UNIX socket first, and says when it never comes."""
    import threading

    from symbreak.server.protocol import wait_for_unix_socket
    from symbreak.core.errors import DeadlineError

    path = tmp_path / "ipi_socket"
    threading.Timer(0.2, path.touch).start()
    wait_for_unix_socket(str(path), timeout=30)
    assert path.exists()
    with pytest.raises(DeadlineError, match="no i-PI socket"):
        wait_for_unix_socket(str(tmp_path / "never"), timeout=0.1)


def test_reference_client_waits_for_a_local_tcp_listener_without_connecting():
    """Over TCP the client waits until i-PI's port listens, and never connects itself (i-PI would take it as a client)."""
    import socket
    import threading

    from symbreak.core.errors import DeadlineError
    from symbreak.server.protocol import is_local_address, listening_tcp_ports, wait_for_tcp_listener

    if listening_tcp_ports() is None:
        pytest.skip("no /proc/net/tcp on this OS: the client's own connect is the test there")
    assert is_local_address("127.0.0.1") and not is_local_address("192.0.2.1")  # TEST-NET-1 is never ours
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    with pytest.raises(DeadlineError, match=f"not listening on 127.0.0.1:{port}"):
        wait_for_tcp_listener("127.0.0.1", port, timeout=0.1)
    threading.Timer(0.2, server.listen).start()
    wait_for_tcp_listener("127.0.0.1", port, timeout=30)
    server.settimeout(0.2)
    with pytest.raises(socket.timeout):
        server.accept()  # nobody connected while waiting
    server.close()
