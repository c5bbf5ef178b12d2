"""i-PI's driver flags on `symbreak serve`: -m MODE -o PARAMS turned into a potential spec, and the CLI's checks.

A published run script that calls ``i-pi-py_driver -u -a NAME -m metatomic -o template=...,model=...``
should work with ``symbreak serve`` in its place. No sockets here.
"""

import argparse
import subprocess

import pytest
from symbreak.commands.serve import add_arguments, potential_arguments
from symbreak.potentials import PotentialError, parse_potential_spec
from symbreak.server.driver_flags import spec_from_driver_flags

from .ipi_run import symbreak_command

# -- spec_from_driver_flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, spec, template",
    [
        ("template=init.xyz,model=model.pt", "metatomic:model.pt", "init.xyz"),
        ("model=model.pt,template=init.xyz", "metatomic:model.pt", "init.xyz"),
        ("init.xyz,model.pt", "metatomic:model.pt", "init.xyz"),  # positional, as i-PI reads them
        ("init.xyz,model.pt,device=cpu", "metatomic:model.pt:device=cpu", "init.xyz"),
        ("init.xyz,model=model.pt", "metatomic:model.pt", "init.xyz"),
        ("model=model.pt", "metatomic:model.pt", None),
        (" template = init.xyz , model = dir/model.pt ", "metatomic:dir/model.pt", "init.xyz"),
        (
            "template=init.xyz,model=m.pt,energy_variant=pbe,extensions=ext,check_consistency=true",
            "metatomic:m.pt:variant=pbe,extensions=ext,check_consistency=true",
            "init.xyz",
        ),
        (
            "model=m.pt,dtype=float64,chunk_size=8,max_atoms=200",
            "metatomic:m.pt:dtype=float64,chunk_size=8,max_atoms=200",
            None,
        ),
    ],
)
def test_metatomic_mode(params, spec, template):
    """i-PI's metatomic options (named or positional template, model) map onto a metatomic: spec."""
    assert spec_from_driver_flags("metatomic", params) == (spec, template)


def test_metatomic_mode_spec_is_valid():
    """The spec it writes parses back to the same path and the renamed options."""
    text, _ = spec_from_driver_flags("metatomic", "init.xyz,m.pt,energy_variant=pbe,device=cpu")
    parsed = parse_potential_spec(text)
    assert parsed.path == "m.pt" and parsed.options == (("variant", "pbe"), ("device", "cpu"))


@pytest.mark.parametrize(
    "params, fragments",
    [
        ("template=init.xyz", ["needs the model file", "model=model.pt"]),
        ("", ["needs the model file"]),
        ("template=init.xyz,model=m.pt,non_conservative=true", ["unknown metatomic option(s) non_conservative", "energy_variant"]),
        ("a.xyz,m.pt,extra", ["at most two positional values"]),
    ],
)
def test_metatomic_mode_errors(params, fragments):
    """Missing model, unknown option, too many positional values: a one-line PotentialError."""
    with pytest.raises(PotentialError) as info:
        spec_from_driver_flags("metatomic", params)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_ase_mode_kwargs_are_json_values():
    """-m ase: module, factory, then the factory's keyword arguments, each value read as JSON when it is JSON."""
    text, template = spec_from_driver_flags(
        "ase", "template=init.xyz,module=ase.calculators.lj,factory=LennardJones,sigma=3.0,smooth=true,rc=null,"
        "label=argon,model=7net-0,n=3"
    )
    spec = parse_potential_spec(text)
    assert template == "init.xyz"
    assert (spec.kind, spec.module, spec.factory) == ("ase", "ase.calculators.lj", "LennardJones")
    assert spec.factory_kwargs() == {"sigma": 3.0, "smooth": True, "rc": None, "label": "argon", "model": "7net-0", "n": 3}


def test_ase_mode_positional_module_and_factory():
    """-o MODULE,FACTORY positionally, no kwargs, no template."""
    text, template = spec_from_driver_flags("ase", "ase.calculators.emt,EMT")
    assert parse_potential_spec(text).factory == "EMT" and template is None


def test_ase_mode_needs_module_and_factory():
    """-m ase without a factory says which form is expected."""
    with pytest.raises(PotentialError, match="module=MODULE,factory=FACTORY"):
        spec_from_driver_flags("ase", "module=ase.calculators.emt")


@pytest.mark.parametrize("mode", ["toy", "default", "default-ice", "qtip4pf"])
def test_named_modes_take_a_template(mode):
    """-m toy|default|default-ice|qtip4pf take only the template, named or positional."""
    assert spec_from_driver_flags(mode, "template=init.xyz") == (mode, "init.xyz")
    assert spec_from_driver_flags(mode, "init.xyz") == (mode, "init.xyz")
    assert spec_from_driver_flags(mode, "") == (mode, None)
    with pytest.raises(PotentialError, match="takes only template"):
        spec_from_driver_flags(mode, "template=init.xyz,model=m.pt")


def test_pet_mode_points_to_metatomic():
    """i-PI's old 'pet' driver mode: a clear error that says to export to metatomic and use -m metatomic."""
    with pytest.raises(PotentialError) as info:
        spec_from_driver_flags("pet", "init.xyz,model_dir")
    message = str(info.value)
    assert "-m metatomic" in message and "metatomic:model.pt" in message and "\n" not in message


def test_unknown_mode_lists_the_modes():
    """An i-PI driver mode symbreak does not serve: the error lists the modes it does."""
    with pytest.raises(PotentialError, match="unknown driver mode -m lj: use one of metatomic, ase"):
        spec_from_driver_flags("lj", "")


# -- the serve CLI ----------------------------------------------------------------------------------------


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_ipi_socket_flags_parse():
    """-u -a NAME -p PORT -S PREFIX (and --sockets_prefix) parse as i-PI's driver takes them."""
    args = parse("-u", "-a", "driver", "-p", "1234", "-S", "/tmp/x_", "-m", "metatomic", "-o", "init.xyz,m.pt", "-v")
    assert (args.unix, args.address, args.port, args.sockets_prefix) == (True, "driver", 1234, "/tmp/x_")
    assert (args.mode, args.param) == ("metatomic", "init.xyz,m.pt")
    assert parse("--sockets_prefix", "/run/ipi_").sockets_prefix == "/run/ipi_"


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], ("default", None)),
        (["--potential", "toy"], ("toy", None)),
        (["--potential", "metatomic:m.pt", "--structure", "s.xyz"], ("metatomic:m.pt", "s.xyz")),
        (["-m", "metatomic", "-o", "template=init.xyz,model=m.pt"], ("metatomic:m.pt", "init.xyz")),
        (["-m", "metatomic", "-o", "model=m.pt", "--structure", "s.xyz"], ("metatomic:m.pt", "s.xyz")),
        (["-m", "metatomic", "-o", "init.xyz,m.pt", "--structure", "init.xyz"], ("metatomic:m.pt", "init.xyz")),
        (["-m", "toy"], ("toy", None)),
    ],
)
def test_potential_arguments(argv, expected):
    """--potential/--structure, or -m/-o (whose template is the structure file)."""
    assert potential_arguments(parse(*argv)) == expected


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--potential", "toy", "-m", "metatomic", "-o", "model=m.pt"], "not both"),
        (["-o", "model=m.pt"], "-o needs -m MODE"),
        (["-m", "metatomic", "-o", "template=a.xyz,model=m.pt", "--structure", "b.xyz"], "disagree"),
        (["-m", "pet", "-o", "a.xyz,dir"], "-m metatomic"),
    ],
)
def test_conflicting_arguments(argv, fragment):
    """Both ways at once, -o alone, two different structure files: one-line PotentialErrors."""
    with pytest.raises(PotentialError) as info:
        potential_arguments(parse(*argv))
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.slow
def test_serve_reports_driver_flag_errors_in_one_line():
    """The real command: exit 2, one line naming the fix, no traceback."""
    out = subprocess.run(symbreak_command("serve", "-u", "-a", "x", "-m", "pet", "-o", "init.xyz,dir", "--timeout", "0.2"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "-m metatomic" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
