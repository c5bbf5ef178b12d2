"""The study's report: opening sentences, then each part's key figure beside its table; and the same as text.

    lines = study_findings(summary)                       # the sentences the report and summary.txt open with
    write_study_report("study/report.html", summary, figures, intro)
    print(summary_text(summary))                          # summary.txt

Numbers come from the typed :class:`~symbreak.study.summary.StudySummary`;
energies are shown in meV per molecule, forces in meV/A, torques in meV;
centroid-virial kinetic energies in meV per atom, radii of gyration in A.
"""

from __future__ import annotations

from pathlib import Path

from ..analysis.figures import safe_name
from ..analysis.findings import findings, sig
from ..analysis.report import VERDICT_CLASS, Section, Table, not_judged_line, verdict_table, write_report
from ..analysis.observables import observable_spec
from ..analysis.results import Observable
from .frontier_report import frontier_figure_name, frontier_finding, frontier_section, frontier_text
from ..analysis.polymorphs import PolymorphComparison, kendall_tau
from ..audit.report import crystal_verdict
from .plan import GRID
from .polymorph_part import PolymorphSummary
from .summary import ICE_POTENTIALS, PIMD_OBSERVABLES, PimdGroup, PimdRow, PimdVerdict, StudySummary

#: which part each comparison group belongs to, by the kind of its runs
PART_OF_KIND = {"gas": "gas", "liquid": "liquid", "pimd": "pimd", "ice": "ice"}
PART_TITLES = {"gas": "Gas phase: one H2O in vacuum", "liquid": "Liquid water", "ice": "Ice Ih (NVT)",
               "replay": "Replay of liquid frames: convergence with the grid", "geop": "Ice relaxations: relative energies",
               "pimd": "Path-integral liquid water", "polymorphs": "Ice polymorphs: energies relative to Ih",
               "crystal": "Crystal symmetry under relaxation: ordered ice XI and II"}
#: the order of the report's sections
SECTION_ORDER = ("gas", "liquid", "pimd", "ice", "replay", "geop", "polymorphs", "crystal")
#: the polymorph figure's file name in the study folder
POLYMORPH_FIGURE = "ice_polymorphs.png"
#: the crystal part's figure
CRYSTAL_FIGURE = "crystal_symmetry.png"
#: how the quantum observables are shown: scale from the analysis' unit, and the unit shown
PIMD_UNITS = {name: (observable_spec("scalar", name).scale, observable_spec("scalar", name).shown_units)
              for name in PIMD_OBSERVABLES}


def _milli(value: float | None) -> float | None:
    return None if value is None else 1e3 * value


def _pm(o: Observable | None, scale: float = 1e3) -> str:
    if o is None or o.value is None:
        return "-"
    return sig(scale * o.value, 4) + ("" if o.error is None else f" ± {sig(scale * o.error)}")


def ice_finding(summary: StudySummary) -> str | None:
    """The symmetry error of relative ice energies against the reference's spread, and whether the ordering survives."""
    after = next((r for r in summary.ice.relative if r.when == "after"), None)
    if after is None:
        return None
    ratio = after.symmetry_to_spread
    if ratio is None:
        share = "the reference's relative energies do not spread"
    elif ratio >= 1:
        share = f"{sig(ratio)} times the reference's spread of {sig(1e3 * after.spread)} meV/H2O"
    else:
        share = f"{sig(100 * ratio)} % of the reference's spread of {sig(1e3 * after.spread)} meV/H2O"
    keeps = "keeps" if after.ordering_grid_vs_plain > 1 - 1e-9 else "changes"  # tau is a float: 0.9999... is 1
    text = (f"Across {after.n_cells} relaxed proton-disordered ice cells {GRID} moves relative energies by "
            f"{sig(1e3 * after.symmetry)} meV/H2O ({share}) and {keeps} the plain ordering (Kendall tau "
            f"{after.ordering_grid_vs_plain:.2f}); the plain model's error of the same energies is "
            f"{sig(1e3 * after.model_plain)} meV/H2O (it ranks the cells against q-TIP4P/F with Kendall tau "
            f"{after.ordering_plain_vs_reference:.2f}).")
    if after.model_plain > after.spread:
        text += (f" These proton orderings differ by less ({sig(1e3 * after.spread)} meV/H2O) than the model's own error: "
                 "no model resolves them, so whether averaging reorders them is not a question this model can answer "
                 "(the polymorphs below are).")
    return text


def polymorph_finding(p: PolymorphSummary) -> str:
    """The polymorphs: the plain ranking against q-TIP4P/F, what averaging changes, the proton-ordering signs."""
    c = p.relaxed
    phases = list(c.phases)
    ref = [c.phase_energy[c.reference][ph] for ph in phases]
    spread = float(_rms([e - sum(ref) / len(ref) for e in ref]))
    tau_grid_plain = kendall_tau([c.phase_energy[GRID][ph] for ph in phases], [c.phase_energy["plain"][ph] for ph in phases])
    keeps = "keeps" if tau_grid_plain > 1 - 1e-9 else "changes"
    flips = sum(1 for o in c.orderings if abs(o.difference[c.reference]) >= c.sign_threshold
                and (o.difference[GRID] > 0) != (o.difference["plain"] > 0))
    return (f"Across {len(phases)} ice polymorphs ({len(c.cell_energy[c.reference])} relaxed cells of "
            f"{min(p.molecules)}-{max(p.molecules)} molecules; q-TIP4P/F spreads their energies relative to Ih by "
            f"{sig(1e3 * spread)} meV/H2O rms) the plain model ranks the phases with Kendall tau {c.kendall['plain']:.2f} "
            f"against q-TIP4P/F, its relative energies off by {sig(1e3 * c.rms_error['plain'])} meV/H2O rms; {GRID} moves "
            f"them by {sig(1e3 * c.symmetry_rms)} meV/H2O rms (at most {sig(1e3 * c.symmetry_max)}) and {keeps} the "
            f"plain ranking (tau {tau_grid_plain:.2f}); of {c.sign_judged} proton-ordering differences q-TIP4P/F puts at "
            f">= {sig(1e3 * c.sign_threshold)} meV/H2O, plain gets {_count(c.sign_errors['plain'], 'sign')} wrong and "
            f"{GRID} flips {flips} of plain's.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _rms(values) -> float:
    return (sum(v * v for v in values) / max(len(values), 1)) ** 0.5


def _join(items: list[str]) -> str:
    """``_join(["a", "b", "c"])`` -> "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _length(row: PimdRow) -> str:
    """How long a run is: "10 fs (40 steps, 5 frames)"."""
    fs = "?" if row.duration_ps is None else sig(1e3 * row.duration_ps, 3)
    return f"{fs} fs ({row.steps} steps, {row.frames} frames)"


def _difference(v: PimdVerdict, sign: float = 1.0) -> str:
    """``_difference(verdict)``: "+2.1 ± 0.9 meV" (second run minus first, x sign), "" without numbers."""
    scale, unit = PIMD_UNITS[v.observable]
    if v.difference is None:
        return ""
    d = sign * scale * v.difference
    text = ("+" if d > 0 else "") + sig(d)
    return text + ("" if v.error is None else f" ± {sig(scale * v.error)}") + f" {unit}"


def _versus_reference(group: PimdGroup, label: str) -> str | None:
    """What a model run's quantum observables do against q-TIP4P/F: differ (by how much), agree, undecided."""
    verdicts = [group.verdict(name, label, "reference") for name in PIMD_OBSERVABLES]
    verdicts = [v for v in verdicts if v is not None]
    if not verdicts:
        return None
    sign = 1.0 if verdicts[0].pair.startswith("reference|") else -1.0  # shown as model minus reference
    by = {kind: [v for v in verdicts if v.verdict == kind] for kind in ("different", "same", "undecided")}
    curves = [f"the bead {name}(r)" for name, v in group.curve_verdicts(label, "reference").items() if v == "different"]
    parts = []
    if by["different"] or curves:
        parts.append("differs in " + _join([f"{PIMD_OBSERVABLES[v.observable]} ({_difference(v, sign)})"
                                            for v in by["different"]] + curves))
    if by["same"]:
        names = [PIMD_OBSERVABLES[v.observable] for v in by["same"]]
        parts.append(f"agrees in {'all four' if len(names) == len(verdicts) == 4 else _join(names)}")
    if by["undecided"]:
        parts.append("is undecided in " + _join([PIMD_OBSERVABLES[v.observable] for v in by["undecided"]]))
    return f"{label} " + _join(parts)


def _integrator_note(label: str) -> str:
    """What a plain-vs-averaged difference measures when the averaged run is also integrated differently (MTS)."""
    if not label.startswith("mts:"):
        return ""
    return (" (the averaged run also differs in the integrator, multiple time stepping with the same inner step, "
            "so such a difference measures both)")


def pimd_finding(group: PimdGroup) -> str | None:
    """Whether 2i changes a quantum observable relative to plain (same, different, undecided and why), and the reference.

    "Same" needs every one of K_cv(H), K_cv(O), Rg(H), Rg(O) within error
    bars of the difference (paired where the runs pair up) that resolve ``group.resolution`` of its value; a difference
    beyond 2 sigma of any of them, or of a bead g(r), is a change; otherwise
    the sentence says "undecided", with the error bars' width and the runs' length.
    """
    averaged = group.averaged_label
    plain, grid, ref = group.row("plain"), group.row(averaged), group.row("reference")
    first = plain or grid
    if first is None or (grid is None and plain is not None and ref is None) or (plain is None and ref is None):
        return None  # nothing compared: neither plain with 2i nor a model run with the reference
    place = "In path-integral ice" if group.case.startswith("ice") else "In the path-integral liquid"
    text = f"{place} ({group.case}, {first.n_molecules} H2O, {first.beads} beads, runs of {_length(first)})"
    clauses = []
    if plain is not None and grid is not None:
        verdicts = [v for v in (group.verdict(name, "plain", averaged) for name in PIMD_OBSERVABLES) if v is not None]
        different = [v for v in verdicts if v.verdict == "different"]
        undecided = [v for v in verdicts if v.verdict == "undecided"]
        same = [v for v in verdicts if v.verdict == "same"]
        curves = [name for name, v in group.curve_verdicts("plain", averaged).items() if v == "different"]
        resolution = f"{100 * group.resolution:g} %"
        if different or curves:
            items = [f"{PIMD_OBSERVABLES[v.observable]} by {_difference(v)}"
                     + ("" if v.z is None else f" ({'paired ' if v.paired else ''}z {v.z:.2g})") for v in different]
            items += [f"the bead {name}(r) (chi-squared test)" for name in curves]
            clause = (f"{averaged} changes {_join(items)} relative to plain, beyond the error bars of the difference (2 sigma)"
                      + _integrator_note(averaged))
            if undecided:
                clause += f"; {_join([PIMD_OBSERVABLES[v.observable] for v in undecided])} undecided"
        elif undecided:
            widths = [v for v in undecided if v.width is not None]
            why = []
            if widths:
                why.append(_join([f"{PIMD_OBSERVABLES[v.observable]} {sig(100 * v.width)} %" for v in widths])
                           + f" of the value (2 sigma), wider than the {resolution} needed to decide")
            bare = [v for v in undecided if v.width is None]
            if bare:
                why.append(f"{_join([PIMD_OBSERVABLES[v.observable] for v in bare])} without error bars "
                           f"({'; '.join(sorted({v.reason for v in bare}))})")
            fs = "?" if plain.duration_ps is None else sig(1e3 * plain.duration_ps, 3)
            clause = (f"whether {averaged} changes a quantum observable relative to plain is undecided: no difference beyond "
                      f"error bars, but the error bars are {'; '.join(why)}, because the runs are only {fs} fs long")
            if same:
                clause += (f"; {_join([PIMD_OBSERVABLES[v.observable] for v in same])} "
                           f"{'agrees' if len(same) == 1 else 'agree'} within error bars that resolve {resolution}")
        else:
            widths = [v.width for v in same if v.width is not None]
            clause = (f"{averaged} changes no quantum observable relative to plain: "
                      f"{_join([PIMD_OBSERVABLES[v.observable] for v in same])} agree within error bars of the difference "
                      + (f"(2 sigma) of at most {sig(100 * max(widths))} % of their values" if widths else "(identical)"))
            verdicts_g = list(group.curve_verdicts("plain", averaged).values())
            if verdicts_g and all(v == "same" for v in verdicts_g):
                clause += ", and the bead g(r)s agree within theirs"
        clauses.append(clause)
    if ref is not None:
        against = [t for t in (_versus_reference(group, label) for label in ("plain", averaged)) if t]
        if against:
            k = ref.of("kinetic_cv_H")
            value = "" if k is None or k.value is None else \
                f" (K_cv(H) {_pm(k)} meV)"
            clauses.append(f"against q-TIP4P/F with the same beads{value}, " + "; ".join(against))
    return f"{text} " + "; ".join(clauses) + "." if clauses else None


def study_findings(summary: StudySummary) -> list[str]:
    """``study_findings(summary)``: the analysis' sentences (vacuum, each group, the replay), the ice cells', PIMD's.

    The path-integral groups get :func:`pimd_finding` instead of the analysis'
    generic sentence (which cannot say "undecided").
    """
    pimd_groups = {g.group for g in summary.pimd.groups}
    lines = findings(summary.analyses, [c for c in summary.comparisons if c.group not in pimd_groups])
    ice = ice_finding(summary)
    pimd = [line for line in (pimd_finding(g) for g in summary.pimd.groups) if line]
    polymorphs = [polymorph_finding(summary.polymorphs)] if summary.polymorphs is not None else []
    crystal = [line for line in (crystal_verdict(summary.crystal),) if line]
    return (lines + ([ice] if ice else []) + polymorphs + crystal + pimd
            + [frontier_finding(f) for f in summary.frontiers])


def gas_table(summary: StudySummary) -> Table:
    return Table("One H2O: NVE unless mts (model error: offset ± fluctuation, mean ± std along the trajectory)",
                 ("strategy", "|L - L0| max / hbar", "direction change / deg", "torque RMS / meV",
                  "conserved drift / meV/ps", "model error / meV"),
                 tuple((r.label, r.L_max_change, r.L_direction_change, _pm(r.torque_rms), _pm(r.conserved_drift),
                        "-" if r.model_offset is None or r.model_offset.value is None else
                        f"{sig(1e3 * r.model_offset.value, 4)} ± {sig(1e3 * (r.model_fluctuation or 0))}")
                       for r in summary.gas))


def convergence_table(summary: StudySummary) -> Table:
    return Table(f"Energies meV/H2O, forces meV/A per component; symmetry error against {summary.symmetry_reference}",
                 ("strategy", "evaluations", "model error E", "symmetry error E", "model error F", "symmetry error F",
                  "energy spread", "force plain-avg RMS"),
                 tuple((c.strategy, c.evaluations, _milli(c.model_energy_mae), _milli(c.symmetry_energy_mae),
                        _milli(c.model_force_mae), _milli(c.symmetry_force_mae), _milli(c.energy_spread),
                        _milli(c.force_plain_minus_averaged_rms)) for c in summary.convergence))


def ice_tables(summary: StudySummary) -> list[Table]:
    cells = summary.ice.cells
    if not cells:
        return []
    headers = ("cell", *(f"{p} {w}" for w in ("before", "after") for p in ICE_POTENTIALS),
               "reference at plain after", f"reference at {GRID} after")
    energies = Table("Energies per molecule (meV/H2O)", headers, tuple(
        (c.cell, *(_milli(getattr(c.of(p), w)) for w in ("before", "after") for p in ICE_POTENTIALS),
         _milli(c.reference_at_plain_after), _milli(c.reference_at_grid_after)) for c in cells))
    steps = Table("L-BFGS steps and largest final force component (eV/A)",
                  ("cell", *(f"{p} {q}" for p in ICE_POTENTIALS for q in ("steps", "max |F|"))),
                  tuple((c.cell, *(v for p in ICE_POTENTIALS for v in (c.of(p).steps, c.of(p).final_force_max)))
                        for c in cells))
    tables = [energies, steps]
    for r in summary.ice.relative:
        tables.append(Table(f"Ice relative energies {r.when} relaxation ({r.n_cells} cells; meV/H2O, or as named)",
                            ("quantity", "value"),
                            (("spread of the reference (std)", 1e3 * r.spread),
                             (f"|{GRID} - plain| (symmetry error)", 1e3 * r.symmetry),
                             ("symmetry error / spread", r.symmetry_to_spread),
                             ("|plain - reference| (model error)", 1e3 * r.model_plain),
                             (f"|{GRID} - reference|", 1e3 * r.model_grid),
                             (f"ordering {GRID} vs plain (Kendall tau, 1 = same)", r.ordering_grid_vs_plain),
                             ("ordering plain vs reference (Kendall tau)", r.ordering_plain_vs_reference))))
    return tables


def polymorph_tables(p: PolymorphSummary) -> list[Table]:
    """The phases' energies relative to Ih (built and relaxed), the goals' figures, the proton orderings."""
    tables = []
    for when, c in (("relaxed", p.relaxed), ("built", p.built)):
        methods = [c.reference, "plain", GRID]
        tables.append(Table(f"Energy relative to Ih, {when} cells (meV/H2O, mean over the phase's cells)",
                            ("polymorph", *methods),
                            tuple((ph, *(1e3 * c.phase_energy[m][ph] for m in methods)) for ph in c.phases)))
    c = p.relaxed
    tables.append(Table("Relaxed cells: ranking, errors, symmetry (meV/H2O, or as named)", ("quantity", "value"), (
        ("Kendall tau of the phases, plain vs q-TIP4P/F", c.kendall["plain"]),
        (f"Kendall tau of the phases, {GRID} vs q-TIP4P/F", c.kendall[GRID]),
        ("relative-energy error of plain (RMS over cells)", 1e3 * c.rms_error["plain"]),
        (f"|{GRID} - plain| of relative energies, RMS", 1e3 * c.symmetry_rms),
        (f"|{GRID} - plain| of relative energies, largest", 1e3 * c.symmetry_max),
        (f"proton-ordering signs wrong (of {c.sign_judged} >= {sig(1e3 * c.sign_threshold)} meV/H2O), plain",
         c.sign_errors["plain"]),
        (f"proton-ordering signs wrong, {GRID}", c.sign_errors[GRID]),
        (f"largest {GRID} energy drop in its relaxation from the plain minimum", 1e3 * p.grid_relaxation_drop))))
    if c.orderings:
        tables.append(Table("Proton orderings of relaxed cells: E(seed b) - E(seed a) (meV/H2O)",
                            ("polymorph", "seeds", c.reference, "plain", GRID),
                            tuple((o.polymorph, f"{o.seed_b} - {o.seed_a}",
                                   *(1e3 * o.difference[m] for m in (c.reference, "plain", GRID))) for o in c.orderings)))
    return tables


def crystal_table(rows) -> Table:
    """The space group of every relaxed crystal by spglib tolerance, with where the crystal's own is lost."""
    tolerances = rows[0].scan.tolerances
    return Table("Space group (spglib) of each method's minimum by tolerance; 'lost at': the largest tolerance at which "
                 "the built crystal's group is not found; RMS: the atoms' distance from their positions symmetrized at 1e-1 A "
                 "(-: no symmetry left there)",
                 ("crystal", "cell", "method", *(f"{t:.0e} A" for t in tolerances), "lost at / A", "RMS / A", "steps"),
                 tuple((r.polymorph, "relaxed" if r.cell_relaxed else "fixed", r.method, *r.scan.symbols,
                        "kept" if r.lost_at is None else f"{r.lost_at:.0e}",
                        "-" if r.scan.rms_from_symmetry is None else r.scan.rms_from_symmetry,
                        f"{r.steps}{'' if r.converged else ' (limit)'}") for r in rows))


def crystal_figure_of(summary: StudySummary, path) -> Path | None:
    """``crystal_figure_of(summary, "study/crystal_symmetry.png")``: the tolerance at which each method loses the group."""
    from ..analysis.figures import tolerance_figure

    rows = summary.crystal
    if not rows:
        return None
    group = lambda r: f"{r.polymorph} {'relaxed' if r.cell_relaxed else 'fixed'}"  # noqa: E731
    groups = list(dict.fromkeys(group(r) for r in rows))
    methods = list(dict.fromkeys(r.method for r in rows))
    return tolerance_figure(groups, methods, {(group(r), r.method): r.lost_at for r in rows}, rows[0].scan.tolerances,
                            path)


def polymorph_text(p: PolymorphSummary) -> list[str]:
    """The polymorph part as lines of summary.txt."""
    c: PolymorphComparison = p.relaxed
    lines = ["", f"ice polymorphs, relaxed cells (meV/H2O above Ih; {c.reference} / plain / {GRID}):"]
    lines += [f"  {ph:4s} " + " / ".join(f"{1e3 * c.phase_energy[m][ph]:8.2f}" for m in (c.reference, "plain", GRID))
              for ph in c.phases]
    lines.append(f"  Kendall tau vs {c.reference}: plain {c.kendall['plain']:.3f}, {GRID} {c.kendall[GRID]:.3f}; "
                 f"plain error {1e3 * c.rms_error['plain']:.3g} meV/H2O rms; |{GRID} - plain| {1e3 * c.symmetry_rms:.3g} "
                 f"rms, {1e3 * c.symmetry_max:.3g} max; ordering signs wrong (of {c.sign_judged}): plain "
                 f"{c.sign_errors['plain']}, {GRID} {c.sign_errors[GRID]}")
    return lines


def pimd_tables(group: PimdGroup) -> list[Table]:
    """A path-integral group's quantum observables per run with error bars, and their verdicts per pair."""
    classical = next((r.kinetic_classical for r in group.rows if r.kinetic_classical is not None), None)
    kt = "" if classical is None else f"; 3/2 kT = {sig(1e3 * classical, 4)} meV without nuclear quantum effects"
    values = Table(f"{group.group}: centroid-virial kinetic energy per atom and ring-polymer radius of gyration "
                   f"(mean ± standard error of block means{kt})",
                   ("run", "beads", "molecules", "steps", "length / fs", *(f"{PIMD_OBSERVABLES[n]} / {PIMD_UNITS[n][1]}"
                                                                             for n in PIMD_OBSERVABLES)),
                   tuple((r.label, r.beads, r.n_molecules, r.steps, None if r.duration_ps is None else 1e3 * r.duration_ps,
                          *(_pm(r.of(n), PIMD_UNITS[n][0]) for n in PIMD_OBSERVABLES)) for r in group.rows))
    pairs = list(dict.fromkeys(v.pair for v in group.verdicts))
    rows, classes = [], []
    for name, shown in PIMD_OBSERVABLES.items():
        row, cls = [shown], [""]
        for pair in pairs:
            v = next((v for v in group.verdicts if v.observable == name and v.pair == pair), None)
            row.append("-" if v is None else _verdict_text(v, group.resolution))
            cls.append("" if v is None else VERDICT_CLASS.get(v.verdict, ""))
        rows.append(tuple(row))
        classes.append(tuple(cls))
    for name, by_pair in group.curves.items():
        rows.append((f"{name}(r), all beads", *(by_pair.get(p, "-") for p in pairs)))
        classes.append(("", *(VERDICT_CLASS.get(by_pair.get(p, ""), "") for p in pairs)))
    verdicts = Table(f"{group.group}: same within the error bar of the difference (2 sigma; paired where the runs "
                     "share start, seed and frame times) that resolves "
                     f"{100 * group.resolution:g} % of the value, different beyond them, or undecided",
                     ("observable", *pairs), tuple(rows), tuple(classes),
                     "bead g(r): chi-squared test of the difference (see the verdict table below)" if group.curves else "")
    return [values, verdicts]


def _verdict_text(v: PimdVerdict, resolution: float) -> str:
    """``_verdict_text(v, 0.05)``: "same (z 0.4; 2 sigma = 3.8 %)", "undecided (z 0.2; 2 sigma = 11 % > 5 %)"."""
    details = [] if v.z is None else [f"{'paired ' if v.paired else ''}z {v.z:.2g}"]
    if v.width is not None:
        details.append(f"2 sigma = {sig(100 * v.width)} %" + (f" > {100 * resolution:g} %" if v.width > resolution else ""))
    elif v.reason:
        details.append(v.reason)
    return v.verdict + (f" ({'; '.join(details)})" if details else "")


def _figure(figures: dict[str, Path], *names: str) -> Path | None:
    return next((figures[n] for n in names if n in figures), None)


def study_sections(summary: StudySummary, figures: list[Path]) -> list[Section]:
    """One section per part that ran: its tables (and verdicts) beside its key figure."""
    by_name = {f"{Path(f).parent.name}/{Path(f).name}": Path(f) for f in figures}
    by_name.update({Path(f).name: Path(f) for f in figures})
    kinds = {r.group: r.kind for r in summary.analyses}
    sections = []
    for part in SECTION_ORDER:
        tables, figure = [], None
        groups = [c for c in summary.comparisons if PART_OF_KIND.get(kinds.get(c.group, "")) == part]
        if part == "gas" and summary.gas:
            tables.append(gas_table(summary))
        if part == "replay" and summary.convergence:
            tables.append(convergence_table(summary))
            figure = _figure(by_name, "replay-liquid/convergence.png")
        if part == "geop":
            tables += ice_tables(summary)
            figure = _figure(by_name, "ice_relative_energies.png")
        if part == "polymorphs" and summary.polymorphs is not None:
            tables += polymorph_tables(summary.polymorphs)
            figure = _figure(by_name, POLYMORPH_FIGURE)
        if part == "crystal" and summary.crystal:
            tables.append(crystal_table(summary.crystal))
            figure = _figure(by_name, CRYSTAL_FIGURE)
        if part == "pimd":
            for group in summary.pimd.groups:
                tables += pimd_tables(group)
        tables += [verdict_table(c) for c in groups]
        if figure is None and groups:
            names = ["gas_angular_momentum.png"] if part == "gas" else []
            figure = _figure(by_name, *names, *(f"compare_{safe_name(c.group)}.png" for c in groups))
        if tables:
            title = PART_TITLES[part]
            if part == "pimd" and any(g.case.startswith("ice") for g in summary.pimd.groups):
                title = "Path-integral water: liquid and ice Ih"
            sections.append(Section(title, tuple(tables), figure))
    for f in summary.frontiers:
        sections.append(frontier_section(f, _figure(by_name, frontier_figure_name(f))))
    return sections


def write_study_report(path, summary: StudySummary, figures: list[Path], intro: str) -> Path:
    """``write_study_report("study/report.html", summary, figures, intro)``: the self-contained HTML report."""
    return write_report(path, "symbreak study", study_findings(summary), study_sections(summary, figures),
                        summary.analyses, intro=intro, figures=figures)


def _fmt(value, width: int) -> str:
    text = "-" if value is None else (format(value, ".4g") if isinstance(value, float) else str(value))
    return f"{text:>{width}}"


def summary_text(summary: StudySummary) -> str:
    """``summary_text(summary)``: summary.txt: the findings, the tables and the verdicts as plain text."""
    lines = study_findings(summary)
    if summary.gas:
        t = gas_table(summary)
        lines += ["", "gas (one H2O):", f"{'strategy':>10} {'|dL|max/hbar':>13} {'dir.change/deg':>15} "
                  f"{'torque RMS/meV':>18} {'drift meV/ps':>18} {'model err meV':>18}"]
        lines += [" ".join(_fmt(v, w) for v, w in zip(row, (10, 13, 15, 18, 18, 18))) for row in t.rows]
    if summary.convergence:
        lines += ["", f"replay of liquid frames (E meV/H2O, F meV/A; symmetry vs {summary.symmetry_reference}):",
                  f"{'strategy':>10} {'evals':>6} {'model E':>9} {'sym E':>9} {'model F':>9} {'sym F':>9}"]
        for c in summary.convergence:
            lines.append(f"{c.strategy:>10} {c.evaluations:>6} " + " ".join(
                _fmt(_milli(v), 9) for v in (c.model_energy_mae, c.symmetry_energy_mae, c.model_force_mae, c.symmetry_force_mae)))
    for g in summary.pimd.groups:
        lines += ["", f"path-integral {g.group} (K_cv meV/atom, Rg A; mean ± standard error; verdicts: same within "
                      f"2 sigma of the difference that resolve {100 * g.resolution:g} % of the value):",
                  f"{'run':>10} {'beads':>5} {'fs':>6} " + " ".join(f"{PIMD_OBSERVABLES[n]:>16}" for n in PIMD_OBSERVABLES)]
        for r in g.rows:
            lines.append(f"{r.label:>10} {r.beads:>5} {_fmt(None if r.duration_ps is None else 1e3 * r.duration_ps, 6)} "
                         + " ".join(f"{_pm(r.of(n), PIMD_UNITS[n][0]):>16}" for n in PIMD_OBSERVABLES))
        for pair in dict.fromkeys(v.pair for v in g.verdicts):
            lines.append(f"  {pair}: " + ", ".join(f"{PIMD_OBSERVABLES[v.observable]} {_verdict_text(v, g.resolution)}"
                                                   for v in g.verdicts if v.pair == pair))
    for r in summary.ice.relative:
        lines.append(f"\nice relative energies {r.when} relaxation ({r.n_cells} cells): spread (reference) "
                     f"{1e3 * r.spread:.4g} meV/H2O, |{GRID} - plain| {1e3 * r.symmetry:.4g} meV/H2O, "
                     f"|plain - reference| {1e3 * r.model_plain:.4g} meV/H2O; ordering {GRID} vs plain: "
                     f"Kendall tau {r.ordering_grid_vs_plain:.3g}, plain vs reference {r.ordering_plain_vs_reference:.3g}")
    if summary.polymorphs is not None:
        lines += polymorph_text(summary.polymorphs)
    if summary.crystal:
        lines += ["", "crystal symmetry under relaxation (space group by spglib tolerance):"]
        lines += [f"  {r.polymorph:3s} {'relaxed' if r.cell_relaxed else 'fixed':7s} {r.method:9s} "
                  + " ".join(f"{s:>16s}" for s in r.scan.symbols)
                  + f"  lost at {'-' if r.lost_at is None else format(r.lost_at, '.0e')}" for r in summary.crystal]
    for f in summary.frontiers:
        lines += ["", frontier_text(f)]
    for c in summary.comparisons:
        lines += ["", f"{c.group} ({', '.join(c.pairs)}):"]
        lines += [f"  {o.name}: {'/'.join(v.verdict for v in o.verdicts.values())}" for o in c.observables.values()]
        line = not_judged_line(c)
        if line:
            lines.append(f"  not judged: {line}")
    lines += ["", "cost:"] + [f"  {r.case:12s} {r.label:10s} {r.timing.steps:6d} steps "
                              f"{(r.timing.ms_per_step or float('nan')):9.1f} ms/step" for r in summary.analyses]
    return "\n".join(lines)


__all__ = ["CRYSTAL_FIGURE", "POLYMORPH_FIGURE", "convergence_table", "crystal_figure_of", "crystal_table", "gas_table", "ice_finding", "ice_relative_figure", "ice_tables",
           "pimd_finding", "pimd_tables", "polymorph_figure_of", "polymorph_finding", "polymorph_tables", "polymorph_text",
           "study_findings", "study_sections", "summary_text", "write_study_report"]


def ice_relative_figure(summary: StudySummary, path) -> Path | None:
    """``ice_relative_figure(summary, "study/ice_relative_energies.png")``: the complete cells' relative energies."""
    from ..analysis.figures import ice_figure

    complete = [c for c in summary.ice.cells if c.complete]
    if len(complete) < 2 or not summary.ice.relative:
        return None
    energies = {r.when: {p: [getattr(c.of(p), r.when) for c in complete] for p in ("reference", "plain", GRID)}
                for r in summary.ice.relative}
    titles = {r.when: f"|{GRID} - plain| {1e3 * r.symmetry:.3g}, spread {1e3 * r.spread:.3g} meV/H2O, "
                      f"tau({GRID}, plain) {r.ordering_grid_vs_plain:.2f}" for r in summary.ice.relative}
    return ice_figure([str(c.cell) for c in complete], energies, titles, path)


def polymorph_figure_of(summary: StudySummary, path) -> Path | None:
    """``polymorph_figure_of(summary, "study/ice_polymorphs.png")``: energy per polymorph, three methods, relaxed and built."""
    from ..analysis.figures import polymorph_figure

    p = summary.polymorphs
    return None if p is None else polymorph_figure({"relaxed": p.relaxed, "built": p.built}, path)
