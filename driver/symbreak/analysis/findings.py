"""The sentences a report opens with, computed from typed results: what the broken symmetry did.

    lines = findings(results, comparisons)
    # ["In vacuum the plain model turns L by 87 deg in 0.5 ps (|L - L0| up to 3.4 hbar); 2i reduces the drift 10^4-fold.",
    #  "In the liquid (liquid-nvt size 32) no observable differs beyond error bars between plain and 2i.", ...]

Each sentence states a number and what it is compared with; a part without
the runs it needs says nothing. Pure functions of RunAnalysis and Comparison.
"""

from __future__ import annotations

import math

from .results import Comparison, RunAnalysis

#: how each kind is named in a sentence
PLACES = {"gas": "In vacuum", "liquid": "In the liquid", "ice": "In ice", "pimd": "In the path-integral liquid"}


def fold(ratio: float) -> str:
    """``fold(12000.0)`` -> "10^4-fold"; ``fold(3.2)`` -> "3.2-fold": a reduction factor in words."""
    if ratio >= 100:
        return f"10^{round(math.log10(ratio))}-fold"
    return f"{ratio:.2g}-fold"


def sig(value: float, digits: int = 2) -> str:
    """``sig(674.9)`` -> "675", ``sig(0.0123)`` -> "0.012": ``digits`` significant digits, integers in full."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if 1e-3 <= abs(value) < 1e6:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
        text = f"{round(value, decimals):.{decimals}f}"
        return text.rstrip("0").rstrip(".") if decimals else text
    return f"{value:.{digits}g}"


def _is_grid(label: str) -> bool:
    return label not in ("plain", "reference") and not label.startswith(("random", "mts:"))


def gas_finding(results: list[RunAnalysis]) -> str | None:
    """How far the plain model turns L in vacuum, and how much each grid reduces the drift (gas-nve runs)."""
    gas = [r for r in results if r.case == "gas-nve"]
    plain = next((r for r in gas if r.label == "plain"), None)
    if plain is None or plain.value("L_direction_change") is None:
        return None
    duration = f" in {sig(plain.duration_ps)} ps" if plain.duration_ps else ""
    text = (f"In vacuum the plain model turns L by {sig(plain.value('L_direction_change'))} deg{duration} "
            f"(|L - L0| up to {sig(plain.value('L_max_change'))} hbar)")
    reductions = []
    for r in gas:
        change, base = r.value("L_max_change"), plain.value("L_max_change")
        if not _is_grid(r.label) or change is None or not base:
            continue
        if change <= 0:
            reductions.append(f"{r.label} removes the drift to the output precision")
        elif change < base:
            reductions.append(f"{r.label} reduces the drift {fold(base / change)}")
        else:
            reductions.append(f"{r.label} does not reduce it")
    return text + ("; " + ", ".join(reductions) if reductions else "") + "."


def model_error_finding(results: list[RunAnalysis]) -> str | None:
    """The plain model's energy error in vacuum as an offset and a fluctuation along its trajectory."""
    plain = next((r for r in results if r.case == "gas-nve" and r.label == "plain"), None)
    if plain is None or plain.value("model_error_mean") is None:
        return None
    offset, spread = plain.value("model_error_mean", 1e3), plain.value("model_error_std", 1e3)
    return (f"Against q-TIP4P/F the plain model's energy of the molecule is offset by {sig(offset, 3)} meV and "
            f"fluctuates by {sig(spread)} meV along the trajectory (mean and std of V_model - V_ref): the offset "
            f"exerts no force, the fluctuation does.")


def _model_pairs(comparison: Comparison) -> list[str]:
    return [p for p in comparison.pairs if "reference" not in p]


def integrator_note(pairs: list[str], differing: list[str]) -> str:
    """What a difference between a direct run and an MTS run measures ("" when no pair mixes the two)."""
    mixed = [p for p in pairs if sum(side.startswith("mts:") for side in p.split("|")) == 1]
    if not mixed or not differing:
        return ""
    note = (f" ({' and '.join(mixed[0].split('|'))} differ in the integrator as well as in the symmetry treatment "
            "(direct against multiple time stepping), so these differences measure both")
    conserved = [name for name in differing if name.startswith("conserved")]
    if conserved:
        note += f"; {', '.join(conserved)} measure{'s' if len(conserved) == 1 else ''} the integrator alone"
    return note + ")"


def comparison_finding(comparison: Comparison, kind: str) -> str | None:
    """Whether any judged observable differs beyond error bars between the model's strategies (and the reference)."""
    place = PLACES.get(kind)
    if place is None or not comparison.observables:
        return None
    pairs = _model_pairs(comparison)
    where = f"{place} ({comparison.group})"
    parts = []
    if pairs:
        differing = [o.name for o in comparison.observables.values()
                     if any(o.verdicts[p].verdict == "different" for p in pairs if p in o.verdicts)]
        between = " and ".join(pairs[0].split("|")) if len(pairs) == 1 else ", ".join(pairs)
        if differing:
            parts.append(f"{', '.join(differing)} differ{'s' if len(differing) == 1 else ''} beyond error bars "
                         f"between {between} (of {len(comparison.observables)} judged)" + integrator_note(pairs, differing))
        else:
            parts.append(f"no observable differs beyond error bars between {between} "
                         f"({len(comparison.observables)} judged)")
    ref_pairs = [p for p in comparison.pairs if "reference" in p]
    for p in ref_pairs[:1]:
        n = sum(1 for o in comparison.observables.values() if p in o.verdicts and o.verdicts[p].verdict == "different")
        other = p.replace("reference", "").strip("|")
        parts.append(f"{other} differs from q-TIP4P/F in {n} of {len(comparison.observables)} (the model error)")
    return f"{where} " + "; ".join(parts) + "." if parts else None


def replay_finding(results: list[RunAnalysis]) -> str | None:
    """On replayed frames: the plain model's symmetry error next to its model error, and what the grids leave."""
    replay = next((r for r in results if r.kind == "replay" and r.convergence), None)
    if replay is None:
        return None
    rows = {row.strategy: row for row in replay.convergence}
    plain = rows.get("plain")
    if plain is None or plain.symmetry_energy_mae is None:
        return None
    text = (f"On {replay.frames - 1} replayed frames the plain model's symmetry error is "
            f"{sig(1e3 * plain.symmetry_energy_mae)} meV/H2O (against {replay.symmetry_reference})")
    if plain.model_energy_mae:
        ratio = plain.model_energy_mae / plain.symmetry_energy_mae
        model = f"{sig(1e3 * plain.model_energy_mae)} meV/H2O"
        text += f"; its model error ({model}) is {fold(ratio)} larger" if ratio > 1 else f", above its model error ({model})"
    grid = rows.get("2i")
    if grid is not None and grid.symmetry_energy_mae is not None:
        text += f"; 2i leaves {sig(1e3 * grid.symmetry_energy_mae)} meV/H2O"
    return text + "."


def findings(results: list[RunAnalysis], comparisons: list[Comparison]) -> list[str]:
    """``findings(results, comparisons)``: the opening sentences, vacuum first, then each compared group, the replay."""
    kinds = {r.group: r.kind for r in results}
    lines = [gas_finding(results), model_error_finding(results)]
    lines += [comparison_finding(c, kinds.get(c.group, "")) for c in comparisons if kinds.get(c.group) != "gas"]
    lines.append(replay_finding(results))
    return [line for line in lines if line]
