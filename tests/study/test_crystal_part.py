"""The study's crystal part: its rows cached in crystal.json and read back, its sentence, table and figure."""

from __future__ import annotations

from symbreak.audit.crystal_symmetry import CrystalSymmetryRow
from symbreak.study.plan import QUICK
from symbreak.symmetry.space_group import TOLERANCES, SpaceGroupScan


def _row(method: str, numbers: tuple[int, ...], lost: float | None) -> CrystalSymmetryRow:
    symbols = tuple("R-3 (148)" if n == 148 else "P1 (1)" for n in numbers)
    return CrystalSymmetryRow("II", method, False, 12, True, 148, "R-3 (148)", SpaceGroupScan(TOLERANCES, numbers, symbols, 1e-3),
                              lost, -0.5, 1.0)


ROWS = [_row("reference", (148,) * 5, None), _row("plain", (148, 1, 1, 1, 1), 1e-2), _row("2i", (148,) * 4 + (1,), 1e-5)]


def test_rows_are_computed_once_and_read_back(tmp_path, monkeypatch):
    import symbreak.study.crystal_part as part

    calls = []
    monkeypatch.setattr(part, "crystal_symmetry_probe", lambda *a, **k: calls.append(k) or ROWS)
    first = part.crystal_part(tmp_path, "default", QUICK)
    again = part.crystal_part(tmp_path, "default", QUICK)
    assert len(calls) == 1 and calls[0]["averaged_steps"] == QUICK.crystal_averaged_steps
    assert again == first == tuple(ROWS)
    part.crystal_part(tmp_path, "toy", QUICK)  # another potential: computed again
    assert len(calls) == 2


def test_the_report_says_where_each_method_loses_the_group(tmp_path):
    from symbreak.study.render import CRYSTAL_FIGURE, crystal_figure_of, crystal_table, study_findings, summary_text
    from symbreak.study.summary import summarize

    summary = summarize([], [], {}, (), None, tuple(ROWS))
    sentence = [line for line in study_findings(summary) if "space group" in line][0]
    assert "reference keeps it at every tolerance" in sentence and "plain loses it at 1e-02 A" in sentence
    assert "2i loses it at 1e-05 A" in sentence
    table = crystal_table(summary.crystal)
    assert table.headers[3] == "1e-01 A" and table.rows[1][-3] == "1e-02"
    assert "crystal symmetry under relaxation" in summary_text(summary)
    assert crystal_figure_of(summary, tmp_path / CRYSTAL_FIGURE).is_file()


def test_no_rows_no_sentence():
    from symbreak.audit.report import crystal_verdict

    assert crystal_verdict(()) is None
