"""Model error and symmetry error of a potential under several strategies, on labelled structures.

    data = read_labelled("test.xyz")
    report = evaluate_model(potential, data, ["plain", "2i", "3i"])
    print(format_table(report)); json.dumps(report_json(report))

For each strategy (a string for :func:`symbreak.symmetry.parse_strategy`)
the wrapped potential is compared with the reference labels (model error)
and with the largest rotation grid among the strategies requested (symmetry
error: mean |E_g - E_ref| per atom, mean |f_g - f_ref| per component), by
:func:`symbreak.analysis.errors.model_and_symmetry_errors`. The
reference grid's own rotational spread (std of E(R x) over its rotations,
from the wrapper's diagnostics) is reported next to them. Units: eV, eV/A.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np

from ..analysis.errors import Errors, grid_size, largest_grid, model_and_symmetry_errors
from ..core.errors import InputError
from ..core.structure import Evaluation
from ..potentials.base import Potential
from ..symmetry import extras_keys as keys
from .data import Labelled

#: the keys of every strategy's entry in the JSON report, in order
STRATEGY_KEYS = (
    "energy_mae_per_atom",
    "energy_rmse_per_atom",
    "force_mae",
    "force_rmse",
    "symmetry_energy_mae_per_atom",
    "symmetry_force_mae",
)


def _default_parse(spec: str, potential: Potential) -> Potential:
    from ..symmetry.strategies import parse_strategy

    return parse_strategy(spec, potential)


def reference_strategy(specs: Sequence[str], sizes: Callable[[str], int | None] = grid_size) -> str | None:
    """reference_strategy(["plain", "2i", "3i"]) -> "3i": the requested grid with most rotations (first on ties)."""
    return largest_grid(specs, sizes)


def compute_all(potential: Potential, data: Sequence[Labelled], structures_per_call: int = 1) -> Evaluation:
    """evaluation = compute_all(potential, data, structures_per_call=1): every structure, a few per call."""
    structures = [d.structure for d in data]
    parts = [potential.compute(structures[k : k + structures_per_call]) for k in range(0, len(structures), structures_per_call)]
    return Evaluation.concatenate(parts)


def strategy_errors(evaluations: dict[str, Evaluation], data: Sequence[Labelled], reference: str | None) -> dict[str, dict]:
    """strategy_errors({spec: evaluation}, data, "3i"): each strategy's model errors (vs the labels) and symmetry errors.

    One call of :func:`symbreak.analysis.errors.model_and_symmetry_errors` per
    energy unit (structure, atom); the reference grid's symmetry error is 0
    (None for every strategy without a reference grid). eV, eV/A.
    """
    n_atoms = np.array([d.structure.n_atoms for d in data], dtype=float)
    runs = {spec: (e.energies, list(e.forces)) for spec, e in evaluations.items()}
    labels = (np.array([d.energy for d in data], dtype=float), [d.forces for d in data])
    per_structure = model_and_symmetry_errors(runs, 1, labels, symmetry_reference=reference, sizes=lambda spec: None)
    per_atom = model_and_symmetry_errors(runs, n_atoms, labels, symmetry_reference=reference, sizes=lambda spec: None)
    zero = Errors(0.0, 0.0, 0.0, 0.0)
    out = {}
    for spec in evaluations:
        s, a = per_structure.row(spec), per_atom.row(spec)
        entry = {"energy_mae": s.model.energy_mae, "energy_rmse": s.model.energy_rmse,
                 "energy_mae_per_atom": a.model.energy_mae, "energy_rmse_per_atom": a.model.energy_rmse,
                 "force_mae": s.model.force_mae, "force_rmse": s.model.force_rmse}
        if reference is None:
            entry.update({"symmetry_energy_mae": None, "symmetry_energy_mae_per_atom": None, "symmetry_force_mae": None})
        else:
            sym_s, sym_a = s.symmetry or zero, a.symmetry or zero  # the reference grid against itself: 0
            entry.update({"symmetry_energy_mae": sym_s.energy_mae, "symmetry_energy_mae_per_atom": sym_a.energy_mae,
                          "symmetry_force_mae": sym_s.force_mae})
        out[spec] = entry
    return out


def rotational_spread(evaluation: Evaluation, n_atoms: np.ndarray) -> dict | None:
    """spread = rotational_spread(reference_evaluation, n_atoms): mean energy spread (std over the grid) and RMS force spread.

    Read from the grid wrapper's diagnostics (``energy_spread``, ``force_spread``
    in each structure's extras); None when the wrapper does not provide them.
    """
    extras = evaluation.extras or []
    if len(extras) != len(evaluation) or not all(keys.ENERGY_SPREAD in x and keys.FORCE_SPREAD in x for x in extras):
        return None
    e = np.array([x[keys.ENERGY_SPREAD] for x in extras])
    f = np.array([x[keys.FORCE_SPREAD] for x in extras])
    return {
        "energy": float(e.mean()),
        "energy_per_atom": float(np.mean(e / n_atoms)),
        "force_rms": float(np.sqrt(np.mean(f**2))),
    }


def parse_frame_selection(text: str) -> list[int] | slice:
    """Usage: parse_frame_selection("0:40:2") -> slice(0, 40, 2); "3,7,9" -> [3, 7, 9] (Python indices)."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [int(p) if p.strip() else None for p in text.split(":")]
            if len(parts) > 3:
                raise ValueError
            return slice(*parts)
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InputError(f"--frames {text!r}: give START:STOP[:STEP] or indices such as 3,7,9") from None


def select_frames(data: Sequence[Labelled], sources: Sequence[str] | None = None,
                  frames: list[int] | slice | None = None) -> list[Labelled]:
    """Usage: select_frames(data, sources=["ice-200-classical"], frames=slice(0, 10)) -> the chosen frames.

    ``frames`` indexes the file's frames; ``sources`` then keeps the frames whose ``source`` label is one
    of them. InputError (one line) for an index past the end, an unknown source or an empty selection.
    """
    chosen = list(data)
    if frames is not None:
        if isinstance(frames, slice):
            chosen = chosen[frames]
        else:
            bad = [k for k in frames if not -len(chosen) <= k < len(chosen)]
            if bad:
                raise InputError(f"--frames: index {bad[0]} is past the {len(chosen)} frames of the data")
            chosen = [chosen[k] for k in frames]
    if sources:
        known = sorted({d.source for d in data if d.source is not None})
        unknown = [s for s in sources if s not in known]
        if unknown:
            raise InputError(f"--source {unknown[0]!r} labels no frame; the data's sources: "
                             f"{', '.join(known) if known else 'none (no source labels in the file)'}")
        chosen = [d for d in chosen if d.source in set(sources)]
    if not chosen:
        raise InputError("the selection (--source/--frames) keeps no frame")
    return chosen


def evaluate_model(
    potential: Potential,
    data: Sequence[Labelled],
    strategies: Sequence[str],
    parse: Callable[[str, Potential], Potential] = _default_parse,
    sizes: Callable[[str], int | None] = grid_size,
    structures_per_call: int = 1,
    log: Callable[[str], None] | None = None,
) -> dict:
    """report = evaluate_model(potential, data, ["plain", "2i", "3i"]): model and symmetry errors per strategy.

    ``parse(spec, potential)`` wraps the potential (default:
    :func:`symbreak.symmetry.parse_strategy`); ``sizes(spec)`` gives a
    strategy's number of grid rotations or None (picks the reference).
    The report has the JSON keys of :func:`report_json` plus
    ``reference_strategy``, ``rotational_spread`` and per-structure energy errors.
    """
    strategies = list(dict.fromkeys(strategies))
    if not strategies:
        raise InputError("no strategies given: use e.g. --strategies plain,2i,3i")
    if not data:
        raise InputError("no structures to evaluate")
    ref_spec = reference_strategy(strategies, sizes)
    n_atoms = np.array([d.structure.n_atoms for d in data], dtype=float)
    wrapped = {spec: parse(spec, potential) for spec in strategies}  # parse all first: errors before any work

    evaluations, seconds = {}, {}
    for spec in strategies:
        t0 = time.perf_counter()
        evaluations[spec] = compute_all(wrapped[spec], data, structures_per_call)
        seconds[spec] = time.perf_counter() - t0
        if log:
            log(f"{spec}: {len(data)} structures in {seconds[spec]:.1f} s")

    reference = evaluations.get(ref_spec)
    results = strategy_errors(evaluations, data, ref_spec)
    for spec in strategies:
        results[spec]["seconds"] = seconds[spec]

    forces = np.concatenate([d.forces.ravel() for d in data])
    return {
        "n_structures": len(data),
        "n_atoms_mean": float(n_atoms.mean()),
        "reference_force_std": float(np.std(forces)),
        "reference_strategy": ref_spec,
        "rotational_spread": None if reference is None else rotational_spread(reference, n_atoms),
        "strategies": results,
    }


def angular_orders(potential: Potential, data: Sequence[Labelled], l_max: int = 2) -> dict:
    """orders = angular_orders(potential, data, l_max=2): which angular orders carry the plain model's symmetry error.

    Evaluates every structure on the ``{l_max + 1}i`` grid (it resolves orders
    up to l_max; 3i: 150 rotations for l <= 2) and splits the rotational
    variance of the energy per atom and of the back-rotated forces by order l
    (:func:`symbreak.symmetry.angular_orders.angular_power`), summed over the
    structures. Returns {"grid", "l_max", "energy": {...}, "force": {...}}, each
    with ``shares`` (per l, of the variance), ``odd`` (parity-odd part per l),
    ``unresolved`` (orders above l_max) and ``variance`` (eV^2 per atom^2, eV^2/A^2
    summed over components).
    """
    from ..symmetry.angular_orders import angular_power
    from ..symmetry.strategies import GridAverageStrategy, parse_strategy_spec

    if l_max < 1:
        raise InputError(f"--orders must be >= 1 (the largest angular order to resolve), got {l_max}")
    grid = f"{l_max + 1}i"
    strategy = GridAverageStrategy(potential, parse_strategy_spec(grid), diagnostics=False)
    sums = {q: {"power": np.zeros(l_max + 1), "odd": np.zeros(l_max + 1), "variance": 0.0, "unresolved": 0.0}
            for q in ("energy", "force")}
    for d in data:
        _, _, grids = strategy.compute_with_plain([d.structure], need_plain=False)
        energies, forces, _ = grids[0]
        for quantity, values in (("energy", np.asarray(energies) / d.structure.n_atoms), ("force", np.asarray(forces))):
            power = angular_power(values, strategy.quadrature, l_max)
            total = sums[quantity]
            total["power"] += power.power
            total["odd"] += power.power_odd
            total["variance"] += power.variance
            total["unresolved"] += power.unresolved
    out = {"grid": grid, "l_max": l_max}
    for quantity, total in sums.items():
        variance = total["variance"]
        scale = 1.0 / variance if variance > 0 else 0.0  # an invariant model: no variance, every share 0
        out[quantity] = {"shares": [float(x * scale) for x in total["power"]], "odd": [float(x * scale) for x in total["odd"]],
                         "unresolved": float(total["unresolved"] * scale), "variance": float(variance / len(data))}
    return out


def format_orders(orders: dict) -> str:
    """format_orders(angular_orders(...)) -> two lines: the share of the rotational variance in each order l."""
    lines = [f"symmetry error of plain by angular order (share of the rotational variance over {orders['grid']}; "
             f"l = 0 is the parity-odd part):"]
    for quantity in ("energy", "force"):
        q = orders[quantity]
        parts = [f"l={l} {100 * s:.1f} %" + (f" (odd {100 * o:.1f} %)" if l > 0 else "")
                 for l, (s, o) in enumerate(zip(q["shares"], q["odd"]))]
        lines.append(f"  {quantity:<7}" + ", ".join(parts) + f", above l={orders['l_max']} {100 * q['unresolved']:.1f} %")
    return "\n".join(lines)


def report_json(report: dict) -> dict:
    """The --json document: {"n_structures", "reference_force_std", "strategies": {spec: {STRATEGY_KEYS}}}."""
    return {
        "n_structures": report["n_structures"],
        "reference_force_std": report["reference_force_std"],
        "strategies": {spec: {k: entry[k] for k in STRATEGY_KEYS} for spec, entry in report["strategies"].items()},
    }


def _milli(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{1000 * value:.3f}"


def format_table(report: dict) -> str:
    """format_table(report) -> a readable table in meV and meV/A."""
    ref = report["reference_strategy"]
    lines = [
        f"{report['n_structures']} structures, {report['n_atoms_mean']:.0f} atoms on average; "
        f"reference force std {1000 * report['reference_force_std']:.1f} meV/A; "
        f"symmetry error against {ref if ref else '(no rotation grid requested)'}",
        "",
        f"{'strategy':<14}{'E MAE':>10}{'E RMSE':>10}{'E MAE':>10}{'F MAE':>10}{'F RMSE':>10}{'sym E':>10}{'sym E':>10}{'sym F':>10}{'time':>8}",
        f"{'':<14}{'meV/atom':>10}{'meV/atom':>10}{'meV':>10}{'meV/A':>10}{'meV/A':>10}{'meV/atom':>10}{'meV':>10}{'meV/A':>10}{'s':>8}",
    ]
    for spec, e in report["strategies"].items():
        lines.append(
            f"{spec:<14}{_milli(e['energy_mae_per_atom']):>10}{_milli(e['energy_rmse_per_atom']):>10}{_milli(e['energy_mae']):>10}"
            f"{_milli(e['force_mae']):>10}{_milli(e['force_rmse']):>10}{_milli(e['symmetry_energy_mae_per_atom']):>10}"
            f"{_milli(e['symmetry_energy_mae']):>10}{_milli(e['symmetry_force_mae']):>10}{e['seconds']:>8.1f}"
        )
    spread = report.get("rotational_spread")
    if spread:
        lines += [
            "",
            f"rotational spread over {ref}: energy {_milli(spread['energy'])} meV "
            f"({_milli(spread['energy_per_atom'])} meV/atom), force RMS {_milli(spread['force_rms'])} meV/A",
        ]
    return "\n".join(lines)
