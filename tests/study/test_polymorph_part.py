"""The polymorph part: no i-PI runs, energies of plain, 2i and q-TIP4P/F cached, the report's sentence, tables, figure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from symbreak.study.plan import FULL, PARTS, QUICK, parse_parts, plan_runs

pytest.importorskip("genice2", reason="ice polymorphs need GenIce (pip install 'symbreak[ice]')")


def test_the_part_is_planned_in_process_with_the_eight_polymorphs():
    assert "polymorphs" in PARTS
    assert plan_runs(QUICK, parse_parts("polymorphs"), 1.0, 7, Path("out")) == []
    for plan in (QUICK, FULL):
        assert [name for name, _ in plan.polymorph_repeats] == ["Ih", "Ic", "II", "III", "V", "VI", "VII", "XI"]
        assert len(plan.polymorph_seeds) >= 2


TINY = replace(QUICK, polymorph_repeats=(("Ih", (1, 1, 1)), ("II", (1, 1, 1)), ("VI", (1, 1, 1))),
               polymorph_seeds=(3, 4), polymorph_relax_steps=4, polymorph_averaged_steps=2)


@pytest.mark.slow
def test_a_tiny_polymorph_part_is_computed_once_and_reported(tmp_path, monkeypatch):
    import symbreak.study.polymorph_part as part
    from symbreak.study.render import POLYMORPH_FIGURE, polymorph_figure_of, polymorph_finding, polymorph_tables, summary_text
    from symbreak.study.summary import summarize

    lines = []
    summary = part.polymorph_part(tmp_path, "toy", TINY, log=lines.append)
    assert any("relaxed VI seed 4" in line for line in lines)
    c = summary.relaxed
    assert c.phases == ("Ih", "II", "VI") and c.cells.polymorphs == ("Ih", "Ih", "II", "VI", "VI")
    assert c.cells.seeds == (3, 4, 3, 3, 4)  # II is proton-ordered: one cell
    assert summary.molecules == (16, 16, 12, 10, 10)
    assert set(c.phase_energy) == {"reference", "plain", "2i"}
    assert c.phase_energy["reference"]["Ih"] == pytest.approx(0.0, abs=1e-12)
    # the toy is not invariant: averaging moves relative energies; q-TIP4P/F puts II and VI well above Ih
    assert c.symmetry_rms > 0 and c.phase_energy["reference"]["VI"] > 0.005
    assert [(o.polymorph, o.seed_a, o.seed_b) for o in c.orderings] == [("Ih", 3, 4), ("VI", 3, 4)]
    cached = json.loads((tmp_path / part.CACHE_NAME).read_text())
    assert cached["settings"]["relax_steps"] == 4 and cached["settings"]["potential"] == "toy"

    # the same settings again: read from the cache, nothing recomputed
    monkeypatch.setattr(part, "polymorph_energies", lambda *a, **k: pytest.fail("recomputed"))
    again = part.polymorph_part(tmp_path, "toy", TINY)
    assert again.relaxed.phase_energy == c.phase_energy
    # other settings: computed again (here refused, to show it tried)
    with pytest.raises(pytest.fail.Exception, match="recomputed"):
        part.polymorph_part(tmp_path, "toy", replace(TINY, polymorph_seeds=(5, 6)))

    sentence = polymorph_finding(summary)
    assert sentence.startswith("Across 3 ice polymorphs (5 relaxed cells of 10-16 molecules")
    assert "Kendall tau" in sentence and "2i moves" in sentence
    titles = [t.caption for t in polymorph_tables(summary)]
    assert any("relaxed cells" in t for t in titles) and any("Proton orderings" in t for t in titles)
    study = summarize([], [], {}, (), summary)
    assert "ice polymorphs, relaxed cells" in summary_text(study)
    assert polymorph_figure_of(study, tmp_path / POLYMORPH_FIGURE).is_file()
