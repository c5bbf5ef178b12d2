"""read_structures on bad files (one ValueError line naming the file), the water unit check, `symbreak build` bad flags."""

import numpy as np
import pytest
from ase.units import Bohr
from symbreak.cli import main
from symbreak.potentials.base import Structure
from symbreak.structures import check_water_units, liquid_box, molecule, read_structures, write_ipi_xyz
from symbreak.structures.builders import ice_ih


@pytest.fixture
def liquid_file(tmp_path):
    """An i-PI xyz with 3 frames of 8 molecules (24 atoms each)."""
    path = tmp_path / "init.xyz"
    write_ipi_xyz(str(path), [liquid_box(8, seed=k) for k in range(3)])
    return path


def _bad(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    with pytest.raises(ValueError) as info:
        read_structures(str(path))
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_empty_and_blank_files(tmp_path):
    assert "the file is empty" in _bad(tmp_path, "empty.xyz", "")
    assert "the file is empty" in _bad(tmp_path, "blank.xyz", "\n \n\n")


def test_truncated_frames_are_named(tmp_path, liquid_file):
    lines = liquid_file.read_text().splitlines(keepends=True)
    # the last frame cut after 19 of its 24 atom lines
    msg = _bad(tmp_path, "end.xyz", "".join(lines[:-5]))
    assert "frame 3 is truncated (expected 24 atom lines, found 19)" in msg
    # frame 2 lost 12 atom lines in the middle of the file: the next count line shows up early
    msg = _bad(tmp_path, "mid.xyz", "".join(lines[:26 + 14] + lines[26 + 26:]))
    assert "frame 2 is truncated (expected 24 atom lines, found 12" in msg
    # cut in the middle of the last atom line
    text = liquid_file.read_text()
    assert "frame 3 is truncated" in _bad(tmp_path, "cut.xyz", text[:-20])
    # an atom count larger than the lines present, plain xyz (ASE path)
    assert "frame 1 is truncated (expected 5 atom lines, found 3)" in _bad(
        tmp_path, "plain.xyz", "5\nwater\nO 0 0 0\nH 0.96 0 0\nH 0 0.96 0\n")
    assert "announces -3 atoms" in _bad(tmp_path, "neg.xyz", "-3\n\n")


def test_non_numeric_coordinates_unknown_format_and_nul(tmp_path, liquid_file):
    lines = liquid_file.read_text().splitlines(keepends=True)
    lines[5] = "H  1.0  abc  2.0\n"
    assert "line 6: non-numeric coordinates '1.0 abc 2.0'" in _bad(tmp_path, "nan.xyz", "".join(lines))
    assert "line 3: non-numeric coordinates" in _bad(tmp_path, "plain.xyz", "3\nw\nO 0 0 x\nH 1 0 0\nH 0 1 0\n")
    assert "ASE cannot identify the file format" in _bad(tmp_path, "init.foo", "hello world\n")
    assert "NUL bytes at line 2" in _bad(tmp_path, "nul.xyz", b"3\ncomment\0\0\0\nO 0 0 0\n")
    assert "non-finite" in _bad(tmp_path, "inf.xyz", "3\nw\nO 0 0 inf\nH 0.96 0 0\nH 0 0.96 0\n")
    with pytest.raises(FileNotFoundError, match="no such structure file"):
        read_structures(str(tmp_path / "missing.xyz"))
    with pytest.raises(ValueError, match="is a folder"):
        read_structures(str(tmp_path))


def test_good_files_still_read(liquid_file):
    assert len(read_structures(str(liquid_file))) == 3
    assert len(read_structures(str(liquid_file), index="-1")) == 1
    assert len(read_structures("tests/data/reference_test_frames.xyz")) == 6  # distorted frames pass the unit check


def test_bohr_and_nm_labelled_angstrom_are_refused(tmp_path):
    m = molecule()
    bohr = tmp_path / "bohr.xyz"
    write_ipi_xyz(str(bohr), Structure(m.positions / Bohr, m.numbers, None))
    msg = _bad_read(bohr)
    assert "O-H distances of 1.78 A" in msg and "Bohr" in msg and "positions{atomic_unit}" in msg
    box = liquid_box(8)
    nm = tmp_path / "nm.xyz"
    write_ipi_xyz(str(nm), Structure(box.positions / 10, box.numbers, box.cell / 10))
    assert "in nm?" in _bad_read(nm)
    # the same files read when asked not to check
    assert read_structures(str(bohr), check_units=False)[0].n_atoms == 3


def _bad_read(path):
    with pytest.raises(ValueError) as info:
        read_structures(str(path))
    return str(info.value)


def test_check_water_units_medians():
    ice = ice_ih((2, 2, 2))
    assert check_water_units(ice) == pytest.approx(0.94, abs=0.05)
    assert check_water_units(Structure(np.zeros((2, 3)), np.array([6, 8]), None)) is None  # not water: no check
    # one dissociated molecule among eight does not move the median
    box = liquid_box(8, seed=3)
    pos = box.positions.copy()
    pos[1] += 1.5
    assert 0.8 < check_water_units(Structure(pos, box.numbers, box.cell)) < 1.3
    # a shuffled order (all O first) is still water
    order = np.argsort(box.numbers, kind="stable")
    assert check_water_units(Structure(box.positions[order], box.numbers[order], box.cell)) < 1.0
    with pytest.raises(ValueError, match="not intact water"):
        check_water_units(Structure(box.positions * 2.5, box.numbers, box.cell * 2.5), "x.xyz")


@pytest.mark.parametrize("args, message", [
    (["ice", "--repeats", "0", "1", "1"], "--repeats must be positive integers, got 0 1 1"),
    (["ice", "--repeats", "-2", "2", "2"], "--repeats must be positive integers"),
    (["ice", "--repeats", "100", "100", "100"], "make 8000000 molecules: at most 2048"),
    (["ice", "--repeats", "1", "1", "1"], "the ice supercell is too small"),
    (["liquid", "--molecules", "0"], "--molecules must be a positive integer, got 0"),
    (["liquid", "--molecules", "-4"], "--molecules must be a positive integer"),
    (["liquid", "--molecules", "100000"], "at most 20000 molecules"),
    (["liquid", "--density", "0"], "--density must be a finite number > 0"),
    (["liquid", "--density", "-1"], "--density must be a finite number > 0"),
    (["liquid", "--density", "nan"], "--density must be a finite number > 0"),
    (["liquid", "--min-oo", "-1"], "--min-oo must be a finite number >= 0"),
    (["molecule", "--box", "0"], "--box must be a finite number > 0"),
    (["molecule", "--seed", "-1"], "--seed must be >= 0"),
    (["molecule", "--relax", "-5"], "--relax must be >= 0"),
])
def test_build_bad_arguments_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "x.xyz"
    assert main(["build", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("symbreak build: error: ") and message in err
    assert not out.exists()


def test_build_bad_output_one_line(tmp_path, capsys):
    assert main(["build", "molecule", "-o", str(tmp_path / "no" / "x.xyz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["build", "molecule", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and err.count("\n") == 1


@pytest.mark.parametrize("name, text, message", [
    ("empty.xyz", "", "the file is empty"),
    ("cut.xyz", "3\nw\nO 0 0 0\nH 0.96 0 0\n", "frame 1 is truncated (expected 3 atom lines, found 2)"),
    ("init.foo", "no idea\n", "ASE cannot identify the file format"),
    ("nan.xyz", "3\nw\nO 0 0 zero\nH 0.96 0 0\nH 0 0.96 0\n", "line 3: non-numeric coordinates"),
    ("bohr.xyz", "3\nw\nO 0 0 0\nH 1.81 0 0\nH 0 1.81 0\n", "O-H distances of 1.81 A (water: ~0.96 A): are the positions in Bohr?"),
])
def test_cli_reading_a_bad_file_is_one_line(tmp_path, capsys, name, text, message):
    """Through a command that reads structures (`symbreak label`): exit 2, one line naming the file."""
    path = tmp_path / name
    path.write_text(text)
    assert main(["label", str(path), str(tmp_path / "out.xyz"), "--potential", "toy", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"symbreak label: error: {path}: ") and message in err
