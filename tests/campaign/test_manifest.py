"""manifest.json: JSON -> Manifest -> JSON keeps every key; old files read, newer and foreign ones refused in one line."""

import json
from dataclasses import replace

import pytest
from symbreak.campaign.config import RunConfig
from symbreak.campaign.manifest import (
    MANIFEST_VERSION,
    Attempt,
    manifest_from_json,
    manifest_json,
    now,
    options_record,
    read_manifest,
    write_manifest,
)
from symbreak.campaign.options import defining_options, option_differences
from symbreak.campaign.preparation import prepare
from symbreak.core.errors import InputError

#: a manifest as the runner writes it after one interrupted and one finished attempt
WRITTEN = {
    "version": 2,
    "case": "gas-mts",
    "description": "one H2O in vacuum, NVT, MTS",
    "config": {"case": "gas-mts", "out": "runs/mts", "strategy": "2i", "potential": "toy", "steps": 40,
               "beads": None, "size": None, "servers": 2, "seed": 7, "transport": "unix", "host": "127.0.0.1",
               "threads": 1, "workers": 1, "reference": None, "trajectory": None, "init_structure": None,
               "replay_strategies": ["plain", "i", "2", "2i", "3i"], "quiet": True, "fixed_addresses": False,
               "verbosity": "low", "mts_ratio": None, "stride": None, "stall_timeout": None, "force_new": False},
    "steps": 40,
    "beads": 1,
    "seed": 7,
    "extras_stride": 1,
    "timestep_fs": 5.0,
    "forcefields": [
        {"component": 0, "name": "plain", "role": "inner", "strategy": "plain", "weight": 1.0, "mts_weights": [0.0, 1.0]},
        {"component": 1, "name": "correction", "role": "outer", "strategy": "delta:2i", "weight": 1.0,
         "mts_weights": [1.0, 0.0]},
        {"component": 2, "name": "reference", "role": "reference", "strategy": None, "weight": 0.0,
         "mts_weights": [0.0, 0.0]},
    ],
    "versions": {"python": "3.11.7", "ipi": "3.3"},
    "commands": {"i-pi": ["/usr/bin/i-pi", "resume.xml"],
                 "clients": [{"name": "plain0", "command": ["symbreak", "serve", "--unix", "--address", "a"]},
                             {"name": "reference0", "command": ["symbreak", "reference", "--vacuum"]}]},
    "options": {"case": "gas-mts", "potential": "toy", "strategy": "2i", "steps": 40, "beads": 1, "size": None,
                "servers": 2, "seed": 7, "transport": "unix", "reference": True, "trajectory": None,
                "init_structure": None, "replay_strategies": None, "mts_ratio": 10, "stride": None},
    "started": "2026-01-02T03:04:05",
    "finished": "2026-01-02T03:14:05",
    "resumes": ["2026-01-02T03:10:00"],
    "attempts": [
        {"started": "2026-01-02T03:04:05", "host": "h", "runner_pid": 11, "from_step": 0,
         "sockets": {"plain": "gas-mts-plain-x", "correction": "gas-mts-correction-x"}, "ended": "?",
         "outcome": "no record: the runner was killed (or could not write the manifest)"},
        {"started": "2026-01-02T03:10:00", "host": "h", "runner_pid": 12, "from_step": 20,
         "sockets": {"plain": "127.0.0.1:40001"}, "ended": "2026-01-02T03:14:05", "outcome": "finished",
         "last_step": 40},
    ],
    "wall_seconds": 12.5,
    "ms_per_step": 31.25,
}


def test_json_manifest_json_round_trip():
    manifest = manifest_from_json(json.loads(json.dumps(WRITTEN)))
    assert manifest.component("reference") == 2 and manifest.forcefields[1].mts_weights == (1.0, 0.0)
    assert manifest.config.replay_strategies == ("plain", "i", "2", "2i", "3i")
    assert manifest.attempts[1].last_step == 40 and dict(manifest.attempts[1].sockets)["plain"] == "127.0.0.1:40001"
    assert manifest_json(manifest) == WRITTEN
    assert manifest_from_json(manifest_json(manifest)) == manifest


def test_write_then_read(tmp_path):
    manifest = manifest_from_json(WRITTEN)
    later = replace(manifest, finished=None).with_attempt(Attempt(now(), "h", 13, 40))
    write_manifest(tmp_path, later)
    assert read_manifest(tmp_path) == later
    assert "finished" not in json.loads((tmp_path / "manifest.json").read_text())
    assert read_manifest(tmp_path / "nothing-here") is None


def test_an_old_version_1_file_reads():
    """Written before the version key, and older still: no options, timestep or extras stride, attempts unclosed."""
    old = {k: v for k, v in WRITTEN.items()
           if k not in ("version", "options", "timestep_fs", "extras_stride", "ms_per_step")}
    old["attempts"] = [{"started": "2025-01-01T00:00:00", "host": "h", "runner_pid": 3, "from_step": 0}]
    manifest = manifest_from_json(old)
    assert manifest.version == MANIFEST_VERSION and manifest.options is None
    assert manifest.timestep_fs is None and manifest.extras_stride is None  # the case's, for runs that predate them
    (attempt,) = manifest.with_attempts_closed().attempts
    assert attempt.ended == "?" and attempt.outcome.startswith("no record")
    written = manifest_json(manifest)
    assert written["version"] == MANIFEST_VERSION and "timestep_fs" not in written and "options" not in written
    # its options are those its config resolves to: the same command resumes it
    config = RunConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in WRITTEN["config"].items()})
    assert option_differences(manifest, config) == []
    assert option_differences(manifest, replace(config, strategy="3i")) == ["strategy 2i -> 3i"]


def test_a_newer_version_is_refused_in_one_line(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({**WRITTEN, "version": MANIFEST_VERSION + 1}))
    with pytest.raises(InputError) as err:
        read_manifest(tmp_path)
    message = str(err.value)
    assert "\n" not in message and f"version {MANIFEST_VERSION + 1}" in message and "update symbreak" in message


@pytest.mark.parametrize("text", ["{not json", '["a", "list"]', '{"case": "gas-nve"}', '{"hello": 1}',
                                  json.dumps({**WRITTEN, "forcefields": [{"name": "x", "role": "wizard"}]})])
def test_a_file_that_is_not_a_manifest_is_refused_in_one_line_naming_it(tmp_path, text):
    path = tmp_path / "manifest.json"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_manifest(tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_prepare_builds_the_manifest_the_runner_writes(tmp_path):
    config = RunConfig(case="gas-mts", out=str(tmp_path / "r"), strategy="2i", potential="toy", servers=2)
    _, _, manifest = prepare(config)
    assert [f.role for f in manifest.forcefields] == ["inner", "outer", "reference"]
    assert [c.name for c in manifest.commands.clients] == ["plain0", "plain1", "correction0", "correction1",
                                                           "reference0", "reference1"]
    assert manifest.timestep_fs == 5.0 and manifest.steps == 40
    manifest = replace(manifest, options=options_record(defining_options(config)))
    assert manifest_from_json(json.loads(json.dumps(manifest_json(manifest)))) == manifest
