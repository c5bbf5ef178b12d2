"""The frontier shown: one table and one figure per system, and the sentence that names the recommendation.

    frontier_table(frontier)                 # Table: cost, L change, drift, verdicts per entry
    frontier_figure(frontier, "frontier_gas.png")   # cost vs error, one point per entry
    frontier_finding(frontier)               # "In vacuum, the cheapest ... is MTS 2 every 4 (1.6x plain): ..."
    frontier_document(frontier)              # JSON-ready dict for summary.json
"""

from __future__ import annotations

from pathlib import Path

from ..analysis.findings import sig
from ..analysis.report import Section, Table
from .frontier import COST_GOAL, DRIFT_LIMIT, L_CHANGE_LIMIT, Frontier, FrontierRow

SYSTEM_TITLES = {"gas": "one H2O in vacuum (NVE)", "liquid": "liquid water (NVT)"}


def _yes(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _milli(o) -> str | None:
    if o is None or o.value is None:
        return None
    return f"{1e3 * o.value:.3g}" + ("" if o.error is None else f" +- {1e3 * o.error:.2g}")


def frontier_table(frontier: Frontier) -> Table:
    reference = next((r.label for r in frontier.rows if r.point.entry.reference), "the reference")
    gas = frontier.system == "gas"
    headers = ["entry", "cost / plain", "ms per fs"]
    headers += ["L change (hbar)", "L change / plain"] if gas else ["anisotropy", f"= {reference}"]
    headers += ["drift (meV/H2O/ps)", "drift bound / 2i's", f"drift = {reference}", "good enough"]
    rows, classes = [], []
    best = frontier.recommended
    for r in frontier.rows:
        p = r.point
        row = [r.label + (" (reference)" if p.entry.reference else ""), r.cost, p.ms_per_fs]
        if gas:
            row += [p.L_change, r.L_change_to_plain]
        else:
            row += [None if p.anisotropy is None else p.anisotropy.value, _yes(r.anisotropy_agrees)]
        row += [_milli(p.drift), r.drift_to_2i, _yes(r.drift_agrees), _yes(r.good_enough)]
        rows.append(tuple(row))
        classes.append(tuple("best" if best is not None and r is best else "" for _ in row))
    criteria = (f"L change <= {100 * L_CHANGE_LIMIT:g} % of plain's and " if gas else "anisotropy equal to the reference's and ")
    footnote = (f"good enough: {criteria}drift bound (|drift| + 2 sigma) <= {DRIFT_LIMIT:g}x direct 2i's; "
                "cost: wall time per simulated fs relative to plain, same machine, steady state")
    return Table(f"Cost-accuracy frontier, {SYSTEM_TITLES[frontier.system]}", tuple(headers), tuple(rows),
                 tuple(classes), footnote)


def frontier_finding(frontier: Frontier) -> str:
    """One sentence: the cheapest good-enough entry and whether the goal (<= 2x plain) is met."""
    where = "In vacuum" if frontier.system == "gas" else "In the liquid"
    best = frontier.recommended
    if best is None:
        judged = [r for r in frontier.rows if r.good_enough is not None]
        if not judged:
            return f"{where}, the frontier could not be judged (no costs or observables measured)."
        return (f"{where}, no entry other than the reference is good enough; the goal of a fix at <= "
                f"{COST_GOAL:g}x the cost of plain is not met at this run length.")
    if best.label == "plain":
        # nothing judged here tells plain from direct averaging: say so, then name the cheapest actual fix
        fixes = [r for r in frontier.rows if r.good_enough and r.cost is not None and r.label != "plain"
                 and not r.point.entry.reference]
        fix = min(fixes, key=lambda r: r.cost) if fixes else None
        text = (f"{where}, plain itself is as good as direct averaging at this run length ({_details(best)}): the "
                f"broken symmetry moves none of the judged observables beyond their error bars, so they need no fix")
        if fix is not None:
            text += f"; the cheapest fix that is good enough is {fix.label} at {sig(fix.cost)}x the cost of plain"
        return text + "."
    goal = "meets" if best.cost <= COST_GOAL else "misses"
    return (f"{where}, the cheapest fix that is good enough is {best.label} at {sig(best.cost)}x the cost of plain "
            f"({_details(best)}); it {goal} the goal of <= {COST_GOAL:g}x.")


def _details(row: FrontierRow) -> str:
    """"L changes by 0.07 % of plain's, energy drift bound 1.5x direct 2i's" (and the anisotropy in the liquid)."""
    details = []
    if row.L_change_to_plain is not None:
        details.append(f"L changes by {sig(100 * row.L_change_to_plain)} % of plain's")
    if row.drift_to_2i is not None:
        details.append(f"energy drift bound {sig(row.drift_to_2i)}x direct 2i's")
    if row.point.system == "liquid" and row.anisotropy_agrees:  # judged in the liquid only
        details.append("anisotropy equal to the reference's")
    return ", ".join(details)


def frontier_figure_name(frontier: Frontier) -> str:
    """The file name of a frontier's figure in an output folder: frontier_gas.png, frontier_liquid.png."""
    return f"frontier_{frontier.system}.png"


def frontier_figure(frontier: Frontier, path) -> Path | None:
    """Cost (x) against the error that matters (y), one labelled point per entry; None without costs."""
    from ..analysis.figures import _pyplot, _save

    gas = frontier.system == "gas"
    points = [(r, r.cost, r.L_change_to_plain if gas else r.drift_to_2i) for r in frontier.rows]
    points = [(r, x, y) for r, x, y in points if x is not None and y is not None]
    if not points:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for r, x, y in points:
        mts = r.point.entry.kind == "mts"
        style = dict(marker="s" if mts else "o", color="tab:orange" if mts else "tab:blue")
        if r.good_enough:
            style.update(markeredgecolor="black", markeredgewidth=1.5)
        ax.plot([x], [max(y, 1e-6)], linestyle="none", markersize=7, **style)
        ax.annotate(r.label, (x, max(y, 1e-6)), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    limit = L_CHANGE_LIMIT if gas else DRIFT_LIMIT
    ax.axhline(limit, color="gray", linestyle=":", linewidth=1)
    ax.axvline(COST_GOAL, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("cost per simulated ps / plain's")
    ax.set_ylabel("L change / plain's" if gas else "energy drift bound / direct 2i's")
    ax.set_title(f"Frontier, {SYSTEM_TITLES[frontier.system]}: circles direct, squares MTS; outlined = good enough",
                 fontsize=8)
    return _save(plt, fig, path)


def frontier_section(frontier: Frontier, figure: Path | None) -> Section:
    return Section(f"Cost-accuracy frontier: {SYSTEM_TITLES[frontier.system]}", (frontier_table(frontier),), figure,
                   frontier_finding(frontier))


def _observable(o) -> dict | None:
    return None if o is None else {"value": o.value, "error": o.error, "unit": o.unit}


def _row_document(r: FrontierRow) -> dict:
    p = r.point
    return {"label": r.label, "strategy": p.entry.strategy, "mts_ratio": p.entry.mts_ratio,
            "reference": p.entry.reference, "ms_per_fs": p.ms_per_fs, "duration_ps": p.duration_ps, "cost": r.cost,
            "L_change": p.L_change, "L_change_to_plain": r.L_change_to_plain, "drift": _observable(p.drift),
            "drift_to_2i": r.drift_to_2i, "drift_agrees": r.drift_agrees, "anisotropy": _observable(p.anisotropy),
            "anisotropy_agrees": r.anisotropy_agrees, "good_enough": r.good_enough}


def frontier_document(frontier: Frontier) -> dict:
    best = frontier.recommended
    return {"system": frontier.system, "recommended": None if best is None else best.label,
            "recommended_cost": None if best is None else best.cost, "goal_met": frontier.goal_met,
            "criteria": {"L_change_to_plain": L_CHANGE_LIMIT, "drift_to_2i": DRIFT_LIMIT, "cost_goal": COST_GOAL},
            "rows": [_row_document(r) for r in frontier.rows]}


def frontier_text(frontier: Frontier) -> str:
    """The table as fixed-width text (summary.txt, the command's output)."""
    table = frontier_table(frontier)

    def cell(v) -> str:
        if v is None:
            return "-"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    widths = [max(len(h), *(len(cell(row[k])) for row in table.rows)) for k, h in enumerate(table.headers)]
    lines = [table.caption, "  ".join(h.ljust(w) for h, w in zip(table.headers, widths))]
    lines += ["  ".join(cell(v).ljust(w) for v, w in zip(row, widths)) for row in table.rows]
    return "\n".join(lines + [table.footnote, frontier_finding(frontier)])


__all__ = ["frontier_document", "frontier_figure", "frontier_figure_name", "frontier_finding", "frontier_section", "frontier_table",
           "frontier_text"]
