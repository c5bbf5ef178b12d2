"""audit.json: AuditReport written and read back unchanged; other format versions refused."""

import json
from dataclasses import asdict

import pytest
from symbreak.audit.accuracy import model_error
from symbreak.audit.results import AUDIT_VERSION, AuditReport, read_json, write_json
from symbreak.audit.systems import build_systems

from .conftest import make_report, nve_pair, toy


@pytest.fixture(scope="module")
def report(toy_probe):
    """A report from real probes of the invariant and the l = 2 toy, a real model error and two NVE results."""
    system = build_systems(("molecule",), quick=True, frames=2)[0]
    pot = toy("l2")
    error = model_error(pot, toy("invariant"), "toy-invariant", system, plain_symmetry_force=1.0)
    return make_report([toy_probe("l2", 3), toy_probe("invariant")], model_errors=[error], nve=nve_pair(),
                       reference="toy-invariant")


def test_report_round_trips_through_json(report, tmp_path):
    """write_json then read_json gives an equal AuditReport (tuples, nested dataclasses, None and floats kept)."""
    path = tmp_path / "audit.json"
    write_json(report, path)
    back = read_json(path)
    assert isinstance(back, AuditReport)
    assert back == report
    assert back.system("molecule") == report.systems[0]
    assert back.model_error("molecule").symmetry_over_model == report.model_errors[0].symmetry_over_model
    assert back.nve_drift_ratio == pytest.approx(0.26 / 0.08)
    assert back.version == AUDIT_VERSION
    assert not (tmp_path / "audit.json.tmp").exists()


def test_report_with_nothing_optional_round_trips(toy_probe, tmp_path):
    """No reference, no model error, no NVE: None and empty tuples come back as such."""
    report = make_report([toy_probe("invariant")])
    assert report.reference is None and report.nve_drift_ratio is None
    write_json(report, tmp_path / "a.json")
    assert read_json(tmp_path / "a.json") == report


@pytest.mark.parametrize("version", [AUDIT_VERSION + 1, None])
def test_read_json_refuses_another_format_version(report, tmp_path, version):
    """An audit.json of another (or no) format version: ValueError naming both versions, not a half-read report."""
    data = json.loads(json.dumps(asdict(report)))
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"audit format {version}, this symbreak reads {AUDIT_VERSION}"):
        read_json(path)
