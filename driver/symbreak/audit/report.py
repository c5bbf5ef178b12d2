"""The audit's outputs: a verdict in a few lines, audit.html with one figure, audit.json.

    lines = verdict(report_parts...)          # what the terminal prints
    write_html(report, "audit/audit.html")    # self-contained: the figure is embedded

The figure: left, the force symmetry error of plain, i, 2, 2i (against 3i) per
system, with the model error against the reference as a dashed line; right, the
share of the rotational variance of E and F in each angular order l.
"""

from __future__ import annotations

import base64
import html
import io
import math

from .results import AUDITED_STRATEGIES, AuditReport, ModelError, NVEResult, SystemProbe, drift_ratio

COLOURS = {"molecule": "#1f77b4", "liquid": "#2ca02c", "ice": "#9467bd"}


def _g(x: float | None, digits: int = 2) -> str:
    """``digits`` significant digits, plain notation between 1e-3 and 1e5 (190, not 1.9e+02)."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return "-" if x is None or math.isnan(x) else "inf"
    if x != 0 and not 1e-3 <= abs(x) < 1e5:
        return f"{x:.{max(digits - 1, 0)}e}"
    return f"{float(f'{x:.{digits}g}'):g}"


def _orders_text(probe: SystemProbe) -> str:
    parts = []
    for shares in (probe.energy_orders, probe.force_orders):
        l = shares.dominant_order()
        name = "E" if shares.quantity == "energy" else "F"
        if l is None or shares.unresolved > shares.shares[l]:
            # the grid is too coarse for this model: say so before naming a resolved order
            parts.append(f"{name}: mostly above l={shares.resolved_l_max} ({100 * shares.unresolved:.0f} %, raise --lmax)")
            continue
        parity = " (parity-odd)" if shares.odd[l] > 0.5 * shares.shares[l] else ""
        tail = f", {100 * shares.unresolved:.0f} % above l={shares.resolved_l_max}" if shares.unresolved > 0.05 else ""
        parts.append(f"{name}: l={l} {100 * shares.shares[l]:.0f} %{parity}{tail}")
    return "; ".join(parts)


def _tolerance(value: float | None) -> str:
    return "every tolerance down to 1e-5 A" if value is None else f"{value:.0e} A"


def crystal_verdict(rows) -> str | None:
    """One sentence: the tolerance at which each method's relaxation loses the crystal's space group."""
    if not rows:
        return None
    parts = []
    for method in dict.fromkeys(r.method for r in rows):
        mine = [r for r in rows if r.method == method]
        worst = max(mine, key=lambda r: -1.0 if r.lost_at is None else r.lost_at)
        measured = [r.scan.rms_from_symmetry for r in mine if r.scan.rms_from_symmetry is not None]
        kept = "keeps it at " if worst.lost_at is None else "loses it at "
        where = (f"atoms at most {_g(max(measured))} A RMS from their symmetrized positions" if measured
                 else "no symmetry left even at 1e-1 A")
        parts.append(f"{method} {kept}{_tolerance(worst.lost_at)} ({where})")
    crystals = ", ".join(dict.fromkeys(f"{r.polymorph} ({r.crystal_symbol})" for r in rows))
    return (f"Relaxing proton-ordered ice {crystals} at fixed and relaxed cell, each method keeps or loses the "
            "crystal's space group (spglib, 1e-1 to 1e-5 A): " + "; ".join(parts) + ".")


def verdict(label: str, probes: list[SystemProbe], errors: list[ModelError], nve: list[NVEResult],
            reference: str | None, foreign: bool = True, crystal=()) -> list[str]:
    """A few computed sentences: does it break symmetry, where, in which orders, what fixes it, against what error."""
    lines = []
    broken = [p for p in probes if not p.invariant]
    if probes and not broken:
        worst_e = max(p.error("plain").energy_meV_per_molecule for p in probes)
        worst_f = max(p.error("plain").force_mae_meV_per_A for p in probes)
        lines.append(
            f"{label} is rotation-invariant to its arithmetic's precision on {', '.join(p.system for p in probes)}: "
            f"plain symmetry error at most {_g(worst_e)} meV/molecule and {_g(worst_f)} meV/A; no averaging is needed."
        )
    elif broken:
        per_system = ", ".join(
            f"{p.system} {_g(p.error('plain').energy_meV_per_molecule)} meV/molecule and "
            f"{_g(p.error('plain').force_mae_meV_per_A)} meV/A" for p in probes
        )
        lines.append(f"{label} breaks rotational symmetry: plain vs 3i: {per_system}.")
        lines.append("Angular orders of the rotational variance: " + "; ".join(f"{p.system} ({_orders_text(p)})" for p in broken) + ".")
        fixes = []
        for p in broken:
            plain_f, i_f, two_i = (p.error(s).force_mae_meV_per_A for s in ("plain", "i", "2i"))
            if two_i > 0:
                fixes.append(f"{p.system} {_g(plain_f / two_i)}x with 2i (to {_g(two_i)} meV/A), {_g(plain_f / max(i_f, 1e-300))}x with i")
        if fixes:
            lines.append("Averaging reduces the force symmetry error: " + "; ".join(fixes) + " (36 and 2 evaluations per call).")
    if errors and reference:
        parts = []
        for m in errors:
            ratio = f", plain symmetry error {_g(100 * m.symmetry_over_model)} % of it" if m.symmetry_over_model is not None else ""
            parts.append(
                f"{m.system}: force MAE {_g(m.force_mae_meV_per_A)} meV/A ({_g(100 * m.force_rmse_relative)} % RMSE of the "
                f"reference force spread){ratio}; energy offset {_g(m.energy_offset_meV_per_molecule, 3)} "
                f"± {_g(m.energy_fluctuation_meV_per_molecule)} meV/molecule"
            )
        why = " (this model was not trained on it: the ratio, not the error, is the point)" if foreign else ""
        lines.append(f"Model error against {reference}{why}: " + "; ".join(parts) + ".")
    crystal_line = crystal_verdict(crystal)
    if crystal_line:
        lines.append(crystal_line)
    by = {r.strategy: r for r in nve}
    if "plain" in by and "2i" in by:
        plain, avg = by["plain"], by["2i"]
        ratio = drift_ratio(nve)
        lines.append(
            f"NVE of the molecule over {_g(plain.duration_fs, 3)} fs: |L(t) - L(0)| reaches {_g(plain.L_max_change_hbar)} hbar "
            f"with plain (L turns {_g(plain.L_direction_change_deg)} deg) and {_g(avg.L_max_change_hbar)} hbar with 2i "
            f"({'inf' if ratio is None else _g(ratio)}x; L0 = {_g(plain.L0_hbar)} hbar)."
        )
    return lines


def figure_png(report: AuditReport) -> bytes:
    """The audit's figure as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    x = range(len(AUDITED_STRATEGIES))
    for p in report.systems:
        colour = COLOURS.get(p.system, "k")
        values = [max(p.error(s).force_mae_meV_per_A, 1e-12) for s in AUDITED_STRATEGIES]
        left.semilogy(list(x), values, "o-", color=colour, label=f"{p.system} ({p.n_molecules} H2O)")
        m = report.model_error(p.system)
        if m is not None:
            left.axhline(m.force_mae_meV_per_A, color=colour, ls="--", lw=1)
    left.set_xticks(list(x), [f"{s}\n({n})" for s, n in zip(AUDITED_STRATEGIES, (1, 2, 18, 36))])
    left.set_xlabel("strategy (evaluations per call)")
    left.set_ylabel("force symmetry error vs 3i / meV/A")
    left.set_title("symmetry error by grid (dashed: model error)", fontsize=10)
    if report.systems:
        left.legend(fontsize=8)
    else:  # a crystal-only audit: its table is on the page, the symmetry-error panel has nothing to draw
        left.text(0.5, 0.5, "no molecule, liquid or ice probe in this audit", ha="center", va="center",
                  transform=left.transAxes, fontsize=9)

    probes = [p for p in report.systems if not p.invariant]
    if probes:
        n_orders = len(probes[0].energy_orders.shares)
        labels = [f"l={l}" for l in range(n_orders)] + ["higher"]
        width = 0.8 / (2 * len(probes))
        for k, p in enumerate(probes):
            colour = COLOURS.get(p.system, "k")
            for j, shares in enumerate((p.energy_orders, p.force_orders)):
                values = list(shares.shares) + [shares.unresolved]
                offset = (2 * k + j) * width - 0.4 + width / 2
                right.bar([i + offset for i in range(len(values))], values, width, color=colour,
                          alpha=1.0 if j == 0 else 0.45, hatch=None if j == 0 else "//",
                          label=f"{p.system} {'E' if j == 0 else 'F'}")
        right.set_xticks(range(len(labels)), labels)
        right.set_ylim(0, 1)
        right.set_ylabel("share of the rotational variance")
        right.legend(fontsize=8)
        right.set_title(f"angular orders (grid {probes[0].energy_orders.grid})", fontsize=10)
    else:
        right.text(0.5, 0.5, "invariant to precision:\nno angular structure to show", ha="center", va="center")
        right.set_axis_off()
    fig.suptitle(f"symbreak audit: {report.label}", fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_html(report: AuditReport, path, png: bytes | None = None) -> None:
    """audit.html: the verdict, the figure, and one table per measurement."""
    png = figure_png(report) if png is None else png
    image = base64.b64encode(png).decode()
    sections = [
        f"<h1>symbreak audit: {html.escape(report.label)}</h1>",
        f"<p><code>{html.escape(report.potential)}</code>: {html.escape(report.description)}</p>",
        "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in report.verdict) + "</ul>",
        f'<img alt="audit figure" src="data:image/png;base64,{image}">',
        "<h2>Symmetry error against 3i</h2>",
        _table(
            ["system", "molecules", "strategy", "evaluations", "E error (meV/molecule)", "F error (meV/A)"],
            [[p.system, p.n_molecules, e.strategy, e.evaluations, _g(e.energy_meV_per_molecule, 3), _g(e.force_mae_meV_per_A, 3)]
             for p in report.systems for e in p.errors],
        ),
        "<h2>Rotational spread, net force and torque (plain)</h2>",
        _table(
            ["system", "E spread (meV/molecule)", "F spread (meV/A)", "|net force| (eV/A)", "|net torque| (eV)", "invariant", "evaluations", "seconds"],
            [[p.system, _g(p.energy_spread_meV_per_molecule, 3), _g(p.force_spread_meV_per_A, 3), _g(p.net_force_eV_per_A, 3),
              _g(p.net_torque_eV, 3), "yes" if p.invariant else "no", p.evaluations, f"{p.seconds:.1f}"] for p in report.systems],
        ),
        "<h2>Angular orders: share of the rotational variance</h2>",
        "<p>From the evaluations on the Legendre grid of order l_max + 1 with inversion (character projection); "
        "orders above the grid's resolution are counted together as 'higher'. The odd part of each share is in brackets.</p>",
        _table(
            ["system", "quantity", "grid"] + [f"l={l}" for l in range(len(report.systems[0].energy_orders.shares))] + ["higher"]
            if report.systems else ["system"],
            [[p.system, o.quantity, o.grid] + [f"{100 * s:.1f} % ({100 * d:.1f})" for s, d in zip(o.shares, o.odd)]
             + [f"{100 * o.unresolved:.1f} %"] for p in report.systems for o in (p.energy_orders, p.force_orders)],
        ),
    ]
    if report.model_errors:
        sections += [
            f"<h2>Model error against {html.escape(report.reference or '')}</h2>",
            _table(
                ["system", "frames", "E offset (meV/molecule)", "E fluctuation (meV/molecule)", "F MAE (meV/A)",
                 "F RMSE / reference std", "plain symmetry / model"],
                [[m.system, m.frames, _g(m.energy_offset_meV_per_molecule, 4), _g(m.energy_fluctuation_meV_per_molecule, 3),
                  _g(m.force_mae_meV_per_A, 3), f"{_g(100 * m.force_rmse_relative)} %",
                  "-" if m.symmetry_over_model is None else f"{_g(100 * m.symmetry_over_model)} %"] for m in report.model_errors],
            ),
        ]
    if report.crystal:
        tolerances = report.crystal[0].scan.tolerances
        sections += [
            "<h2>Crystal symmetry under relaxation (spglib space group by tolerance)</h2>",
            "<p>Each proton-ordered crystal relaxed from GenIce's symmetric cell by each method (BFGS; fixed cell, "
            "and the cell relaxed with FrechetCellFilter). 'lost at': the largest tolerance at which the built "
            "crystal's space group is not found; RMS: distance of the atoms from the minimum symmetrized at 1e-1 A "
            "(-: no symmetry left there).</p>",
            _table(
                ["crystal", "cell", "method"] + [f"{t:.0e} A" for t in tolerances]
                + ["lost at (A)", "RMS (A)", "steps", "E (eV/H2O)"],
                [[r.polymorph, "relaxed" if r.cell_relaxed else "fixed", r.method, *r.scan.symbols,
                  "kept" if r.lost_at is None else f"{r.lost_at:.0e}",
                  "-" if r.scan.rms_from_symmetry is None else _g(r.scan.rms_from_symmetry, 3),
                  f"{r.steps}{'' if r.converged else ' (limit)'}", _g(r.energy_per_molecule, 6)] for r in report.crystal],
            ),
        ]
    if report.nve:
        sections += [
            "<h2>NVE of the isolated molecule (i-PI + symbreak serve)</h2>",
            _table(
                ["strategy", "steps", "fs", "L0 (hbar)", "max |L - L0| (hbar)", "L turns (deg)", "torque rms (eV)", "ms/step", "run"],
                [[r.strategy, r.steps, _g(r.duration_fs, 3), _g(r.L0_hbar, 3), _g(r.L_max_change_hbar, 3),
                  _g(r.L_direction_change_deg, 3), _g(r.torque_rms_eV, 3), _g(r.ms_per_step, 3), r.run] for r in report.nve],
            ),
        ]
    if report.notes:
        sections.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;}table{border-collapse:collapse;margin:1em 0;}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:90%;}img{max-width:100%;}")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>symbreak audit</title><style>{style}</style></head>"
            f"<body>{''.join(sections)}<p><small>symbreak audit in {report.seconds:.0f} s</small></p></body></html>")
    with open(path, "w") as f:
        f.write(page)
