"""The registry of observables: one declaration per name, templates, and every name the code reads is declared."""

import ast
from pathlib import Path

import pytest
from symbreak.analysis.observables import (
    OBSERVABLES,
    RUN_KINDS,
    UnknownObservable,
    check_name,
    computed_for,
    find_spec,
    observable_spec,
)

PACKAGE = Path(__file__).resolve().parents[2] / "driver" / "symbreak"


def test_each_observable_is_declared_once():
    keys = [(s.kind, s.name) for s in OBSERVABLES]
    assert len(keys) == len(set(keys))
    for s in OBSERVABLES:
        assert s.runs and set(s.runs) <= set(RUN_KINDS) and s.help, s.name
        assert not (s.paired and s.kind != "scalar"), f"{s.name}: only scalars keep block values"


def test_templates_are_filled_and_shown():
    k = observable_spec("scalar", "kinetic_cv_H")
    assert (k.name, k.unit, k.runs, k.paired) == ("kinetic_cv_H", "eV/atom", ("pimd",), True)
    assert k.shown_label == "K_cv(H)" and k.shown(0.12) == (pytest.approx(120.0), "meV")
    assert observable_spec("scalar", "rg_O").shown(0.1) == (0.1, "A")
    assert observable_spec("curve", "g_OH").y_axis == "g_OH(r)"
    assert observable_spec("curve", "L_x").y_axis == "L_x / hbar"
    # exact names win over templates that would also match them
    assert observable_spec("scalar", "model_error_mae").label == "" and not observable_spec("scalar", "model_error_mae").is_template
    assert observable_spec("scalar", "symmetry_error_extras").compared is False
    assert observable_spec("scalar", "symmetry_error_2i").compared is True


@pytest.mark.parametrize("kind, name", [("scalar", "torque_rsm"), ("curve", "g_XX"), ("curve", "L_q"),
                                        ("scalar", "g_OO"), ("map", "F_cos")])
def test_undeclared_names_are_refused(kind, name):
    assert find_spec(kind, name) is None
    with pytest.raises(UnknownObservable, match=name):
        observable_spec(kind, name)


def test_check_name():
    assert check_name("torque_rms") == "torque_rms"
    with pytest.raises(UnknownObservable):
        check_name("torque_rms_eV")


def test_frame_observables_are_declared_for_md_runs_only():
    names = {s.name for s in computed_for("liquid")}
    assert {"bond_OH", "bond_OH_distribution"} <= names
    assert computed_for("geop") == () and computed_for("replay") == ()


def _literal_reads(tree):
    """(method, name) of every r.value("x") / r.observable("x") / c.verdict("x", ...) with a string literal."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("value", "observable", "verdict") and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.func.attr, node.args[0].value, node.lineno


def test_every_name_the_package_reads_is_declared():
    """A typo in an observable's name anywhere in the package fails here, not when a report is read."""
    read = []
    for path in PACKAGE.rglob("*.py"):
        for method, name, line in _literal_reads(ast.parse(path.read_text())):
            read.append(name)
            assert find_spec("scalar", name) is not None or find_spec("curve", name) is not None, \
                f"{path.relative_to(PACKAGE)}:{line}: {method}({name!r}) is not a declared observable"
    assert {"L_max_change", "torque_rms", "reference_after"} <= set(read)  # the scan sees the study's reads


def test_the_report_shows_what_the_declaration_says():
    from symbreak.analysis.report import verdict_table
    from symbreak.analysis.results import Comparison, ObservableComparison, Verdict

    judged = {name: ObservableComparison(name, "scalar", "A", {"a|b": Verdict("same", 0.3)})
              for name in ("bond_OH", "old_name")}
    table = verdict_table(Comparison("liquid-nvt size 8", "liquid-nvt", ("a", "b"), ("a|b",), judged))
    assert table.headers[:3] == ("observable", "what", "unit")
    assert table.rows[0][:3] == ("bond_OH", observable_spec("scalar", "bond_OH").help, "A")
    assert table.rows[1][1] == ""  # a name an older symbreak wrote: shown, without a declaration
