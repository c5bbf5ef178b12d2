"""i-PI inputs that symbreak did not write, read into a RunDescription: units, beads, MTS, weights, strides, errors."""

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.ipi.input_reader import find_input, parse_description, read_description
from symbreak.ipi.isolation import looks_isolated
from symbreak.ipi.outputs import read_properties, read_trajectory_file

MOLECULE = """3
# CELL(abcABC): 30.0 30.0 30.0 90.0 90.0 90.0 cell{angstrom} positions{angstrom}
O 15.0 15.0 15.0
H 15.76 15.59 15.0
H 14.24 15.59 15.0
"""

NVE = """<simulation verbosity='low'>
  <output prefix='md'>
    <properties stride='5' filename='thermo'> [ step, time{picosecond}, conserved, potential{electronvolt},
      pot_component_raw(0){electronvolt}, kinetic_md ] </properties>
    <trajectory filename='pos' stride='10'> positions{angstrom} </trajectory>
    <trajectory filename='xf' stride='20' format='ase'> forces </trajectory>
    <trajectory filename='x0' stride='1'> extras_component_raw(0) </trajectory>
    <checkpoint stride='100'/>
  </output>
  <total_steps>200</total_steps>
  <prng><seed>12</seed></prng>
  <ffsocket name='driver' mode='inet' pbc='false'><address>localhost</address><port>31500</port></ffsocket>
  <system>
    <initialize nbeads='1'><file mode='xyz'>init.xyz</file>
      <velocities mode='thermal' units='kelvin'>250</velocities></initialize>
    <forces><force forcefield='driver'/></forces>
    <motion mode='dynamics'><dynamics mode='nve'><timestep units='femtosecond'>0.25</timestep></dynamics></motion>
  </system>
</simulation>
"""


def _xml(motion: str, ensemble: str = "", forces: str = "<force forcefield='a'/>", init: str = "<initialize nbeads='1'/>",
         output: str = "<output prefix='x'><properties filename='out'> [ step ] </properties></output>",
         ffs: str = "<ffsocket name='a' mode='unix'><address>a</address></ffsocket>") -> str:
    return (f"<simulation>{output}<total_steps>10</total_steps>{ffs}<system>{init}<forces>{forces}</forces>"
            f"{motion}<ensemble>{ensemble}</ensemble></system></simulation>")


def test_nve_with_units_strides_and_file_names(tmp_path):
    (tmp_path / "init.xyz").write_text(MOLECULE)
    (tmp_path / "input.xml").write_text(NVE)
    d = read_description(tmp_path)
    assert d.source == str(tmp_path / "input.xml") and not d.checkpoint
    assert (d.motion, d.ensemble, d.timestep_fs, d.nbeads, d.nmts) == ("dynamics", "nve", 0.25, 1, ())
    assert d.temperature_k is None and d.initial_temperature_k == pytest.approx(250.0)
    assert d.total_steps == 200 and d.seed == 12 and d.prefix == "md" and not d.mts
    ff = d.forcefields[0]
    assert (ff.name, ff.kind, ff.mode, ff.address, ff.port, ff.pbc) == ("driver", "socket", "inet", "localhost", 31500, False)
    assert d.components[0].weight == 1.0 and d.components[0].drives
    props = d.properties_output
    assert props.path == "md.thermo" and props.stride == 5
    assert props.names == ("step", "time", "conserved", "potential", "pot_component_raw(0)", "kinetic_md")
    pos = d.trajectory("positions")
    assert (pos.path(0), pos.stride, pos.format, pos.units) == ("md.pos_0.xyz", 10, "xyz", "angstrom")
    assert d.trajectory("forces").path(0) == "md.xf_0.extxyz"
    extras = d.trajectory("extras_component_raw", argument=0)
    assert extras.path() == "md.x0" and extras.argument == "0" and not extras.per_bead
    assert d.trajectory("momenta") is None and d.trajectory("extras_component_raw", argument=1) is None
    assert d.cell[0][0] == pytest.approx(30.0) and d.isolated is True


def test_units_of_time_and_temperature():
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nvt'><timestep units='picosecond'>0.001"
                               "</timestep><thermostat mode='svr'><tau units='femtosecond'>25</tau></thermostat>"
                               "</dynamics></motion>", "<temperature>9.50044560e-04</temperature>"))
    assert d.timestep_fs == pytest.approx(1.0) and d.temperature_k == pytest.approx(300.0, rel=1e-6)
    assert d.thermostat.kind == "svr" and d.thermostat.tau_fs == pytest.approx(25.0)
    # no units: atomic units (i-PI's default time step is 1 a.u. = 0.0242 fs)
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nve'><timestep>41.341373</timestep>"
                               "</dynamics></motion>"))
    assert d.timestep_fs == pytest.approx(1.0, rel=1e-6)
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nve'/></motion>",
                               "<temperature units='kelvin'>-1</temperature>"))
    assert d.timestep_fs == pytest.approx(0.0241888, rel=1e-5) and d.temperature_k is None
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='npt'><timestep units='femtosecond'>0.5</timestep>"
                               "</dynamics></motion>", "<temperature units='kelvin'>200</temperature>"
                               "<pressure units='bar'>1.0</pressure>"))
    assert d.ensemble == "npt" and d.pressure_bar == pytest.approx(1.0)


def test_beads_and_bead_file_names():
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nvt'><timestep units='femtosecond'>0.25"
                               "</timestep><thermostat mode='pile_l'><tau units='femtosecond'>100</tau></thermostat>"
                               "</dynamics></motion>", init="<initialize nbeads='12'/>",
                               output="<output prefix='pi'><trajectory filename='pos' format='ase'> positions "
                                      "</trajectory><trajectory filename='even' bead='-2'> forces </trajectory>"
                                      "<trajectory filename='b3' bead='3'> momenta </trajectory></output>"))
    assert d.nbeads == 12 and d.thermostat.kind == "pile_l"
    assert d.trajectory("positions", bead=3).path(3) == "pi.pos_03.extxyz"  # i-PI pads to the digits of 12
    assert d.trajectory("forces", bead=4).path(4) == "pi.even_04.xyz" and d.trajectory("forces", bead=3) is None
    assert d.trajectory("momenta", bead=3) is not None and d.trajectory("momenta", bead=0) is None
    assert d.trajectory("positions", bead=12) is None
    assert d.properties == ()  # an <output> without <properties> writes none


def test_mts_levels_and_weights():
    forces = ("<force forcefield='fast'><mts_weights>[0, 1]</mts_weights></force>"
              "<force forcefield='slow' weight='1.0'><mts_weights>[1, 0]</mts_weights></force>"
              "<force forcefield='ref' weight='0'><mts_weights>[0, 0]</mts_weights></force>")
    ffs = "".join(f"<ffsocket name='{n}' mode='unix'><address>{n}</address></ffsocket>" for n in ("fast", "slow", "ref"))
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nvt'><timestep units='femtosecond'>2</timestep>"
                               "<nmts>[1, 4]</nmts><thermostat mode='langevin'><tau units='femtosecond'>100</tau>"
                               "</thermostat></dynamics></motion>", forces=forces, ffs=ffs))
    assert d.nmts == (1, 4) and d.mts and d.timestep_fs == 2.0
    fast, slow, ref = d.components
    assert (fast.index, fast.forcefield, fast.mts_weights, fast.drives) == (0, "fast", (0.0, 1.0), True)
    assert slow.mts_weights == (1.0, 0.0) and slow.drives
    assert ref.weight == 0.0 and not ref.drives
    # a checkpoint writes <nmts> [ 1 ] </nmts> without MTS: one level is no MTS
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nve'><nmts>[1]</nmts></dynamics></motion>"))
    assert d.nmts == () and not d.mts


def test_weight_zero_second_forcefield_and_direct_and_rotations():
    ffs = ("<ffdirect name='model'><pes>harmonic</pes></ffdirect>"
           "<ffrotations name='rot'><ffsocket name='inner' mode='unix'><address>sock</address></ffsocket></ffrotations>")
    d = parse_description(_xml("<motion mode='dynamics'><dynamics mode='nve'/></motion>", ffs=ffs,
                               forces="<force forcefield='model' weight='1'/><force forcefield='rot' weight='0.0'/>"))
    assert [f.kind for f in d.forcefields] == ["direct", "rotations"] and d.forcefields[1].address == "sock"
    assert [c.weight for c in d.components] == [1.0, 0.0] and [c.drives for c in d.components] == [True, False]


def test_replay_minimize_and_defaults():
    d = parse_description(_xml("<motion mode='replay'><file mode='xyz'>frames.xyz</file></motion>", output=""))
    assert (d.motion, d.replay_file, d.replay_format, d.timestep_fs, d.ensemble) == ("replay", "frames.xyz", "xyz", None, None)
    # no <output>: i-PI's defaults
    assert d.prefix == "i-pi" and d.properties_output.path == "i-pi.md" and d.properties_output.stride == 10
    assert d.trajectory("positions").path(0) == "i-pi.pos_0.xyz" and d.trajectory("positions").stride == 100
    d = parse_description(_xml("<motion mode='minimize'><optimizer mode='lbfgs'/></motion>"))
    assert d.motion == "minimize" and d.timestep_fs is None


def test_checkpoint_layout_atomic_units():
    """A RESTART: values in atomic units, beads and cell instead of an init file."""
    bohr = 1.8897261246
    q = np.array([[15.0, 15.0, 15.0], [15.76, 15.59, 15.0], [14.24, 15.59, 15.0]]) * bohr
    h = np.eye(3) * 30.0 * bohr
    text = f"""<simulation verbosity='low'>
   <output prefix='sim'><properties shape='(2)' stride='2'> [ step, potential ] </properties>
      <trajectory filename='pos' stride='2' format='ase'>positions</trajectory><checkpoint stride='10'>2</checkpoint></output>
   <step>10</step><total_steps>10</total_steps>
   <ffsocket mode='unix' name='h'><address>x</address></ffsocket>
   <system><forces><force forcefield='h'></force></forces>
      <ensemble><temperature>  9.50044560e-04</temperature></ensemble>
      <motion mode='dynamics'><dynamics mode='nvt'><thermostat mode='pile_l'><tau>  4.13413730e+03</tau></thermostat>
            <timestep>  2.06706865e+01</timestep><nmts shape='(1)'> [ 1 ] </nmts></dynamics></motion>
      <beads natoms='3' nbeads='2'><q shape='(2, 9)'> [ {", ".join(map(str, np.concatenate([q.ravel(), q.ravel()])))} ] </q>
         <names shape='(3)'> [ O, H, H ] </names></beads>
      <cell shape='(3, 3)'> [ {", ".join(map(str, h.ravel()))} ] </cell>
   </system></simulation>"""
    d = parse_description(text, "RESTART")
    assert d.checkpoint and d.step == 10 and d.nbeads == 2 and d.timestep_fs == pytest.approx(0.5)
    assert d.thermostat.tau_fs == pytest.approx(100.0) and d.temperature_k == pytest.approx(300.0, rel=1e-6)
    assert d.properties_output.path == "sim.out" and d.trajectory("positions", bead=1).path(1) == "sim.pos_1.extxyz"
    assert d.cell[1][1] == pytest.approx(30.0) and d.isolated is True


def test_find_input_prefers_input_xml_then_inputs_then_checkpoints(tmp_path):
    (tmp_path / "notes.xml").write_text("<notes/>")
    (tmp_path / "RESTART").write_text(_xml("<motion mode='dynamics'><dynamics mode='nvt'/></motion>")
                                      .replace("<total_steps>", "<step>3</step><total_steps>"))
    assert find_input(tmp_path).name == "RESTART" and read_description(tmp_path).checkpoint
    (tmp_path / "md.xml").write_text(_xml("<motion mode='dynamics'><dynamics mode='nvt'/></motion>"))
    assert find_input(tmp_path).name == "md.xml"
    (tmp_path / "input.xml").write_text(_xml("<motion mode='dynamics'><dynamics mode='npt'/></motion>"))
    assert find_input(tmp_path).name == "input.xml" and read_description(tmp_path).ensemble == "npt"


@pytest.mark.parametrize("text, message", [
    ("<simulation><output", "not valid XML"),
    ("<config/>", "not an i-PI input (root element <config>, expected <simulation>)"),
    ("<simulation/>", "no <system> element"),
    (_xml("<motion mode='teleport'/>"), "unknown <motion mode='teleport'>"),
    (_xml("<motion mode='dynamics'><dynamics mode='nve'><timestep units='furlong'>1</timestep></dynamics></motion>"),
     "unknown time units 'furlong'"),
    (_xml("<motion mode='dynamics'/>", forces="<force forcefield='b'/>"), "uses forcefield 'b', which the input does not define"),
])
def test_bad_inputs_are_one_line_errors_naming_the_file(text, message):
    with pytest.raises(InputError) as info:
        parse_description(text, "runs/x/input.xml")
    assert str(info.value).startswith("runs/x/input.xml: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_folder_without_an_input(tmp_path):
    (tmp_path / "simulation.out").write_text("# column 1 --> step\n0\n")
    with pytest.raises(InputError) as info:
        read_description(tmp_path)
    assert str(info.value) == (f"{tmp_path}: no i-PI input (input.xml, another *.xml with a <simulation> root, "
                               "or a RESTART checkpoint): is it an i-PI run folder?")
    with pytest.raises(InputError, match="is not a folder"):
        find_input(tmp_path / "missing")
    with pytest.raises(InputError, match="no such i-PI input file"):
        read_description(tmp_path / "missing.xml")


def test_isolation_rule():
    molecule = np.array([[15.0, 15.0, 15.0], [15.76, 15.59, 15.0], [14.24, 15.59, 15.0]])
    assert looks_isolated(np.eye(3) * 30.0, molecule)
    assert looks_isolated(np.eye(3) * 100.0, molecule - 15.0)  # at the corner but whole: far from its images
    assert not looks_isolated(np.eye(3) * 8.0, molecule - 11.0)  # a 8 A box: too close to its images
    split = molecule - 15.0
    split[2] += [30.0, 0.0, 0.0]  # wrapped across the boundary: spreads over the cell
    assert not looks_isolated(np.eye(3) * 30.0, split)
    rng = np.random.default_rng(0)
    liquid = rng.uniform(0, 12.4, size=(192, 3))
    assert not looks_isolated(np.eye(3) * 12.4, liquid)
    cluster = rng.uniform(0, 9.0, size=(60, 3))  # a 9 A cluster in a 20 A box: the box is not 3x its size
    assert not looks_isolated(np.eye(3) * 20.0, cluster)


def test_properties_in_atomic_units_are_converted(tmp_path):
    path = tmp_path / "sim.out"
    path.write_text("# column   1     --> step : step\n# column   2     --> time : time\n"
                    "# column   3     --> potential : V\n# column   4     --> temperature{kelvin} : T\n"
                    "# column   5     --> pot_component_raw(1){electronvolt} : V1\n"
                    "0 0.0 0.1 300 1.0\n10 413.41373 0.2 310 2.0\n")
    props = read_properties(path)
    assert props["step"][1] == 10 and props["time"][1] == pytest.approx(0.01, rel=1e-6)  # a.u. -> ps
    assert props["potential"][0] == pytest.approx(2.7211386, rel=1e-6)  # Hartree -> eV
    assert props["temperature"][1] == 310 and props["pot_component_raw(1)"][1] == 2.0


def test_ase_trajectory_as_ipi_writes_it_and_cut_while_written(tmp_path):
    """i-PI's ``ase`` format: extxyz through ASE, the quantity as a per-atom array, i-PI's comment in ipi_comment."""
    from ase import Atoms

    path = tmp_path / "sim.frc_0.extxyz"
    with open(path, "w") as fh:
        for step in range(4):
            atoms = Atoms("OH2", cell=np.eye(3) * 30.0, pbc=True)
            atoms.arrays["forces"] = np.full((3, 3), float(step))
            atoms.info["ipi_comment"] = f"Step:           {step}  Bead:       0 forces{{ase}}  cell{{ase}}"
            atoms.write(fh, format="extxyz")
    frames = read_trajectory_file(path, "ase")
    assert len(frames) == 4 and frames[2].info["step"] == 2 and np.all(frames[3].arrays["forces"] == 3.0)
    data = path.read_bytes()
    path.write_bytes(data[:-30])
    notes = []
    assert len(read_trajectory_file(path, "ase", notes)) == 3
    assert notes == ["sim.frc_0.extxyz: read 3 complete frames; the last one was being written"]
