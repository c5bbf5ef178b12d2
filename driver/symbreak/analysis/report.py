"""One self-contained HTML report (figures embedded as base64) from analysis results and comparisons.

    rows = summary_rows(results)                   # symmetry error vs model error per system
    write_report("study/report.html", results, comparisons, figures, title="symbreak study")

Tables: the summary (symmetry vs model error for gas, liquid, ice), any extra
tables given (e.g. ice energies), per-observable verdicts of every compared
group, and the cost (ms per MD step per strategy, from the manifests).
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

SYSTEMS = ("gas", "liquid", "ice")


def _system(result: dict) -> str:
    case = result["case"]
    return "gas" if case.startswith("gas") else "ice" if case.startswith("ice") else "liquid"


def _mev(scalar: dict | None) -> str:
    if not scalar or scalar.get("value") is None:
        return "-"
    err = scalar.get("error")
    return f"{1e3 * scalar['value']:.3g}" + (f" ± {1e3 * err:.2g}" if err is not None else "")


def summary_rows(results: list[dict]) -> list[dict]:
    """Per system (gas, liquid, ice): symmetry errors (plain vs a grid; vs the largest grid in a replay) and model errors.

    Each row: ``system``, ``symmetry_plain`` (meV/H2O text and source), ``symmetry_2i`` (replay only),
    ``model`` (MAE of V_model - V_ref along the plain trajectory), ``model_std`` (offset removed).
    """
    rows = []
    for system in SYSTEMS:
        mine = [r for r in results if _system(r) == system]
        if not mine:
            continue
        row = {"system": system, "symmetry_plain": "-", "symmetry_2i": "-", "model": "-", "model_std": "-", "torque_plain": "-"}
        for r in mine:
            if r["kind"] == "replay":
                ref = r.get("symmetry_reference")
                row["symmetry_plain"] = f"{_mev(r['scalars'].get('symmetry_error_plain'))} (replay, vs {ref})"
                row["symmetry_2i"] = f"{_mev(r['scalars'].get('symmetry_error_2i'))} (replay, vs {ref})"
        for r in mine:
            if "symmetry_error_extras" in r["scalars"] and row["symmetry_plain"] == "-":
                row["symmetry_plain"] = f"{_mev(r['scalars']['symmetry_error_extras'])} (MD, vs {r.get('symmetry_grid')})"
        plain = [r for r in mine if r["label"] == "plain" and r["kind"] not in ("replay", "geop")]
        for r in plain[:1]:
            row["model"] = _mev(r["scalars"].get("model_error_mae"))
            row["model_std"] = _mev(r["scalars"].get("model_error_std"))
            if "torque_rms" in r["scalars"]:
                row["torque_plain"] = _mev(r["scalars"]["torque_rms"])
        rows.append(row)
    return rows


def cost_rows(results: list[dict]) -> list[dict]:
    """``cost_rows(results)``: case, strategy, steps, wall seconds and ms per step of every run."""
    return [
        {"case": r["case"], "strategy": r["label"], "molecules": r["n_molecules"], "beads": r["beads"],
         "steps": r["cost"].get("steps"), "wall_s": r["cost"].get("wall_seconds"), "ms_per_step": r["cost"].get("ms_per_step")}
        for r in results
    ]


def _table(headers: list[str], rows: list[list], classes: list[list[str]] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for k, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            cls = f" class='{classes[k][j]}'" if classes and classes[k][j] else ""
            text = "-" if cell is None else (f"{cell:.4g}" if isinstance(cell, float) else str(cell))
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _verdict_table(comparison: dict) -> str:
    rows, classes = [], []
    for obs, data in comparison["observables"].items():
        row, cls = [obs, data["kind"]], ["", ""]
        for pair in comparison["pairs"]:
            v = data["pairs"][pair]
            stat = v.get("z", v.get("chi2"))
            row.append(v["verdict"] + ("" if stat is None else f" ({'z' if 'z' in v else 'chi2/n'} {stat:.2g})"))
            cls.append({"same": "same", "different": "diff"}.get(v["verdict"], ""))
        rows.append(row)
        classes.append(cls)
    return _table(["observable", "kind", *comparison["pairs"]], rows, classes)


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"<figure><img src='data:image/png;base64,{data}'/><figcaption>{html.escape(Path(path).name)}</figcaption></figure>"


STYLE = """body{font-family:sans-serif;max-width:1300px;margin:1em auto;font-size:14px}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
th{background:#eee}td.same{background:#dfd}td.diff{background:#fdd}img{max-width:100%}figure{margin:0.5em 0}
.notes{color:#555;font-size:12px}"""


def write_report(path, results: list[dict], comparisons: list[dict], figures: list, title: str = "symbreak report",
                 intro: str = "", extra_tables: list[tuple[str, list[str], list[list]]] | None = None) -> Path:
    """``write_report("study/report.html", results, comparisons, figures)``: one HTML file, images embedded."""
    path = Path(path)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(time.strftime('%Y-%m-%d %H:%M'))}. {intro}</p>"]
    rows = summary_rows(results)
    if rows:
        parts.append("<h2>Symmetry error vs model error (meV/H2O)</h2>")
        parts.append(_table(["system", "symmetry error, plain", "symmetry error, 2i", "model error (MAE)",
                             "model error (std, offset removed)", "torque RMS plain (meV)"],
                            [[r["system"], r["symmetry_plain"], r["symmetry_2i"], r["model"], r["model_std"], r["torque_plain"]]
                             for r in rows]))
    for caption, headers, table_rows in extra_tables or []:
        parts.append(f"<h2>{html.escape(caption)}</h2>" + _table(headers, table_rows))
    if comparisons:
        parts.append("<h2>Verdicts: difference within combined error bars (2 sigma)?</h2>")
        for comparison in comparisons:
            parts.append(f"<h3>{html.escape(comparison.get('group', comparison['case']))}</h3>" + _verdict_table(comparison))
    parts.append("<h2>Cost</h2>")
    cost = cost_rows(results)
    parts.append(_table(["case", "strategy", "molecules", "beads", "steps", "wall s", "ms/step"],
                        [[c["case"], c["strategy"], c["molecules"], c["beads"], c["steps"], c["wall_s"], c["ms_per_step"]] for c in cost]))
    notes = [(r["run"], n) for r in results for n in r["notes"]]
    if notes:
        parts.append("<h2>Notes</h2><ul class='notes'>" + "".join(f"<li>{html.escape(a)}: {html.escape(b)}</li>" for a, b in notes) + "</ul>")
    if figures:
        parts.append("<h2>Figures</h2>" + "".join(_image(f) for f in figures if Path(f).exists()))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
