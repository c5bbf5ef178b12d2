"""The verdict's sentences, the figure and audit.html, on reports built from real toy probes."""

import base64
import html
import re

import pytest
from symbreak.audit.report import figure_png, verdict, write_html

from .conftest import make_report, nve_pair

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_verdict_of_an_invariant_model_says_so_with_its_roundoff(toy_probe):
    """One sentence: invariant on the systems probed, the plain errors (roundoff) and that no averaging is needed."""
    p = toy_probe("invariant")
    lines = verdict("toy", [p], [], [], None)
    assert len(lines) == 1
    assert lines[0].startswith("toy is rotation-invariant to its arithmetic's precision on molecule")
    assert f"{p.error('plain').energy_meV_per_molecule:.2g} meV/molecule" in lines[0]
    assert f"{p.error('plain').force_mae_meV_per_A:.2g} meV/A" in lines[0]
    assert "no averaging is needed" in lines[0]


def test_verdict_of_the_l2_toy_names_its_errors_its_order_and_the_fix(toy_probe):
    """Broken: the plain errors, E and F all in l = 2 (even: no parity note), 2i fixes it, i does not (1x)."""
    p = toy_probe("l2")
    lines = verdict("toy", [p], [], [], None)
    assert len(lines) == 3
    plain = p.error("plain")
    assert lines[0] == (f"toy breaks rotational symmetry: plain vs 3i: molecule {plain.energy_meV_per_molecule:.2g} "
                        f"meV/molecule and {plain.force_mae_meV_per_A:.2g} meV/A.")
    assert lines[1] == "Angular orders of the rotational variance: molecule (E: l=2 100 %; F: l=2 100 %)."
    assert "with 2i (to " in lines[2] and ", 1x with i" in lines[2]


def test_verdict_marks_a_parity_odd_order(toy_probe):
    """The l = 1 toy: its dominant order is flagged parity-odd, and i fixes it as well as 2i."""
    lines = verdict("toy", [toy_probe("l1")], [], [], None)
    assert "E: l=1 100 % (parity-odd); F: l=1 100 % (parity-odd)" in lines[1]


def test_verdict_reports_an_unresolved_order_above_the_grid(toy_probe):
    """The l = 3 toy probed with l_max 2: most of it lies above l = 2, and the verdict says so (no resolved order named)."""
    lines = verdict("toy", [toy_probe("l3", 2)], [], [], None)
    assert re.search(r"E: mostly above l=2 \(\d+ %, raise --lmax\)", lines[1])


def test_verdict_adds_the_model_error_and_the_nve_drift(toy_probe):
    """With a model error and plain/2i NVE runs: one sentence each, with the reference and the drift ratio."""
    from symbreak.audit.results import ModelError

    error = ModelError(system="molecule", reference="qtip4pf", frames=2, energy_offset_meV_per_molecule=-33.2,
                       energy_fluctuation_meV_per_molecule=72.0, force_mae_meV_per_A=388.0, force_rmse_relative=0.35,
                       symmetry_over_model=0.0197)
    lines = verdict("toy", [toy_probe("l2")], [error], list(nve_pair(0.26, 0.08)), "qtip4pf", foreign=True)
    model, nve = lines[-2], lines[-1]
    assert model.startswith("Model error against qtip4pf (this model was not trained on it")
    assert "force MAE 390 meV/A (35 % RMSE" in model and "plain symmetry error 2 % of it" in model
    assert "energy offset -33.2 ± 72 meV/molecule" in model
    assert nve.startswith("NVE of the molecule over 20 fs")
    assert "0.26 hbar with plain" in nve and "0.08 hbar with 2i (3.2x; L0 = 5.9 hbar)" in nve
    # not foreign: no excuse for the model error
    assert "not trained" not in verdict("toy", [toy_probe("l2")], [error], [], "qtip4pf", foreign=False)[-1]


@pytest.mark.parametrize("names", [("l2",), ("invariant",), ("l1", "invariant"), ()])
def test_figure_png_is_a_png_of_the_expected_size(toy_probe, names):
    """figure_png returns PNG bytes, 11 x 4.2 in at 110 dpi, for broken, invariant, mixed and crystal-only
    (no probe) reports, without a warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = figure_png(make_report([toy_probe(n) for n in names]))
    assert png.startswith(PNG_MAGIC)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1210, 462)


def test_write_html_is_self_contained_with_the_verdict_and_the_figure(toy_probe, tmp_path):
    """audit.html holds every verdict line (escaped), the figure embedded as base64 PNG, and loads nothing."""
    report = make_report([toy_probe("l2", 3), toy_probe("invariant")], nve=nve_pair(), reference=None)
    png = figure_png(report)
    path = tmp_path / "audit.html"
    write_html(report, path, png)
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for line in report.verdict:
        assert html.escape(line) in page
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == 1 and base64.b64decode(embedded[0]) == png
    assert not re.search(r"https?://|<script|<link|src=\"(?!data:)", page)
    for heading in ("Symmetry error against 3i", "Angular orders", "NVE of the isolated molecule", "Notes"):
        assert heading in page
    assert "l=3" in page  # the 4i grid of l_max 3 resolves l = 3: a column for it

    # without the figure given, write_html draws it itself
    write_html(report, tmp_path / "again.html")
    again = re.findall(r"base64,([A-Za-z0-9+/=]+)", (tmp_path / "again.html").read_text())
    assert base64.b64decode(again[0]).startswith(PNG_MAGIC)
