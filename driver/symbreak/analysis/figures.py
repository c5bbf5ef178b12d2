"""Figures (matplotlib, Agg) from analysis results: one per run, one per compared observable group.

    paths = run_figures(result, "runs/gas-plain")            # PNGs next to analysis.json
    paths = comparison_figures([r_plain, r_2i], "study/")    # the same curves overlaid, one PNG per panel set

Figures read only the typed results (:mod:`symbreak.analysis.results`) of
:func:`symbreak.analysis.run_analysis.analyze_run`; the ice figure reads the
study's typed ice summary through the protocol below.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .ice import relative_energies
from .polymorphs import PolymorphComparison
from .results import Curve, RunAnalysis

#: panels of each kind's figure: curve names, drawn when present
PANELS = {
    "gas": [["L_change"], ["L_x", "L_y", "L_z"], ["L_direction"], ["torque"], ["conserved"], ["model_error"],
            ["spectrum_V_plain", "spectrum_delta"], ["F_cos"]],
    "liquid": [["g_OO"], ["g_OH"], ["g_HH"], ["c_L", "c_T"], ["msd"], ["c_uu"], ["F_cos"], ["conserved"], ["model_error"],
               ["spectrum_V_plain", "spectrum_delta"]],
    "geop": [["energy"]],
}
PANELS["ice"] = PANELS["liquid"]
PANELS["pimd"] = PANELS["liquid"]
#: curves overlaid when runs are compared
COMPARED = [["L_change"], ["torque"], ["L_direction"], ["conserved"], ["model_error"], ["g_OO"], ["g_OH"], ["g_HH"],
            ["c_L"], ["c_T"], ["msd"], ["c_uu"], ["F_cos"]]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path) -> Path:
    """Lay out, write as PNG (90 dpi) and close ``fig``."""
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _draw(ax, curve: Curve, label: str, **style) -> None:
    x, y = _arr(curve.x), _arr(curve.y)
    log = curve.name.startswith("spectrum") or curve.y_label.startswith("power")
    line = ax.semilogy(x, np.abs(y), label=label, **style) if log else ax.plot(x, y, label=label, **style)
    if curve.y_error is not None:
        e = _arr(curve.y_error)
        ax.fill_between(x, y - e, y + e, color=line[0].get_color(), alpha=0.25, lw=0)
    ax.set(xlabel=curve.x_axis, ylabel=curve.y_axis)


def _grid(n: int):
    plt = _pyplot()
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return plt, fig, axes.ravel()


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def run_figures(result: RunAnalysis, out_dir) -> list[Path]:
    """``run_figures(result, folder)``: ``{kind}.png`` (all curves), ``orientation.png`` (F map), ``convergence.png``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    curves = result.curves
    if result.kind == "replay":
        paths.append(_convergence(result, out_dir / "convergence.png"))
        return paths
    panels = [p for p in PANELS.get(result.kind, []) if any(n in curves for n in p)]
    if panels:
        plt, fig, axes = _grid(len(panels))
        for ax, names in zip(axes, panels):
            for name in names:
                if name in curves:
                    _draw(ax, curves[name], name, lw=1.0)
            if len(names) > 1:
                ax.legend(fontsize=7)
        fig.suptitle(f"{result.case} — {result.label}  ({result.run})", fontsize=10)
        paths.append(_save(plt, fig, out_dir / f"{result.kind}.png"))
    if "F" in result.maps:
        m = result.maps["F"]
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        z = np.array([_arr(row) for row in m.z])
        im = ax.pcolormesh(_arr(m.x), _arr(m.y), z, shading="nearest", cmap="RdBu_r",
                           vmin=-np.nanmax(np.abs(z)), vmax=np.nanmax(np.abs(z)))
        fig.colorbar(im, ax=ax, label="F / kT")
        ax.set(xlabel=m.x_label, ylabel=m.y_label, title=f"orientational free energy, {result.label}")
        paths.append(_save(plt, fig, out_dir / "orientation.png"))
    return paths


def _convergence(result: RunAnalysis, path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
    table = result.convergence
    for key, name in (("symmetry_energy_mae", "symmetry error E (vs largest grid)"), ("model_energy_mae", "model error E (vs reference)"),
                      ("energy_spread", "rotational spread E"), ("symmetry_force_mae", "symmetry error F / meV/A"),
                      ("model_force_mae", "model error F / meV/A")):
        pts = [(r.evaluations, getattr(r, key)) for r in table if getattr(r, key)]
        if pts:
            x, y = zip(*pts)
            axes[0].loglog(x, np.array(y) * 1e3, "o-" if "_force_" not in key else "s--", label=name)
    for r in table:
        if r.symmetry_energy_mae:
            axes[0].annotate(r.strategy, (r.evaluations, r.symmetry_energy_mae * 1e3), fontsize=7)
    axes[0].set(xlabel="model evaluations per call", ylabel="meV/H2O", title="convergence with the grid")
    axes[0].legend(fontsize=7)
    for name, curve in result.curves.items():
        if name.startswith("symmetry_error_"):
            axes[1].semilogy(_arr(curve.x), _arr(curve.y) * 1e3, label=name.split("_", 2)[2])
    axes[1].set(xlabel="frame", ylabel=f"|E - E_{result.symmetry_reference}| / meV/H2O", title="symmetry error per frame")
    axes[1].legend(fontsize=7)
    return _save(plt, fig, path)


def comparison_figures(results: list[RunAnalysis], out_dir, stem: str | None = None) -> list[Path]:
    """``comparison_figures(results_of_one_group, folder)``: the curves every run has, overlaid, one PNG."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    panels = [p for p in COMPARED if all(p[0] in r.curves for r in results)]
    if not panels:
        return []
    plt, fig, axes = _grid(len(panels))
    labels = [r.label for r in results]
    for ax, names in zip(axes, panels):
        for r in results:
            label = r.label if labels.count(r.label) == 1 else f"{r.label} ({r.name})"
            _draw(ax, r.curves[names[0]], label, lw=1.0)
        ax.set_title(names[0], fontsize=9)
    axes[0].legend(fontsize=7)
    group = results[0].group
    fig.suptitle(f"{group}: " + ", ".join(labels), fontsize=10)
    return [_save(plt, fig, out_dir / f"compare_{safe_name(stem or group)}.png")]


def ice_figure(cells: Sequence[str], energies: Mapping[str, Mapping[str, Sequence[float | None]]],
               titles: Mapping[str, str], path) -> Path | None:
    """``ice_figure(["1", "2"], {"before": {"reference": [...], "plain": [...], "2i": [...]}, "after": ...}, titles, path)``.

    Relative energies (meV/H2O, each potential minus its mean over the cells)
    of the proton-disordered cells before and after relaxation, one panel per
    key of ``energies`` (per-molecule energies in eV, one per cell; a potential
    with a missing cell is left out); None when there are fewer than two cells.
    """
    if len(cells) < 2 or not energies:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(energies), figsize=(4.75 * len(energies), 3.6), squeeze=False)
    styles = {"reference": dict(marker="o", ms=9, mfc="none", color="k"), "plain": dict(marker="x", ms=7, color="C3"),
              "2i": dict(marker="+", ms=9, color="C0")}
    for ax, (when, by_potential) in zip(axes[0], energies.items()):
        for name, values in by_potential.items():
            values = _arr(values)
            if np.all(np.isfinite(values)):
                ax.plot(range(len(cells)), relative_energies(values) * 1e3, ls="none", label=name,
                        **styles.get(name, dict(marker="s")))
        ax.set(xticks=range(len(cells)), xticklabels=list(cells), xlabel="cell", ylabel="E - mean / meV/H2O",
               title=f"{when} relaxation" + (f"\n{titles[when]}" if titles.get(when) else ""))
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
    return _save(plt, fig, path)


def polymorph_figure(comparisons: Mapping[str, PolymorphComparison], path) -> Path | None:
    """``polymorph_figure({"relaxed": c1, "built": c2}, "study/ice_polymorphs.png")``.

    Energy per molecule of each polymorph relative to Ih (meV/H2O), one panel
    per comparison: the mean over each phase's cells as a marker per method,
    the range over its proton orderings as an error bar.
    """
    if not comparisons:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(comparisons), figsize=(5.5 * len(comparisons), 3.8), squeeze=False)
    styles = {"reference": dict(marker="o", ms=9, mfc="none", color="k"), "plain": dict(marker="x", ms=7, color="C3")}
    for ax, (title, c) in zip(axes[0], comparisons.items()):
        phases_of_cells = np.asarray(c.cells.polymorphs)
        x = np.arange(len(c.phases))
        methods = list(c.phase_energy)
        for k, method in enumerate(methods):
            cells = np.asarray(c.cell_energy[method]) * 1e3
            mean = np.array([1e3 * c.phase_energy[method][p] for p in c.phases])
            low = mean - np.array([cells[phases_of_cells == p].min() for p in c.phases])
            high = np.array([cells[phases_of_cells == p].max() for p in c.phases]) - mean
            ax.errorbar(x + 0.15 * (k - (len(methods) - 1) / 2), mean, yerr=[low, high], ls="none", capsize=2,
                        label=method, **styles.get(method, dict(marker="+", ms=9, color="C0")))
        ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
        taus = ", ".join(f"tau({m}) {c.kendall[m]:.2f}" for m in methods if m in c.kendall)
        ax.set(xticks=x, xticklabels=list(c.phases), xlabel="polymorph", ylabel="E - E(Ih) / meV/H2O",
               title=f"{title} cells; {taus}")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
    return _save(plt, fig, path)


def tolerance_figure(groups: Sequence[str], methods: Sequence[str], lost: Mapping[tuple[str, str], float | None],
                     tolerances: Sequence[float], path) -> Path | None:
    """``tolerance_figure(["XI fixed", ...], ["reference", "plain", "2i"], {(group, method): 1e-2}, TOLERANCES, path)``.

    One bar per group and method: the largest spglib tolerance (A) at which
    the crystal's space group is lost (log scale, smaller is better); a
    method that keeps it at every tolerance gets a hatched bar below the
    smallest tolerance.
    """
    if not groups or not methods:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.4 + 1.1 * len(groups), 3.6))
    floor = min(tolerances) / 10
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        values = [lost.get((g, method)) for g in groups]
        heights = [floor if v is None else v for v in values]
        x = np.arange(len(groups)) + (k - (len(methods) - 1) / 2) * width
        bars = ax.bar(x, heights, width, label=method, color=f"C{k}", bottom=floor / 10)
        for bar, v in zip(bars, values):
            if v is None:
                bar.set_hatch("//")
    ax.set_yscale("log")
    ax.set_ylim(floor / 10, max(tolerances) * 3)
    ax.set(xticks=np.arange(len(groups)), xticklabels=list(groups), ylabel="space group lost at tolerance / A",
           title="crystal symmetry under relaxation (hatched: kept at every tolerance)")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=7)
    return _save(plt, fig, path)
