"""The study's report: opening sentences, then each part's key figure beside its table; and the same as text.

    lines = study_findings(summary)                       # the sentences the report and summary.txt open with
    write_study_report("study/report.html", summary, figures, intro)
    print(summary_text(summary))                          # summary.txt

Numbers come from the typed :class:`~symbreak.study.summary.StudySummary`;
energies are shown in meV per molecule, forces in meV/A, torques in meV.
"""

from __future__ import annotations

from pathlib import Path

from ..analysis.figures import safe_name
from ..analysis.findings import findings, sig
from ..analysis.report import Section, Table, not_judged_line, verdict_table, write_report
from ..analysis.results import Observable
from .plan import GRID
from .summary import ICE_POTENTIALS, StudySummary

#: which part each comparison group belongs to, by the kind of its runs
PART_OF_KIND = {"gas": "gas", "liquid": "liquid", "pimd": "liquid", "ice": "ice"}
PART_TITLES = {"gas": "Gas phase: one H2O in vacuum", "liquid": "Liquid water", "ice": "Ice Ih (NVT)",
               "replay": "Replay of liquid frames: convergence with the grid", "geop": "Ice relaxations: relative energies"}


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
    return (f"Across {after.n_cells} relaxed proton-disordered ice cells {GRID} moves relative energies by "
            f"{sig(1e3 * after.symmetry)} meV/H2O ({share}) and {keeps} the plain ordering (Kendall tau "
            f"{after.ordering_grid_vs_plain:.2f}); the plain model's error of the same energies is "
            f"{sig(1e3 * after.model_plain)} meV/H2O (it ranks the cells against q-TIP4P/F with Kendall tau "
            f"{after.ordering_plain_vs_reference:.2f}).")


def study_findings(summary: StudySummary) -> list[str]:
    """``study_findings(summary)``: the analysis' sentences (vacuum, each group, the replay) and the ice cells'."""
    lines = findings(summary.analyses, list(summary.comparisons))
    ice = ice_finding(summary)
    return lines + ([ice] if ice else [])


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


def _figure(figures: dict[str, Path], *names: str) -> Path | None:
    return next((figures[n] for n in names if n in figures), None)


def study_sections(summary: StudySummary, figures: list[Path]) -> list[Section]:
    """One section per part that ran: its tables (and verdicts) beside its key figure."""
    by_name = {f"{Path(f).parent.name}/{Path(f).name}": Path(f) for f in figures}
    by_name.update({Path(f).name: Path(f) for f in figures})
    kinds = {r.group: r.kind for r in summary.analyses}
    sections = []
    for part in ("gas", "liquid", "ice", "replay", "geop"):
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
        tables += [verdict_table(c) for c in groups]
        if figure is None and groups:
            names = ["gas_angular_momentum.png"] if part == "gas" else []
            figure = _figure(by_name, *names, *(f"compare_{safe_name(c.group)}.png" for c in groups))
        if tables:
            sections.append(Section(PART_TITLES[part], tuple(tables), figure))
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
    for r in summary.ice.relative:
        lines.append(f"\nice relative energies {r.when} relaxation ({r.n_cells} cells): spread (reference) "
                     f"{1e3 * r.spread:.4g} meV/H2O, |{GRID} - plain| {1e3 * r.symmetry:.4g} meV/H2O, "
                     f"|plain - reference| {1e3 * r.model_plain:.4g} meV/H2O; ordering {GRID} vs plain: "
                     f"Kendall tau {r.ordering_grid_vs_plain:.3g}, plain vs reference {r.ordering_plain_vs_reference:.3g}")
    for c in summary.comparisons:
        lines += ["", f"{c.group} ({', '.join(c.pairs)}):"]
        lines += [f"  {o.name}: {'/'.join(v.verdict for v in o.verdicts.values())}" for o in c.observables.values()]
        line = not_judged_line(c)
        if line:
            lines.append(f"  not judged: {line}")
    lines += ["", "cost:"] + [f"  {r.case:12s} {r.label:10s} {r.timing.steps:6d} steps "
                              f"{(r.timing.ms_per_step or float('nan')):9.1f} ms/step" for r in summary.analyses]
    return "\n".join(lines)


__all__ = ["convergence_table", "gas_table", "ice_finding", "ice_relative_figure", "ice_tables", "study_findings", "study_sections",
           "summary_text", "write_study_report"]


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
