"""The potential-spec grammar and the `ase:` factory loader: parsing, one-line errors, ASE's own numbers.

    pytest tests/potentials/test_spec.py -q
"""

import json
import os
import textwrap

import numpy as np
import pytest
from ase.calculators.lj import LennardJones
from symbreak.potentials import PotentialError, PotentialSpec, load_potential, parse_potential_spec
from symbreak.potentials.spec import METATOMIC_OPTIONS


def one_line_error(text):
    """The PotentialError of ``load_potential(text)`` (parse or build), checked to be a single line."""
    with pytest.raises(PotentialError) as info:
        load_potential(text)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# -- grammar ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["toy", "default", "qtip4pf", "  toy  "])
def test_named_potentials(name):
    """The three names parse to their own kind with no path, module or options."""
    spec = parse_potential_spec(name)
    assert spec.kind == name.strip() and spec.text == name.strip()
    assert spec.path is None and spec.module is None and spec.options == ()
    assert spec.label == name.strip()


def test_existing_path_is_a_checkpoint(tmp_path):
    """A file or folder that exists is a `symbreak train` checkpoint; its label is the last path part."""
    folder = tmp_path / "run-7"
    folder.mkdir()
    spec = parse_potential_spec(str(folder))
    assert (spec.kind, spec.path, spec.label) == ("checkpoint", str(folder), "run-7")
    spec = parse_potential_spec(str(folder) + "/")
    assert spec.label == "run-7"


@pytest.mark.parametrize(
    "text, path, options",
    [
        ("metatomic:model.pt", "model.pt", ()),
        ("metatomic:m.pt:dtype=float64,device=cuda:1", "m.pt", (("dtype", "float64"), ("device", "cuda:1"))),
        ("metatomic:models/v1/model.pt:dtype=float64", "models/v1/model.pt", (("dtype", "float64"),)),
        (
            "metatomic:/abs/dir/model.pt:dtype=float32,chunk_size=8,max_atoms=100,device=cpu",
            "/abs/dir/model.pt",
            (("dtype", "float32"), ("chunk_size", "8"), ("max_atoms", "100"), ("device", "cpu")),
        ),
        (
            "metatomic:m.pt:variant=pbe,check_consistency=true,extensions=ext",
            "m.pt",
            (("variant", "pbe"), ("check_consistency", "true"), ("extensions", "ext")),
        ),
        ("metatomic:m.pt: dtype = float64 , chunk_size=2", "m.pt", (("dtype", "float64"), ("chunk_size", "2"))),
        # a colon inside the path: only a last part of key=value pairs is options
        ("metatomic:/data/run:3/model.pt", "/data/run:3/model.pt", ()),
        ("metatomic:/data/run:3/model.pt:chunk_size=4", "/data/run:3/model.pt", (("chunk_size", "4"),)),
    ],
)
def test_metatomic_forms(text, path, options):
    """metatomic:PATH[:key=value,...]: the path and the options, in order, whitespace stripped."""
    spec = parse_potential_spec(text)
    assert spec.kind == "metatomic" and spec.text == text
    assert spec.path == path and spec.options == options
    for key, value in options:
        assert spec.option(key) == value
    assert spec.option("not-given", "fallback") == "fallback"
    assert spec.label == "metatomic:" + os.path.basename(path)


def test_every_documented_metatomic_option_parses():
    """Each key of METATOMIC_OPTIONS is accepted by the parser."""
    tail = ",".join(f"{key}=x" for key in METATOMIC_OPTIONS)
    spec = parse_potential_spec(f"metatomic:m.pt:{tail}")
    assert [k for k, _ in spec.options] == list(METATOMIC_OPTIONS)


@pytest.mark.parametrize(
    "text, module, factory, kwargs",
    [
        ("ase:ase.calculators.emt:EMT", "ase.calculators.emt", "EMT", {}),
        ("ase:ase.calculators.emt:EMT:", "ase.calculators.emt", "EMT", {}),
        ('ase:ase.calculators.lj:LennardJones:{"sigma": 3.0}', "ase.calculators.lj", "LennardJones", {"sigma": 3.0}),
        (
            'ase:sevenn.calculator:SevenNetCalculator:{"model": "7net-0", "device": "cpu"}',
            "sevenn.calculator", "SevenNetCalculator", {"model": "7net-0", "device": "cpu"},
        ),
        # colons inside the JSON belong to the JSON
        ('ase:m:f:{"a": "x:y", "b": [1, 2]}', "m", "f", {"a": "x:y", "b": [1, 2]}),
        ("ase:/some/dir/calc.py:make", "/some/dir/calc.py", "make", {}),
    ],
)
def test_ase_forms(text, module, factory, kwargs):
    """ase:MODULE:FACTORY[:JSON]: module (or .py file), factory and the keyword arguments as a dict."""
    spec = parse_potential_spec(text)
    assert (spec.kind, spec.module, spec.factory) == ("ase", module, factory)
    assert spec.factory_kwargs() == kwargs
    assert json.loads(spec.arguments) == kwargs
    assert spec.label == f"ase:{factory}"


def test_spec_is_frozen():
    """A parsed spec cannot be changed after the fact (it is handed between processes as is)."""
    spec = parse_potential_spec("metatomic:m.pt")
    with pytest.raises(Exception):
        spec.path = "other.pt"


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("", ["empty potential", "metatomic:"]),
        ("   ", ["empty potential"]),
        ("foo:bar", ["unknown potential kind 'foo:'", "ase:MODULE:FACTORY"]),
        ("nonexistent_model_name", ["unknown potential 'nonexistent_model_name'", "no such name or file", "toy"]),
        ("ase:onlymodule", ["not ase:MODULE:FACTORY", "SevenNetCalculator"]),
        ("ase::factory", ["not ase:MODULE:FACTORY"]),
        ('ase:m:f:{"sigma": 3.0', ["not valid JSON"]),
        ("ase:m:f:{sigma: 3}", ["not valid JSON"]),
        ("ase:m:f:[1, 2]", ["must be a JSON object", "list"]),
        ("ase:m:f:3.0", ["must be a JSON object", "float"]),
        ("metatomic:m.pt:colour=blue", ["unknown metatomic option 'colour'", "dtype", "chunk_size"]),
        ("metatomic:", ["names no model file", "metatomic:PATH"]),
        ("metatomic::dtype=float64", ["names no model file"]),
        ("metatomic:m.pt:dtype=float64,chunk_size", ["bad option 'chunk_size'", "key=value"]),
        ("metatomic:m.pt:dtype=", ["bad option 'dtype='"]),
        ("default:colour=blue", ["unknown default option 'colour'", "device", "chunk_size"]),
        ("default:max_atoms=3", ["unknown default option 'max_atoms'"]),
        ("default:", ["bad option ''"]),
    ],
)
def test_bad_specs_are_one_line_errors(text, fragments):
    """Bad syntax is a PotentialError (a ValueError) of one line saying what is wrong and what is expected."""
    with pytest.raises(PotentialError) as info:
        parse_potential_spec(text)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_the_shipped_model_and_checkpoints_take_dtype_device_and_chunk_size(tmp_path, monkeypatch):
    """default:KEY=VALUE,... and PATH:KEY=VALUE,... (a path that exists before the last colon)."""
    spec = parse_potential_spec("default:device=cpu,dtype=float64,chunk_size=4")
    assert spec.kind == "default" and spec.options == (("device", "cpu"), ("dtype", "float64"), ("chunk_size", "4"))
    assert spec.int_option("chunk_size", None) == 4 and spec.label == "default"
    spec = parse_potential_spec("default-ice:dtype=float64")
    assert (spec.kind, spec.options, spec.label) == ("default-ice", (("dtype", "float64"),), "default-ice")
    assert parse_potential_spec("default-ice") == PotentialSpec(kind="default-ice", text="default-ice")
    with pytest.raises(PotentialError, match="unknown default-ice option 'variant'"):
        parse_potential_spec("default-ice:variant=pbe")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run-2").mkdir()
    spec = parse_potential_spec("run-2:device=cuda:1")
    assert (spec.kind, spec.path, spec.option("device")) == ("checkpoint", "run-2", "cuda:1")
    absolute = spec.with_absolute_paths()
    assert absolute.path == str(tmp_path / "run-2") and absolute.options == spec.options
    assert parse_potential_spec(absolute.text) == absolute
    with pytest.raises(PotentialError, match="unknown potential 'missing' in 'missing:device=cpu'"):
        parse_potential_spec("missing:device=cpu")
    with pytest.raises(PotentialError, match="default option chunk_size must be a positive integer, got '0'"):
        load_potential("default:chunk_size=0")


def test_the_shipped_models_device_option_is_checked_and_used():
    """device=cpu gives the same numbers as no option; a device that is not there is one line at load."""
    import torch
    from symbreak.potentials.testing import water_molecule

    molecule = water_molecule(seed=3)
    a, b = load_potential("default").compute([molecule]), load_potential("default:device=cpu").compute([molecule])
    assert a.energies[0] == b.energies[0] and np.array_equal(a.forces[0], b.forces[0])
    assert load_potential("default:dtype=float64").dtype == torch.float64
    assert "device" in one_line_error("default:device=tpu")
    if not torch.cuda.is_available():
        assert "sees no CUDA GPU" in one_line_error("default:device=cuda")


def test_with_absolute_paths(tmp_path, monkeypatch):
    """Files become absolute, everything else (kind, options and their order, kwargs, factory) is kept."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()

    spec = parse_potential_spec("ckpt").with_absolute_paths()
    assert spec.kind == "checkpoint" and spec.path == spec.text == str(tmp_path / "ckpt")

    spec = parse_potential_spec("metatomic:sub/m.pt:dtype=float64,extensions=ext,chunk_size=3").with_absolute_paths()
    assert spec.kind == "metatomic" and spec.path == str(tmp_path / "sub" / "m.pt")
    assert spec.options == (("dtype", "float64"), ("extensions", str(tmp_path / "ext")), ("chunk_size", "3"))
    assert parse_potential_spec(spec.text) == spec  # the text still says the same thing

    spec = parse_potential_spec('ase:calc.py:make:{"x": 1}').with_absolute_paths()
    assert (spec.module, spec.factory, spec.factory_kwargs()) == (str(tmp_path / "calc.py"), "make", {"x": 1})
    assert parse_potential_spec(spec.text) == spec

    for text in ("toy", "default", "ase:ase.calculators.emt:EMT", "metatomic:/abs/m.pt"):
        spec = parse_potential_spec(text)
        assert spec.with_absolute_paths() == spec


def test_load_toy_still_works(water_molecule):
    """load_potential takes the old names (and a parsed spec) as before."""
    for spec in ("toy", parse_potential_spec("toy")):
        pot = load_potential(spec)
        e, f, w = pot.compute_one(water_molecule)
        assert np.isfinite(e) and f.shape == (3, 3)


def test_options_belong_in_the_spec_for_metatomic_and_ase():
    """Keyword options to load_potential are refused for the kinds that take them in the spec."""
    with pytest.raises(PotentialError, match="takes its options in the spec"):
        load_potential("ase:ase.calculators.emt:EMT", dtype="float64")


# -- ase: loading calculators ------------------------------------------------------------------------


def test_ase_happy_path_equals_ase(water_box):
    """ase:ase.calculators.lj:LennardJones:{"sigma": 3.0} gives ASE's own E, F and -stress * V."""
    pot = load_potential('ase:ase.calculators.lj:LennardJones:{"sigma": 3.0}')
    assert pot.name == "ase:LennardJones"
    e, f, w = pot.compute_one(water_box)
    atoms = water_box.to_atoms()
    atoms.calc = LennardJones(sigma=3.0)
    assert e == pytest.approx(atoms.get_potential_energy(), abs=1e-12)
    np.testing.assert_allclose(f, atoms.get_forces(), atol=1e-12)
    np.testing.assert_allclose(w, -atoms.get_stress(voigt=False) * atoms.get_volume(), atol=1e-12)
    # the keyword argument really reached the calculator
    default = load_potential("ase:ase.calculators.lj:LennardJones").compute_one(water_box)[0]
    assert abs(default - e) > 1e-3


FACTORIES = textwrap.dedent(
    """
    import numpy as np
    from ase.calculators.calculator import Calculator, all_changes
    from ase.calculators.lj import LennardJones

    NOT_CALLABLE = 3


    def lj(sigma=1.0):
        return LennardJones(sigma=sigma)


    def explodes(**kwargs):
        raise RuntimeError("no licence for this model")


    def a_number():
        return 42


    class EnergyOnly(Calculator):
        implemented_properties = ["energy"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            self.results = {"energy": 0.0}


    class NoStress(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            self.results = {"energy": 1.5, "forces": np.zeros((len(atoms), 3))}
    """
)


@pytest.fixture
def factory_file(tmp_path):
    path = tmp_path / "my_calculators.py"
    path.write_text(FACTORIES)
    return str(path)


def test_ase_factory_from_a_python_file(factory_file, water_molecule):
    """ase:/path/file.py:FACTORY:{...} runs the file and calls the factory with the JSON kwargs."""
    pot = load_potential(f'ase:{factory_file}:lj:{{"sigma": 2.5}}')
    atoms = water_molecule.to_atoms()
    atoms.calc = LennardJones(sigma=2.5)
    assert pot.compute_one(water_molecule)[0] == pytest.approx(atoms.get_potential_energy(), abs=1e-12)


def test_ase_missing_module_says_install():
    """A module that does not exist: one line naming it and saying to install the package."""
    message = one_line_error("ase:no_such_package_xyz.calculator:Calc")
    assert "no_such_package_xyz" in message and "install" in message


def test_ase_missing_python_file(tmp_path):
    """A .py factory file that does not exist is named in the error."""
    message = one_line_error(f"ase:{tmp_path}/absent.py:make")
    assert "does not exist" in message and "absent.py" in message


@pytest.mark.parametrize(
    "factory, fragments",
    [
        ("no_such_factory", ["has no callable 'no_such_factory'"]),
        ("NOT_CALLABLE", ["has no callable 'NOT_CALLABLE'"]),
        ("explodes", ["explodes", "failed", "RuntimeError", "no licence for this model"]),
        ("a_number", ["returned a int", "not an ASE calculator"]),
        ("EnergyOnly", ["does not implement forces", "energies and forces"]),
    ],
)
def test_ase_factory_errors(factory_file, factory, fragments):
    """Missing, raising, non-calculator and force-less factories: one-line PotentialErrors that say which."""
    message = one_line_error(f"ase:{factory_file}:{factory}")
    for fragment in fragments:
        assert fragment in message, message


def test_ase_module_without_factory():
    """An importable module without the factory: the module and the factory are named."""
    message = one_line_error("ase:ase.calculators.lj:NoSuchCalculator")
    assert "ase.calculators.lj has no callable 'NoSuchCalculator'" in message


def test_ase_bad_kwargs_for_the_factory(factory_file):
    """JSON kwargs the factory does not take: the TypeError shows up in one line."""
    message = one_line_error(f'ase:{factory_file}:lj:{{"colour": "blue"}}')
    assert "lj(" in message and "failed" in message and "TypeError" in message and "colour" in message


def test_ase_without_stress_on_a_periodic_structure(factory_file, water_molecule, water_box):
    """A calculator without stress works for isolated structures and is refused, clearly, for periodic ones."""
    pot = load_potential(f"ase:{factory_file}:NoStress")
    assert pot.compute_one(water_molecule)[0] == 1.5
    with pytest.raises(PotentialError, match="does not implement stress"):
        pot.compute([water_box])


def test_spec_objects_are_accepted_everywhere():
    """load_potential takes a PotentialSpec built by hand, too."""
    spec = PotentialSpec(kind="ase", text="ase:ase.calculators.emt:EMT", module="ase.calculators.emt", factory="EMT")
    assert load_potential(spec).name == "ase:EMT"
