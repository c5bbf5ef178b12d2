"""The crystal symmetry probe: an exactly invariant potential keeps the space group of ordered ice under relaxation."""

import pytest

pytest.importorskip("spglib", reason="space groups need spglib (pip install 'symbreak[ice]')")
pytest.importorskip("genice2", reason="ice polymorphs need GenIce (pip install 'symbreak[ice]')")


@pytest.mark.slow
def test_an_invariant_potential_keeps_the_crystals_group_with_every_strategy():
    from symbreak.audit.crystal_symmetry import METHODS, crystal_symmetry_probe, crystal_symmetry_table
    from symbreak.audit.report import crystal_verdict

    # q-TIP4P/F as "the model": plain, random and 2i of an invariant potential are the potential itself
    rows = crystal_symmetry_probe("qtip4pf", polymorphs=("II",), steps=200, averaged_steps=60, random_steps=60)
    assert [(r.method, r.cell_relaxed) for r in rows] == [(m, c) for c in (False, True) for m in METHODS]
    for r in rows:
        assert r.crystal_group == 148 and r.crystal_symbol == "R-3 (148)"
        assert r.lost_at is None or r.lost_at <= 1e-4, (r.method, r.cell_relaxed, r.scan.symbols)
        assert r.scan.rms_displacement < 1e-3
    fixed = {r.method: r.energy_per_molecule for r in rows if not r.cell_relaxed}
    assert max(fixed.values()) - min(fixed.values()) < 1e-4  # the same minimum, whatever the strategy
    assert "R-3 (148)" in crystal_table_and_verdict(rows, crystal_symmetry_table, crystal_verdict)


def crystal_table_and_verdict(rows, table, verdict) -> str:
    text = table(rows) + "\n" + verdict(rows)
    assert "lost at" in text and ("keeps it at" in text or "loses it at 1e-0" in text)
    return text
