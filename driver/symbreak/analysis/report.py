"""One self-contained HTML report (figures embedded as base64) that opens with what was found.

    sections = run_sections(results, comparisons, figures)      # a Section per compared group, its figure beside its table
    write_report("runs/report.html", "symbreak analyze", findings(results, comparisons), sections, results)

Layout: the title, the opening sentences (:mod:`symbreak.analysis.findings`),
the summary of symmetry error vs model error per system, then one section per
part (its key figure next to its tables), the cost (ms per MD step per
strategy), the notes of the runs and any remaining figures.
"""

from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass
from pathlib import Path

from .findings import sig
from .observables import find_spec
from .results import Comparison, Observable, RunAnalysis

#: the table cell class of a verdict (the report colours same and different)
VERDICT_CLASS = {"same": "same", "different": "diff"}
SYSTEMS = ("gas", "liquid", "ice")


@dataclass(frozen=True)
class Table:
    """A caption, column headers and rows (numbers formatted with 4 digits, None as -); optional cell classes."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple, ...]
    classes: tuple[tuple[str, ...], ...] | None = None
    #: one line under the table (e.g. what was not judged)
    footnote: str = ""


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, a sentence or two, tables, and the figure shown beside them."""

    title: str
    tables: tuple[Table, ...] = ()
    figure: Path | None = None
    text: str = ""


@dataclass(frozen=True)
class SystemRow:
    """Symmetry error vs model error of one system (gas, liquid, ice), eV per molecule."""

    system: str
    symmetry_plain: Observable | None = None
    symmetry_plain_source: str = ""
    symmetry_2i: Observable | None = None
    symmetry_2i_source: str = ""
    #: V_model - V_ref along the plain trajectory: mean (offset) and standard deviation (fluctuation)
    model_offset: Observable | None = None
    model_fluctuation: Observable | None = None
    torque_plain: Observable | None = None


@dataclass(frozen=True)
class CostRow:
    case: str
    strategy: str
    molecules: int
    beads: int
    steps: int
    wall_s: float | None
    ms_per_step: float | None


def system_of(result: RunAnalysis) -> str:
    """``system_of(result)``: gas, ice or liquid, from the case name."""
    case = result.case
    return "gas" if case.startswith("gas") else "ice" if case.startswith("ice") else "liquid"


def mev(o: Observable | None) -> str:
    """``mev(observable)``: "3.2 ± 0.41" in milli-units, "-" when absent."""
    if o is None or o.value is None:
        return "-"
    return sig(1e3 * o.value, 3) + (f" ± {sig(1e3 * o.error)}" if o.error is not None else "")


def summary_rows(results: list[RunAnalysis]) -> list[SystemRow]:
    """Per system: symmetry errors (plain vs a grid; vs the largest grid in a replay) and the plain model's error."""
    rows = []
    for system in SYSTEMS:
        mine = [r for r in results if system_of(r) == system]
        if not mine:
            continue
        values: dict = {}
        for r in mine:
            if r.kind == "replay":
                source = f"replay, vs {r.symmetry_reference}"
                values.update(symmetry_plain=r.observable("symmetry_error_plain"), symmetry_plain_source=source,
                              symmetry_2i=r.observable("symmetry_error_2i"), symmetry_2i_source=source)
        for r in mine:
            if "symmetry_error_extras" in r.observables and "symmetry_plain" not in values:
                values.update(symmetry_plain=r.observable("symmetry_error_extras"),
                              symmetry_plain_source=f"MD, vs {r.symmetry_grid}")
        plain = [r for r in mine if r.label == "plain" and r.kind not in ("replay", "geop")]
        for r in plain[:1]:
            values.update(model_offset=r.observable("model_error_mean"), model_fluctuation=r.observable("model_error_std"),
                          torque_plain=r.observable("torque_rms"))
        rows.append(SystemRow(system, **values))
    return rows


def summary_table(rows: list[SystemRow]) -> Table:
    """The table of :func:`summary_rows` in meV/H2O."""
    def with_source(o, source):
        return "-" if o is None else f"{mev(o)} ({source})"

    def offset(r: SystemRow):
        if r.model_offset is None or r.model_offset.value is None:
            return "-"
        fluct = "" if r.model_fluctuation is None or r.model_fluctuation.value is None else \
            f" ± {sig(1e3 * r.model_fluctuation.value)}"
        return f"{sig(1e3 * r.model_offset.value, 4)}{fluct}"

    return Table("",
                 ("system", "symmetry error, plain", "symmetry error, 2i",
                  "model error: offset ± fluctuation (mean ± std along the plain trajectory)", "torque RMS plain (meV)"),
                 tuple((r.system, with_source(r.symmetry_plain, r.symmetry_plain_source),
                        with_source(r.symmetry_2i, r.symmetry_2i_source), offset(r), mev(r.torque_plain))
                       for r in rows))


def cost_rows(results: list[RunAnalysis]) -> list[CostRow]:
    """``cost_rows(results)``: case, strategy, steps, wall seconds and ms per step of every run."""
    return [CostRow(r.case, r.label, r.n_molecules, r.beads, r.timing.steps, r.timing.wall_seconds, r.timing.ms_per_step)
            for r in results]


def cost_table(results: list[RunAnalysis]) -> Table:
    return Table("", ("case", "strategy", "molecules", "beads", "steps", "wall s", "ms/step"),
                 tuple((c.case, c.strategy, c.molecules, c.beads, c.steps, c.wall_s, c.ms_per_step) for c in cost_rows(results)))


def not_judged_line(comparison: Comparison) -> str:
    """``not_judged_line(c)``: "not judged: L0, temperature (one molecule: ...)" grouped by reason; "" if none."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in comparison.not_judged.items():
        by_reason.setdefault(reason, []).append(name)
    return "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())


def verdict_table(comparison: Comparison) -> Table:
    """One row per judged observable (what it is and its unit from its declaration), a column per pair of runs."""
    rows, classes = [], []
    for o in comparison.observables.values():
        spec = find_spec(o.kind, o.name)  # None for a name an older symbreak wrote
        row, cls = [o.name, "" if spec is None else spec.help, o.unit], ["", "", ""]
        for pair in comparison.pairs:
            v = o.verdicts.get(pair)
            row.append("-" if v is None else v.text())
            cls.append("" if v is None else VERDICT_CLASS.get(v.verdict, ""))
        rows.append(tuple(row))
        classes.append(tuple(cls))
    line = not_judged_line(comparison)
    return Table(f"{comparison.group}: difference within its error bar (2 sigma; 'paired': from blockwise differences)?",
                 ("observable", "what", "unit", *comparison.pairs), tuple(rows), tuple(classes),
                 f"not judged: {line}" if line else "")


def run_sections(results: list[RunAnalysis], comparisons: list[Comparison], figures: list[Path]) -> list[Section]:
    """A section per compared group: its verdict table beside its overlay figure (compare_GROUP.png)."""
    from .figures import safe_name

    by_name = {Path(f).name: Path(f) for f in figures}
    return [Section(c.group, (verdict_table(c),), by_name.get(f"compare_{safe_name(c.group)}.png")) for c in comparisons]


def _cell(value) -> str:
    return "-" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


def _table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in t.headers)
    body = []
    for k, row in enumerate(t.rows):
        cells = []
        for j, value in enumerate(row):
            cls = f" class='{t.classes[k][j]}'" if t.classes and t.classes[k][j] else ""
            cells.append(f"<td{cls}>{html.escape(_cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<h3>{html.escape(t.caption)}</h3>" if t.caption else ""
    foot = f"<p class='notes'>{html.escape(t.footnote)}</p>" if t.footnote else ""
    return f"{caption}<table><tr>{head}</tr>{''.join(body)}</table>{foot}"


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    name = f"{Path(path).parent.name}/{Path(path).name}"
    return f"<figure><img src='data:image/png;base64,{data}'/><figcaption>{html.escape(name)}</figcaption></figure>"


def _section(s: Section) -> str:
    figure = _image(s.figure) if s.figure is not None and Path(s.figure).exists() else ""
    text = f"<p>{html.escape(s.text)}</p>" if s.text else ""
    tables = "".join(_table(t) for t in s.tables)
    return f"<h2>{html.escape(s.title)}</h2>{text}<div class='part'><div class='tables'>{tables}</div>{figure}</div>"


STYLE = """body{font-family:sans-serif;max-width:1400px;margin:1em auto;font-size:14px}
table{border-collapse:collapse;margin:0.3em 0 1em}td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
th{background:#eee}td.same{background:#dfd}td.diff{background:#fdd}td.best{font-weight:bold;background:#def}img{max-width:100%}figure{margin:0.5em 0}
.part{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.part>.tables{flex:1 1 500px;overflow-x:auto}
.part>figure{flex:1 1 520px}.findings li{margin:0.3em 0;font-size:15px}.notes{color:#555;font-size:12px}"""


def write_report(path, title: str, findings: list[str], sections: list[Section], results: list[RunAnalysis],
                 intro: str = "", figures: list | None = None) -> Path:
    """``write_report("study/report.html", "symbreak study", sentences, sections, results)``: one HTML file.

    ``intro`` is HTML (a line about the settings); ``figures`` not shown in a
    section are appended at the end.
    """
    path = Path(path)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    if findings:
        parts.append("<ul class='findings'>" + "".join(f"<li>{html.escape(s)}</li>" for s in findings) + "</ul>")
    parts.append(f"<p class='notes'>{html.escape(time.strftime('%Y-%m-%d %H:%M'))}. {intro}</p>")
    rows = summary_rows(results)
    if rows:
        parts.append(_section(Section("Symmetry error vs model error (meV/H2O)", (summary_table(rows),))))
    parts += [_section(s) for s in sections]
    parts.append(_section(Section("Cost (ms per MD step)", (cost_table(results),))))
    notes = [(r.run, n) for r in results for n in r.notes]
    if notes:
        parts.append("<h2>Notes</h2><ul class='notes'>" + "".join(f"<li>{html.escape(a)}: {html.escape(b)}</li>" for a, b in notes) + "</ul>")
    shown = {Path(s.figure) for s in sections if s.figure is not None}
    rest = [Path(f) for f in figures or [] if Path(f) not in shown and Path(f).exists()]
    if rest:
        parts.append("<h2>Figures</h2>" + "".join(_image(f) for f in rest))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path


__all__ = ["VERDICT_CLASS", "CostRow", "Section", "SystemRow", "Table", "cost_rows", "cost_table", "mev", "not_judged_line", "run_sections",
           "summary_rows", "summary_table", "verdict_table", "write_report"]
