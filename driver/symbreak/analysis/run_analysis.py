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
means (consecutive blocks of frames; None where the run is too short). The
helpers below fill a private dict; :func:`_freeze` turns it into the result.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..campaign.cases import comparable_case
from .angular import angular_summary
from .blocks import block_average, block_means
from .dynamics import mean_squared_displacement, orientation_autocorrelation, power_spectrum
from .energy import conserved_drift
from .errors import error_table
from .molecules import BrokenMoleculesError, dipole_axes
from .orientation import anisotropy, orientational_free_energy
from .pimd import centroid_virial_kinetic_energy, radius_of_gyration
from .rdf import dipole_correlations, radial_distribution
from .results import ConvergenceRow, Map, Observable, RunAnalysis, Timing, curve, number, numbers
from .run_folder import RunError, RunFolder, extras_series

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


def _scalar(value, error=None, unit: str = "", blocks=None, block_times=None) -> Observable:
    """An Observable (named by _freeze); with the per-block values and their mean times when given."""
    paired = dict(blocks=numbers(blocks), block_times=numbers(block_times)) if blocks is not None else {}
    return Observable("", number(value), number(error), unit, **paired)


def _curve(x, y, err=None, xlabel: str = "", ylabel: str = ""):
    return curve("", x, y, err, xlabel, ylabel)  # named by _freeze


_num = number


def _r_max(cells: np.ndarray) -> float:
    """R_MAX, or less: half the smallest perpendicular width of any frame's cell (minimum image stays valid)."""
    return float(min(R_MAX, 0.5 * np.min(1.0 / np.linalg.norm(np.linalg.inv(cells), axis=-1))))


def _mean_err(series, n_blocks) -> tuple[float, float | None]:
    series = np.asarray(series, dtype=float)
    if n_blocks is None:
        return float(series.mean()), None
    m, e = block_average(series, n_blocks)
    return float(m), float(e)


def _block_scalar(series, n_blocks, unit: str, times) -> Observable:
    """The block mean of a series with its error, its block values and their mean times (for paired comparisons)."""
    series = np.asarray(series, dtype=float)
    if n_blocks is None:
        return _scalar(series.mean(), None, unit)
    m, e = block_average(series, n_blocks)
    return _scalar(m, e, unit, block_means(series, n_blocks), block_means(times, n_blocks))


def _rms_err(squares, n_blocks) -> tuple[float, float | None]:
    """Root of a block-averaged mean square, its error propagated to the root."""
    m, e = _mean_err(squares, n_blocks)
    root = math.sqrt(max(m, 0.0))
    return root, (None if e is None else (e / (2 * root) if root > 0 else e))


# --- parts shared by several kinds ------------------------------------------------------------

def _thermo(run: RunFolder, out: dict) -> None:
    """Conserved-quantity drift, temperature, potential per molecule (and volume in NPT)."""
    props = run.properties
    n_mol = run.n_molecules
    rows = len(props["step"])
    n_blocks = n_blocks_for(rows)
    if "time" in props and "conserved" in props and rows >= 6:
        try:
            d = conserved_drift(props["time"], props["conserved"], n_mol, n_blocks=max(3, min(10, rows // 2)))
            out["scalars"]["conserved_drift"] = _scalar(d["drift"], d["drift_err"], "eV/H2O/ps")
            out["scalars"]["conserved_fluctuation"] = _scalar(d["fluctuation"], None, "eV/H2O")
            out["curves"]["conserved"] = _curve(props["time"], (props["conserved"] - props["conserved"][0]) / n_mol,
                                                None, "time / ps", "conserved - initial / eV/H2O")
        except ValueError as err:
            out["notes"].append(f"conserved drift skipped: {err}")
    times = props["time"] if "time" in props else np.arange(rows, dtype=float)
    for name, unit in (("temperature", "K"), ("potential", "eV/H2O"), ("volume", "A^3/H2O"), ("pressure_md", "bar")):
        if name in props:
            values = props[name] / (n_mol if unit.endswith("/H2O") else 1)
            out["scalars"][name] = _block_scalar(values, n_blocks, unit, times)


def _model_error(run: RunFolder, out: dict, skip_first: bool = False) -> None:
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
    out["scalars"]["model_error_mae"] = _block_scalar(np.abs(diff), n_blocks, "eV/H2O", time)
    out["scalars"]["model_error_mean"] = _block_scalar(diff, n_blocks, "eV/H2O", time)
    out["scalars"]["model_error_std"] = _scalar(float(diff.std()), None, "eV/H2O")
    out["curves"]["model_error"] = _curve(time, diff, None, "time / ps", "V_model - V_ref / eV/H2O")


def _symbreak_components(run: RunFolder) -> list[int]:
    return [f.component for f in run.forcefields if f.role != "reference"]


def _symmetry_from_extras(run: RunFolder, out: dict) -> None:
    """|E_plain - E_avg| per molecule from the extras of a grid strategy, and the power spectra of V_plain and Delta."""
    for k in _symbreak_components(run):
        try:
            extras = run.extras(k)
        except RunError:
            continue
        plain = extras_series(extras, "energy_plain")
        averaged = extras_series(extras, "energy_averaged")
        if plain is None or averaged is None:
            continue
        delta = averaged - plain
        n_blocks = n_blocks_for(len(delta))
        per_mol = np.abs(delta) / run.n_molecules
        out["scalars"]["symmetry_error_extras"] = _scalar(*_mean_err(per_mol, n_blocks), "eV/H2O")
        out["symmetry_grid"] = extras[0].get("strategy", ["?"])[0]
        spread = extras_series(extras, "energy_spread")
        if spread is not None:
            out["scalars"]["energy_spread"] = _scalar(*_mean_err(spread / run.n_molecules, n_blocks), "eV/H2O")
        fdiff = extras_series(extras, "force_plain_minus_averaged_rms")
        if fdiff is not None:
            out["scalars"]["force_symmetry_error_rms"] = _scalar(*_rms_err(fdiff**2, n_blocks), "eV/A")
        _spectra(run, out, plain, delta)
        return


def _spectra(run: RunFolder, out: dict, plain: np.ndarray, delta: np.ndarray) -> None:
    stride = run.extras_stride
    if stride != 1:
        out["notes"].append(f"power spectra skipped: extras are written every {stride} steps, the spectra need stride 1")
        return
    n = len(plain)
    if n < MIN_SPECTRUM_FRAMES:
        out["notes"].append(f"power spectra skipped: {n} frames, need {MIN_SPECTRUM_FRAMES}")
        return
    times = np.arange(n) * run.timestep_fs * 1e-3  # one extras frame per (outer) step
    segments = max(1, min(8, int(2 * n / 64) - 1))
    for name, series in (("spectrum_V_plain", plain), ("spectrum_delta", delta)):
        s = power_spectrum(times, series / run.n_molecules, n_segments=segments)
        out["curves"][name] = _curve(s["frequency"], s["spectrum"], None, "frequency / cm^-1", "power / (eV/H2O)^2 cm")
    f = np.array(out["curves"]["spectrum_delta"].x, dtype=float)
    p = np.array(out["curves"]["spectrum_delta"].y, dtype=float)
    out["scalars"]["nyquist"] = _scalar(float(f[-1]), None, "cm^-1")
    # the share of the variance of Delta above 2000 cm^-1: small when the symmetry error is slow (MTS works)
    total = float(np.trapezoid(p, f)) if len(f) > 1 else 0.0
    if total > 0:
        out["scalars"]["delta_power_above_2000"] = _scalar(float(np.trapezoid(p[f >= 2000], f[f >= 2000])) / total, None, "fraction")


def _orientation(u: np.ndarray, out: dict, with_map: bool) -> None:
    n_frames = len(u)
    n_blocks = n_blocks_for(n_frames, min_blocks=6)
    if n_blocks is None:
        out["notes"].append(f"orientational free energy skipped: {n_frames} frames, need 12")
        return
    an = anisotropy(u, l_max=4, n_blocks=n_blocks)
    out["scalars"]["anisotropy"] = _scalar(an["A"], an["A_err"], "")
    out["scalars"]["anisotropy_noise"] = _scalar(an["A_noise"], None, "")
    out["scalars"]["anisotropy_z"] = _scalar(an["z"], None, "sigma")
    fe = orientational_free_energy(u, n_blocks=n_blocks, n_cos=20, n_phi=40)
    out["curves"]["F_cos"] = _curve(fe["cos_theta"], fe["F_cos"], fe["F_cos_err"], "cos theta", "F(cos theta) / kT")
    if with_map:
        out["maps"]["F"] = Map("F", numbers(fe["phi"]), numbers(fe["cos_theta"]), tuple(numbers(row) for row in fe["F"]),
                               "phi / rad", "cos theta")


# --- one function per kind --------------------------------------------------------------------

def _gas(run: RunFolder, out: dict) -> None:
    positions, momenta, forces = run.positions(), run.momenta(), run.forces()
    n = min(len(positions), len(momenta), len(forces))
    run.require_frames(n, 4, "the gas-phase analysis")
    positions, momenta, forces = positions[:n], momenta[:n], forces[:n]
    masses = run.masses()
    times = run.frame_times()[:n]
    gas = angular_summary(positions, momenta, forces, masses)
    L, tau, change, angle = gas.L, gas.torque, gas.change, gas.direction
    n_blocks = n_blocks_for(n)
    s = out["scalars"]
    s["torque_rms"] = _scalar(*_rms_err(np.sum(tau**2, axis=1), n_blocks), "eV")
    s["net_force_rms"] = _scalar(*_rms_err(np.sum(forces.sum(axis=1) ** 2, axis=1), n_blocks), "eV/A")
    s["L0"] = _scalar(gas.L0, None, "hbar")
    s["L_max_change"] = _scalar(gas.L_max_change, None, "hbar")
    s["L_final_change"] = _scalar(float(change[-1]), None, "hbar")
    s["L_direction_change"] = _scalar(gas.L_direction_change, None, "deg")
    # precession: the rate at which L's direction turns, from a line through the angle (deg/ps)
    if np.ptp(times) > 0:
        s["L_precession_rate"] = _scalar(float(np.polyfit(times, angle, 1)[0]), None, "deg/ps")
    c = out["curves"]
    c["L_change"] = _curve(times, change, None, "time / ps", "|L(t) - L(0)| / hbar")
    for axis, name in enumerate("xyz"):
        c[f"L_{name}"] = _curve(times, L[:, axis], None, "time / ps", f"L_{name} / hbar")
    c["L_direction"] = _curve(times, angle, None, "time / ps", "angle of L to L(0) / deg")
    c["torque"] = _curve(times, np.linalg.norm(tau, axis=1), None, "time / ps", "|torque| / eV")
    try:
        u = dipole_axes(positions, run.numbers())
    except BrokenMoleculesError as err:
        out["notes"].append(f"the molecule broke apart ({err}): orientational analysis skipped")
        return
    _orientation(u, out, with_map=False)


def _condensed(run: RunFolder, out: dict, positions=None) -> None:
    """Structure, dipole correlations, orientation and dynamics of a periodic run (liquid, ice; PIMD centroids)."""
    numbers, cells = run.numbers(), run.cells()
    x = run.positions() if positions is None else positions
    n = len(x)
    run.require_frames(n, 2, "the structure analysis")
    cells = cells[:n]
    times = run.frame_times()[:n]
    n_blocks = n_blocks_for(n)
    r_max = _r_max(cells)
    c = out["curves"]
    if positions is None:  # PIMD computes its RDFs from all beads
        for pair in ("OO", "OH", "HH"):
            g = radial_distribution(x, numbers, cells, pair=pair, r_max=r_max, n_bins=RDF_BINS, n_blocks=n_blocks)
            c[f"g_{pair}"] = _curve(g["r"], g["g"], g.get("g_err"), "r / A", f"g_{pair}(r)")
    try:
        u = dipole_axes(x, numbers, cells)
    except BrokenMoleculesError as err:
        out["notes"].append(f"molecules broke apart ({err}): dipole correlations, dynamics and orientation skipped")
        return
    d = dipole_correlations(x, numbers, cells, r_max=r_max, n_bins=DIPOLE_BINS, n_blocks=n_blocks)
    c["c_L"] = _curve(d["r"], d["c_L"], d.get("c_L_err"), "r / A", "c_L(r)")
    c["c_T"] = _curve(d["r"], d["c_T"], d.get("c_T_err"), "r / A", "c_T(r)")
    time_blocks = n_blocks_for(n, min_size=6, max_blocks=5)
    try:
        msd = mean_squared_displacement(x, numbers, cells, times=times, n_blocks=time_blocks)
        c["msd"] = _curve(msd["time"], msd["msd"], msd.get("msd_err"), "time / ps", "MSD of O / A^2")
        cuu = orientation_autocorrelation(u, times=times, n_blocks=time_blocks)
        c["c_uu"] = _curve(cuu["time"], cuu["c"], cuu.get("c_err"), "time / ps", "c_uu(t)")
    except ValueError as err:
        out["notes"].append(f"dynamics skipped: {err}")
    _orientation(u, out, with_map=True)


def _pimd(run: RunFolder, out: dict) -> None:
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
    for symbol, value in k["kinetic"].items():
        out["scalars"][f"kinetic_cv_{symbol}"] = _scalar(value, k.get("kinetic_err", {}).get(symbol), "eV/atom",
                                                         k.get("kinetic_blocks", {}).get(symbol), times)
    out["scalars"]["kinetic_classical"] = _scalar(k["classical"], None, "eV/atom")
    if "kinetic_cv" in run.properties:
        out["scalars"]["kinetic_cv_ipi"] = _scalar(*_mean_err(run.properties["kinetic_cv"] / len(numbers), n_blocks_for(len(run.properties["kinetic_cv"]))), "eV/atom")
    g = radius_of_gyration(beads, numbers, cells=cells, n_blocks=n_blocks)
    for symbol, value in g["rg"].items():
        out["scalars"][f"rg_{symbol}"] = _scalar(value, g.get("rg_err", {}).get(symbol), "A",
                                                 g.get("rg_blocks", {}).get(symbol), times)
    r_max = _r_max(cells)
    for pair in ("OO", "OH", "HH"):
        rdf = radial_distribution(beads, numbers, cells, pair=pair, r_max=r_max, n_bins=RDF_BINS, n_blocks=n_blocks)
        out["curves"][f"g_{pair}"] = _curve(rdf["r"], rdf["g"], rdf.get("g_err"), "r / A", f"g_{pair}(r), all beads")
    _condensed(run, out, positions=beads.mean(axis=0))


def _reference_energies(frames) -> np.ndarray:
    from ..potentials.qtip4pf import QTIP4PF

    pot = QTIP4PF()
    try:
        return np.asarray(pot.compute(frames).energies, dtype=float)
    finally:
        pot.close()


def _geop(run: RunFolder, out: dict, reference: bool = True) -> None:
    from ..core.structure import Structure

    e = run.column("potential") / run.n_molecules
    s = out["scalars"]
    s["energy_before"] = _scalar(e[0], None, "eV/H2O")
    s["energy_after"] = _scalar(e[-1], None, "eV/H2O")
    s["relaxation_energy"] = _scalar(e[-1] - e[0], None, "eV/H2O")
    s["optimizer_steps"] = _scalar(len(e) - 1, None, "steps")
    out["curves"]["energy"] = _curve(run.column("step"), e - e[0], None, "optimizer step", "E - E(0) / eV/H2O")
    positions, cells, numbers = run.positions(), run.cells(), run.numbers()
    s["rms_displacement"] = _scalar(float(np.sqrt(np.mean(np.sum((positions[-1] - positions[0]) ** 2, axis=1)))), None, "A")
    final_forces = run.forces()[-1]  # how far from converged the last frame is
    s["final_force_max"] = _scalar(float(np.abs(final_forces).max()), None, "eV/A")
    s["final_force_rms"] = _scalar(float(np.sqrt(np.mean(final_forces**2))), None, "eV/A")
    if not reference:
        return
    if run.label == "reference":  # a q-TIP4P/F relaxation: its own energies are the reference's
        ref = e[[0, -1]]
    else:
        frames = [Structure(numbers=numbers, positions=positions[t], cell=cells[t]) for t in (0, len(positions) - 1)]
        try:
            ref = _reference_energies(frames) / run.n_molecules
        except Exception as err:  # LAMMPS missing or failing: the model's energies still stand
            out["notes"].append(f"reference energies skipped: {type(err).__name__}: {err}")
            return
    s["reference_before"] = _scalar(ref[0], None, "eV/H2O")
    s["reference_after"] = _scalar(ref[1], None, "eV/H2O")
    s["model_error_before"] = _scalar(e[0] - ref[0], None, "eV/H2O")
    s["model_error_after"] = _scalar(e[-1] - ref[1], None, "eV/H2O")


def _replay(run: RunFolder, out: dict) -> None:
    """Model error vs the reference and symmetry error vs the largest grid per frame; the convergence table."""
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
        spread = extras_series(extras, "energy_spread")
        fdiff = extras_series(extras, "force_plain_minus_averaged_rms")
        spreads[label] = (None if spread is None else _num(np.mean(spread) / n_mol),
                                  None if fdiff is None else _num(np.sqrt(np.mean(fdiff**2))))

    def mae(errors, quantity):  # NaN (no forces) -> None
        return None if errors is None else _num(getattr(errors, f"{quantity}_mae"))

    out["convergence"] = tuple(
        ConvergenceRow(r.label, r.evaluations, mae(r.model, "energy"), mae(r.model, "force"), mae(r.symmetry, "energy"),
                       mae(r.symmetry, "force"), *spreads.get(r.label, (None, None)))
        for r in errors.rows)
    largest = errors.symmetry_reference
    out["symmetry_reference"] = largest
    frames = np.arange(1, n_rows)
    for label, e in energies.items():
        if largest is not None and label != largest:
            diff = np.abs(e - energies[largest]) / n_mol
            out["curves"][f"symmetry_error_{label}"] = _curve(frames, diff, None, "frame", f"|E_{label} - E_{largest}| / eV/H2O")
            out["scalars"][f"symmetry_error_{label}"] = _scalar(*_mean_err(diff, n_blocks_for(len(diff))), "eV/H2O")
        if reference is not None:
            diff = (e - reference[0]) / n_mol
            out["curves"][f"model_error_{label}"] = _curve(frames, diff, None, "frame", f"E_{label} - E_ref / eV/H2O")
            out["scalars"][f"model_error_{label}"] = _scalar(*_mean_err(np.abs(diff), n_blocks_for(len(diff))), "eV/H2O")


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
    config = {"potential": run.potential, "strategy": run.strategy}
    out = {
        "run": str(run.path),
        "case": run.case,
        "kind": run.kind,
        "label": run.label,
        "potential": config.get("potential"),
        "strategy": config.get("strategy"),
        "beads": run.beads,
        "finished": run.finished,
        "group": _group(run),
        "n_molecules": run.n_molecules,
        "frames": int(len(run.properties["step"])),
        "cost": {k: _num(v) for k, v in run.cost().items()},
        "scalars": {},
        "curves": {},
        "maps": {},
        "notes": run.notes,  # the reader's notes (outputs cut while being written) join as they come
    }
    if not run.finished:
        run.notes.insert(0, "the run is not finished: partial outputs")
    if "time" in run.properties:
        out["duration_ps"] = _num(np.ptp(run.properties["time"]))
    kind = run.kind
    if kind == "replay":
        _replay(run, out)
        return _freeze(out)
    if kind == "geop":
        _geop(run, out, reference=reference)
        return _freeze(out)
    _thermo(run, out)
    _model_error(run, out)
    _symmetry_from_extras(run, out)
    if kind == "gas":
        _gas(run, out)
    elif kind == "pimd":
        _pimd(run, out)
    else:
        _condensed(run, out)
    return _freeze(out)


def _freeze(out: dict) -> RunAnalysis:
    """The RunAnalysis of the dict the helpers filled (observables and curves named by their keys)."""
    cost = out["cost"]
    return RunAnalysis(
        run=out["run"], case=out["case"], kind=out["kind"], label=out["label"], potential=out["potential"],
        strategy=out["strategy"], beads=int(out["beads"]), finished=bool(out["finished"]), group=out["group"],
        n_molecules=int(out["n_molecules"]), frames=int(out["frames"]),
        timing=Timing(cost.get("wall_seconds"), int(cost.get("steps") or 0), cost.get("ms_per_step")),
        duration_ps=out.get("duration_ps"),
        observables={k: replace(v, name=k) for k, v in out["scalars"].items()},
        curves={k: replace(v, name=k) for k, v in out["curves"].items()},
        maps=dict(out["maps"]), convergence=tuple(out.get("convergence", ())),
        symmetry_grid=out.get("symmetry_grid"), symmetry_reference=out.get("symmetry_reference"),
        notes=tuple(out["notes"]),
    )
