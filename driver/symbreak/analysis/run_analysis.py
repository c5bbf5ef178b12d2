"""What fits a run folder's case, computed from its outputs with block-averaged error bars.

    result = analyze_run("runs/gas-nve-plain")     # a RunAnalysis; RunError (one line) on a bad folder
    result.observables["torque_rms"]               # Observable(name, value, error, unit)
    result.curves["g_OO"]                          # Curve(name, x, y, y_error, x_label, x_unit, y_label, y_unit)

Every result (:class:`symbreak.analysis.results.RunAnalysis`) has ``run``,
``case``, ``kind`` (gas, liquid, ice, pimd, geop, replay), ``label`` (the
strategy; ``mts:2i``; ``reference`` for q-TIP4P/F itself), ``timing`` (ms
per step from the manifest), ``observables`` and ``curves`` (the comparable
observables: same names across runs of one case), ``maps`` and
``convergence`` (for figures and the report) and ``notes`` (what was skipped
and why). Energies are per molecule. Errors are standard errors of block
means (consecutive blocks of frames; None where the run is too short). Every
observable is declared in :mod:`symbreak.analysis.observables` (its unit,
axes, the runs that have it); the helpers below write them through one
:class:`~symbreak.analysis.collector.ObservableCollector`, which refuses an
undeclared name at once, and then compute the observables declared with a
function of the frames alone (``ObservableSpec.compute``).
"""

from __future__ import annotations

import math

import numpy as np

from ..campaign.cases import comparable_case
from ..symmetry import extras_keys as keys
from .angular import angular_summary
from .blocks import block_average, block_means
from .collector import ObservableCollector
from .dynamics import mean_squared_displacement, orientation_autocorrelation, power_spectrum
from .energy import conserved_drift
from .errors import error_table
from .molecules import BrokenMoleculesError, dipole_axes
from .observables import observable_spec
from .orientation import anisotropy, orientational_free_energy
from .pimd import centroid_virial_kinetic_energy, radius_of_gyration
from .rdf import dipole_correlations, radial_distribution
from .results import ConvergenceRow, Map, RunAnalysis, number, numbers
from .run_folder import RunError, RunFolder, extras_series
from .trajectory import ScalarValue, Trajectory

#: frames per block at the least, and the most blocks used for error bars
MIN_BLOCK_FRAMES = 2
MAX_BLOCKS = 10
#: radial range and bins of g(r) and c_L/c_T (capped at half the cell's smallest width)
R_MAX, RDF_BINS, DIPOLE_BINS = 6.0, 60, 30
#: fewest frames for a power spectrum (Welch with 4 segments of >= 8 frames)
MIN_SPECTRUM_FRAMES = 24


def n_blocks_for(n_frames: int, min_blocks: int = 2, max_blocks: int = MAX_BLOCKS, min_size: int = MIN_BLOCK_FRAMES):
    """Blocks for error bars over ``n_frames``: up to ``max_blocks`` of >= ``min_size`` frames; None if < ``min_blocks``."""
    n = min(max_blocks, n_frames // min_size)
    return n if n >= min_blocks else None


def _r_max(cells: np.ndarray) -> float:
    """R_MAX, or less: half the smallest perpendicular width of any frame's cell (minimum image stays valid)."""
    return float(min(R_MAX, 0.5 * np.min(1.0 / np.linalg.norm(np.linalg.inv(cells), axis=-1))))


def _mean_err(series, n_blocks) -> tuple[float, float | None]:
    series = np.asarray(series, dtype=float)
    if n_blocks is None:
        return float(series.mean()), None
    m, e = block_average(series, n_blocks)
    return float(m), float(e)


def _block_scalar(out: ObservableCollector, name: str, series, n_blocks, times) -> None:
    """Write the block mean of a series with its error, its block values and their mean times (paired comparisons)."""
    out.scalar_value(name, ScalarValue.block_mean(series, n_blocks, times))


def _rms_err(squares, n_blocks) -> tuple[float, float | None]:
    """Root of a block-averaged mean square, its error propagated to the root."""
    m, e = _mean_err(squares, n_blocks)
    root = math.sqrt(max(m, 0.0))
    return root, (None if e is None else (e / (2 * root) if root > 0 else e))


# --- parts shared by several kinds ------------------------------------------------------------

def _thermo(run: RunFolder, out: ObservableCollector) -> None:
    """Conserved-quantity drift, temperature, potential per molecule (and volume in NPT)."""
    props = run.properties
    n_mol = run.n_molecules
    rows = len(props["step"])
    n_blocks = n_blocks_for(rows)
    if "time" in props and "conserved" in props and rows >= 6:
        try:
            d = conserved_drift(props["time"], props["conserved"], n_mol, n_blocks=max(3, min(10, rows // 2)))
            out.scalar("conserved_drift", d.drift, d.drift_err)
            out.scalar("conserved_fluctuation", d.fluctuation)
            out.curve("conserved", props["time"], (props["conserved"] - props["conserved"][0]) / n_mol)
        except ValueError as err:
            out.note(f"conserved drift skipped: {err}")
    times = props["time"] if "time" in props else np.arange(rows, dtype=float)
    for name in ("temperature", "potential", "volume", "pressure_md"):
        if name in props:
            per_molecule = observable_spec("scalar", name).unit.endswith("/H2O")
            _block_scalar(out, name, props[name] / (n_mol if per_molecule else 1), n_blocks, times)


def _model_error(run: RunFolder, out: ObservableCollector, skip_first: bool = False) -> None:
    """V_model - V_ref per molecule along the trajectory, with the weight-0 reference component."""
    k = run.component("reference")
    if k is None:
        return
    props = run.properties
    first = 1 if skip_first else 0
    model = props["potential"][first:]
    diff = (model - run.pot_component(k)[first:]) / run.n_molecules
    n_blocks = n_blocks_for(len(diff))
    time = props["time"][first:] if "time" in props else np.arange(len(diff), dtype=float)
    _block_scalar(out, "model_error_mae", np.abs(diff), n_blocks, time)
    _block_scalar(out, "model_error_mean", diff, n_blocks, time)
    out.scalar("model_error_std", float(diff.std()))
    out.curve("model_error", time, diff)


def _symbreak_components(run: RunFolder) -> list[int]:
    return [f.component for f in run.forcefields if f.role != "reference"]


def _symmetry_from_extras(run: RunFolder, out: ObservableCollector) -> str | None:
    """|E_plain - E_avg| per molecule from the extras of a grid strategy, and the power spectra of V_plain and Delta.

    Returns the grid whose extras gave them (None: no strategy wrote them).
    """
    for k in _symbreak_components(run):
        try:
            extras = run.extras(k)
        except RunError:
            continue
        plain = extras_series(extras, keys.ENERGY_PLAIN)
        averaged = extras_series(extras, keys.ENERGY_AVERAGED)
        if plain is None or averaged is None:
            continue
        delta = averaged - plain
        n_blocks = n_blocks_for(len(delta))
        per_mol = np.abs(delta) / run.n_molecules
        out.scalar("symmetry_error_extras", *_mean_err(per_mol, n_blocks))
        spread = extras_series(extras, keys.ENERGY_SPREAD)
        if spread is not None:
            out.scalar("energy_spread", *_mean_err(spread / run.n_molecules, n_blocks))
        fdiff = extras_series(extras, keys.FORCE_PLAIN_MINUS_AVERAGED_RMS)
        if fdiff is not None:
            out.scalar("force_symmetry_error_rms", *_rms_err(fdiff**2, n_blocks))
        _spectra(run, out, plain, delta)
        return extras[0].get(keys.STRATEGY, ["?"])[0]
    return None


def _spectra(run: RunFolder, out: ObservableCollector, plain: np.ndarray, delta: np.ndarray) -> None:
    stride = run.extras_stride
    if stride != 1:
        out.note(f"power spectra skipped: extras are written every {stride} steps, the spectra need stride 1")
        return
    n = len(plain)
    if n < MIN_SPECTRUM_FRAMES:
        out.note(f"power spectra skipped: {n} frames, need {MIN_SPECTRUM_FRAMES}")
        return
    times = np.arange(n) * run.timestep_fs * 1e-3  # one extras frame per (outer) step
    segments = max(1, min(8, int(2 * n / 64) - 1))
    for name, series in (("spectrum_V_plain", plain), ("spectrum_delta", delta)):
        s = power_spectrum(times, series / run.n_molecules, n_segments=segments)
        out.curve(name, s.frequency, s.spectrum)
    f = np.array(out.curves["spectrum_delta"].x, dtype=float)
    p = np.array(out.curves["spectrum_delta"].y, dtype=float)
    out.scalar("nyquist", float(f[-1]))
    # the share of the variance of Delta above 2000 cm^-1: small when the symmetry error is slow (MTS works)
    total = float(np.trapezoid(p, f)) if len(f) > 1 else 0.0
    if total > 0:
        out.scalar("delta_power_above_2000", float(np.trapezoid(p[f >= 2000], f[f >= 2000])) / total)


def _orientation(u: np.ndarray, out: ObservableCollector, with_map: bool) -> None:
    n_frames = len(u)
    n_blocks = n_blocks_for(n_frames, min_blocks=6)
    if n_blocks is None:
        out.note(f"orientational free energy skipped: {n_frames} frames, need 12")
        return
    an = anisotropy(u, l_max=4, n_blocks=n_blocks)
    out.scalar("anisotropy", an.A, an.A_err)
    out.scalar("anisotropy_noise", an.A_noise)
    out.scalar("anisotropy_z", an.z)
    fe = orientational_free_energy(u, n_blocks=n_blocks, n_cos=20, n_phi=40)
    out.curve("F_cos", fe.cos_theta, fe.F_cos, fe.F_cos_err)
    if with_map:
        out.map(Map("F", numbers(fe.phi), numbers(fe.cos_theta), tuple(numbers(row) for row in fe.F),
                    "phi / rad", "cos theta"))


def _frame_observables(run: RunFolder, out: ObservableCollector, positions: np.ndarray, cells, times,
                       beads=None) -> None:
    """The observables declared with a function of the frames alone (:meth:`ObservableCollector.computed`)."""
    out.computed(Trajectory(run.numbers(), positions, times, cells, beads, n_blocks_for(len(positions))))


# --- one function per kind --------------------------------------------------------------------

def _gas(run: RunFolder, out: ObservableCollector) -> None:
    positions, momenta, forces = run.positions(), run.momenta(), run.forces()
    n = min(len(positions), len(momenta), len(forces))
    run.require_frames(n, 4, "the gas-phase analysis")
    positions, momenta, forces = positions[:n], momenta[:n], forces[:n]
    masses = run.masses()
    times = run.frame_times()[:n]
    gas = angular_summary(positions, momenta, forces, masses)
    L, tau, change, angle = gas.L, gas.torque, gas.change, gas.direction
    n_blocks = n_blocks_for(n)
    out.scalar("torque_rms", *_rms_err(np.sum(tau**2, axis=1), n_blocks))
    out.scalar("net_force_rms", *_rms_err(np.sum(forces.sum(axis=1) ** 2, axis=1), n_blocks))
    out.scalar("L0", gas.L0)
    out.scalar("L_max_change", gas.L_max_change)
    out.scalar("L_final_change", float(change[-1]))
    out.scalar("L_direction_change", gas.L_direction_change)
    # precession: the rate at which L's direction turns, from a line through the angle (deg/ps)
    if np.ptp(times) > 0:
        out.scalar("L_precession_rate", float(np.polyfit(times, angle, 1)[0]))
    out.curve("L_change", times, change)
    for axis, name in enumerate("xyz"):
        out.curve(f"L_{name}", times, L[:, axis])
    out.curve("L_direction", times, angle)
    out.curve("torque", times, np.linalg.norm(tau, axis=1))
    _frame_observables(run, out, positions, None, times)
    try:
        u = dipole_axes(positions, run.numbers())
    except BrokenMoleculesError as err:
        out.note(f"the molecule broke apart ({err}): orientational analysis skipped")
        return
    _orientation(u, out, with_map=False)


def _condensed(run: RunFolder, out: ObservableCollector, positions=None) -> None:
    """Structure, dipole correlations, orientation and dynamics of a periodic run (liquid, ice; PIMD centroids)."""
    numbers, cells = run.numbers(), run.cells()
    x = run.positions() if positions is None else positions
    n = len(x)
    run.require_frames(n, 2, "the structure analysis")
    cells = cells[:n]
    times = run.frame_times()[:n]
    n_blocks = n_blocks_for(n)
    r_max = _r_max(cells)
    if positions is None:  # PIMD computes its RDFs from all beads
        for pair in ("OO", "OH", "HH"):
            g = radial_distribution(x, numbers, cells, pair=pair, r_max=r_max, n_bins=RDF_BINS, n_blocks=n_blocks)
            out.curve(f"g_{pair}", g.r, g.g, g.g_err)
        _frame_observables(run, out, x, cells, times)
    try:
        u = dipole_axes(x, numbers, cells)
    except BrokenMoleculesError as err:
        out.note(f"molecules broke apart ({err}): dipole correlations, dynamics and orientation skipped")
        return
    d = dipole_correlations(x, numbers, cells, r_max=r_max, n_bins=DIPOLE_BINS, n_blocks=n_blocks)
    out.curve("c_L", d.r, d.c_L, d.c_L_err)
    out.curve("c_T", d.r, d.c_T, d.c_T_err)
    time_blocks = n_blocks_for(n, min_size=6, max_blocks=5)
    try:
        msd = mean_squared_displacement(x, numbers, cells, times=times, n_blocks=time_blocks)
        out.curve("msd", msd.time, msd.values, msd.errors)
        cuu = orientation_autocorrelation(u, times=times, n_blocks=time_blocks)
        out.curve("c_uu", cuu.time, cuu.values, cuu.errors)
    except ValueError as err:
        out.note(f"dynamics skipped: {err}")
    _orientation(u, out, with_map=True)


def _pimd(run: RunFolder, out: ObservableCollector) -> None:
    P = run.beads
    beads = np.stack([run.positions(b) for b in range(P)])
    forces = np.stack([run.forces(b) for b in range(P)])
    n = min(beads.shape[1], forces.shape[1])
    beads, forces = beads[:, :n], forces[:, :n]
    run.require_frames(n, 2, "the path-integral analysis")
    numbers, cells = run.numbers(), run.cells()[:n]
    n_blocks = n_blocks_for(n)
    times = None if n_blocks is None else block_means(run.frame_times()[:n], n_blocks)
    k = centroid_virial_kinetic_energy(beads, forces, numbers, run.temperature_k, cells=cells, n_blocks=n_blocks)
    for symbol, value in k.kinetic.items():
        blocks = (k.blocks or {}).get(symbol)
        out.scalar(f"kinetic_cv_{symbol}", value, (k.error or {}).get(symbol), blocks,
                   None if blocks is None else times)
    out.scalar("kinetic_classical", k.classical)
    if "kinetic_cv" in run.properties:
        kinetic_cv = run.properties["kinetic_cv"] / len(numbers)
        out.scalar("kinetic_cv_ipi", *_mean_err(kinetic_cv, n_blocks_for(len(kinetic_cv))))
    g = radius_of_gyration(beads, numbers, cells=cells, n_blocks=n_blocks)
    for symbol, value in g.rg.items():
        blocks = (g.blocks or {}).get(symbol)
        out.scalar(f"rg_{symbol}", value, (g.error or {}).get(symbol), blocks, None if blocks is None else times)
    r_max = _r_max(cells)
    for pair in ("OO", "OH", "HH"):
        rdf = radial_distribution(beads, numbers, cells, pair=pair, r_max=r_max, n_bins=RDF_BINS, n_blocks=n_blocks)
        out.curve(f"g_{pair}", rdf.r, rdf.g, rdf.g_err, y_label=f"g_{pair}(r), all beads")
    centroids = beads.mean(axis=0)
    _frame_observables(run, out, centroids, cells, run.frame_times()[:n], beads)
    _condensed(run, out, positions=centroids)


def _reference_energies(frames) -> np.ndarray:
    from ..potentials.qtip4pf import QTIP4PF

    pot = QTIP4PF()
    try:
        return np.asarray(pot.compute(frames).energies, dtype=float)
    finally:
        pot.close()


def _geop(run: RunFolder, out: ObservableCollector, reference: bool = True) -> None:
    from ..core.structure import Structure

    e = run.column("potential") / run.n_molecules
    out.scalar("energy_before", e[0])
    out.scalar("energy_after", e[-1])
    out.scalar("relaxation_energy", e[-1] - e[0])
    out.scalar("optimizer_steps", len(e) - 1)
    out.curve("energy", run.column("step"), e - e[0])
    positions, cells, numbers = run.positions(), run.cells(), run.numbers()
    out.scalar("rms_displacement", float(np.sqrt(np.mean(np.sum((positions[-1] - positions[0]) ** 2, axis=1)))))
    final_forces = run.forces()[-1]  # how far from converged the last frame is
    out.scalar("final_force_max", float(np.abs(final_forces).max()))
    out.scalar("final_force_rms", float(np.sqrt(np.mean(final_forces**2))))
    if not reference:
        return
    if run.label == "reference":  # a q-TIP4P/F relaxation: its own energies are the reference's
        ref = e[[0, -1]]
    else:
        frames = [Structure(numbers=numbers, positions=positions[t], cell=cells[t]) for t in (0, len(positions) - 1)]
        try:
            ref = _reference_energies(frames) / run.n_molecules
        except Exception as err:  # LAMMPS missing or failing: the model's energies still stand
            out.note(f"reference energies skipped: {type(err).__name__}: {err}")
            return
    out.scalar("reference_before", ref[0])
    out.scalar("reference_after", ref[1])
    out.scalar("model_error_before", e[0] - ref[0])
    out.scalar("model_error_after", e[-1] - ref[1])


def _replay(run: RunFolder, out: ObservableCollector) -> tuple[tuple[ConvergenceRow, ...], str | None]:
    """Model error vs the reference and symmetry error vs the largest grid per frame.

    Returns the convergence table (one row per strategy) and the largest grid.
    """
    props = run.properties
    n_rows = len(props["step"])
    run.require_frames(n_rows - 1, 2, "the replay analysis (after skipping the initial structure)")
    n_mol = run.n_molecules

    def forces_of(k):  # row 0 skipped like the energies; None for runs that wrote no per-component forces
        f = run.component_forces(k)
        return None if f is None or len(f) != n_rows else f[1:]

    # row 0 re-evaluates the initial structure, which repeats the first replayed frame
    # a replay whose servers did not say their strategy (not symbreak's) is labelled by its forcefield's name
    replays = {f.strategy or f.name: f for f in run.forcefields if f.role == "replay"}
    energies = {label: run.pot_component(f.component)[1:] for label, f in replays.items()}
    forces = {label: forces_of(f.component) for label, f in replays.items()}
    complete = all(f is not None for f in forces.values())
    if not complete:  # force errors need every strategy's forces
        forces = dict.fromkeys(forces)
    k_ref = run.component("reference")
    reference = None if k_ref is None else (run.pot_component(k_ref)[1:], forces_of(k_ref) if complete else None)
    errors = error_table({label: (e, forces[label]) for label, e in energies.items()}, n_mol, reference=reference)
    spreads = {}
    for label, f in replays.items():
        try:
            extras = run.extras(f.component)[1:]
        except RunError:
            continue
        spread = extras_series(extras, keys.ENERGY_SPREAD)
        fdiff = extras_series(extras, keys.FORCE_PLAIN_MINUS_AVERAGED_RMS)
        spreads[label] = (None if spread is None else number(np.mean(spread) / n_mol),
                          None if fdiff is None else number(np.sqrt(np.mean(fdiff**2))))

    def mae(errors, quantity):  # NaN (no forces) -> None
        return None if errors is None else number(getattr(errors, f"{quantity}_mae"))

    convergence = tuple(
        ConvergenceRow(r.label, r.evaluations, mae(r.model, "energy"), mae(r.model, "force"), mae(r.symmetry, "energy"),
                       mae(r.symmetry, "force"), *spreads.get(r.label, (None, None)))
        for r in errors.rows)
    largest = errors.symmetry_reference
    frames = np.arange(1, n_rows)
    for label, e in energies.items():
        if largest is not None and label != largest:
            diff = np.abs(e - energies[largest]) / n_mol
            out.curve(f"symmetry_error_{label}", frames, diff, y_label=f"|E_{label} - E_{largest}|")
            out.scalar(f"symmetry_error_{label}", *_mean_err(diff, n_blocks_for(len(diff))))
        if reference is not None:
            diff = (e - reference[0]) / n_mol
            out.curve(f"model_error_{label}", frames, diff, y_label=f"E_{label} - E_ref")
            out.scalar(f"model_error_{label}", *_mean_err(np.abs(diff), n_blocks_for(len(diff))))
    return convergence, largest


def _group(run: RunFolder) -> str:
    """Runs with the same group are comparable: same case and size (and, for relaxations, the same cell).

    An MTS case groups with the direct case it samples (liquid-mts with liquid-nvt). A
    run symbreak did not start has no size: its number of atoms stands in for it.
    """
    group = comparable_case(run.case) + (f" size {run.size}" if run.size else "")
    if run.manifest is None:
        group += f" {len(run.numbers())} atoms"
    if run.kind == "geop" and run.seed is not None:
        group += f" seed {run.seed}"
    if run.kind == "replay":
        group += f" frames {run.trajectory}"
    return group


def analyze_run(path, reference: bool = True) -> RunAnalysis:
    """``analyze_run("runs/liquid-2i")``: the observables that fit the run's case (see the module docstring).

    ``reference`` lets a geometry optimisation evaluate q-TIP4P/F (LAMMPS) on
    its first and last frames.
    """
    run = RunFolder(path)
    kind = run.kind
    out = ObservableCollector(kind)
    out.notes = run.notes  # the reader's notes (outputs cut while being written) join as they come
    if not run.finished:
        out.notes.insert(0, "the run is not finished: partial outputs")
    convergence, symmetry_grid, symmetry_reference = (), None, None
    if kind == "replay":
        convergence, symmetry_reference = _replay(run, out)
    elif kind == "geop":
        _geop(run, out, reference=reference)
    else:
        _thermo(run, out)
        _model_error(run, out)
        symmetry_grid = _symmetry_from_extras(run, out)
        {"gas": _gas, "pimd": _pimd}.get(kind, _condensed)(run, out)
    return RunAnalysis(
        run=str(run.path), case=run.case, kind=kind, label=run.label, potential=run.potential, strategy=run.strategy,
        beads=int(run.beads), finished=bool(run.finished), group=_group(run), n_molecules=int(run.n_molecules),
        frames=int(len(run.properties["step"])), timing=run.cost(),
        duration_ps=number(np.ptp(run.properties["time"])) if "time" in run.properties else None,
        observables=dict(out.scalars), curves=dict(out.curves), maps=dict(out.maps), convergence=convergence,
        symmetry_grid=symmetry_grid, symmetry_reference=symmetry_reference, notes=tuple(out.notes),
    )
