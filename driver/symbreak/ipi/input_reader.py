"""Read an i-PI input (or checkpoint) into a RunDescription: what any i-PI run folder says about itself.

    d = read_description("runs/foreign")          # the folder's input.xml, another *.xml input, or its RESTART
    d = read_description("runs/foreign/md.xml")   # or a file
    d = parse_description(xml_text, "test.xml")   # a string (the init file is looked up next to ``source``)
    d.motion, d.ensemble, d.timestep_fs, d.temperature_k, d.nbeads, d.nmts, d.isolated

Which file of a folder: ``input.xml``; else the other ``*.xml`` files whose
root is ``<simulation>`` (inputs before checkpoints such as symbreak's
``resume.xml``; among several, the first, by name, whose properties output
exists); else i-PI's checkpoints (``RESTART``, ``*.restart``), which have the
same layout with values in atomic units. A folder without any is an
InputError naming it; so is a file that is not XML or not an i-PI input.

Units: values carry i-PI's ``units`` attribute (``<timestep units='femtosecond'>``)
or are atomic units; they come out in fs, K, bar and Angstrom (converted with
i-PI's own unit tables: this module is the i-PI boundary). Defaults are i-PI's
(no <output>: prefix ``i-pi``, properties ``md`` every 10 steps, positions
``pos`` every 100; time step 1 a.u.; one bead).

Isolated or periodic: see :mod:`symbreak.ipi.isolation` (applied to the
starting structure: the init file, or the checkpoint's beads). Only the first
<system> is read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from .description import (
    ENSEMBLES,
    FORCEFIELD_KINDS,
    MOTIONS,
    THERMOSTATS,
    TRAJECTORY_FORMATS,
    ForceComponent,
    Forcefield,
    PropertiesOutput,
    RunDescription,
    Thermostat,
    TrajectoryOutput,
)
from .isolation import looks_isolated

#: i-PI's checkpoint file names: RESTART (on exit), PREFIX.restart / PREFIX.checkpoint (every <checkpoint> stride)
CHECKPOINT_PATTERNS = ("RESTART", "*.restart", "*.restart_*", "*.checkpoint", "*.checkpoint_*")
#: i-PI's defaults when an input has no <output> (ipi/inputs/outputs.py, InputOutputs.make_default)
DEFAULT_PROPERTIES = ("time", "step", "conserved", "temperature", "potential", "kinetic_cv")


def _fail(source, message: str):
    raise InputError(f"{source}: {message}")


def _root(path: Path) -> ET.Element | None:
    """The root element of ``path`` if it is XML, else None."""
    try:
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError):
        return None


def _is_checkpoint(root: ET.Element) -> bool:
    system = root.find("system")
    return root.find("step") is not None or (system is not None and system.find("beads") is not None)


def input_candidates(folder) -> list[Path]:
    """``input_candidates("runs/x")``: the i-PI inputs of a folder, most preferred first (module docstring); [] if none."""
    folder = Path(folder)
    inputs, checkpoints = [], []
    for path in sorted(folder.glob("*.xml"), key=lambda p: (p.name != "input.xml", p.name)):
        root = _root(path)
        if root is None or root.tag != "simulation":
            continue
        (checkpoints if _is_checkpoint(root) else inputs).append(path)
    seen = set(checkpoints)
    for pattern in CHECKPOINT_PATTERNS:
        for path in sorted(folder.glob(pattern)):
            if path in seen or not path.is_file():
                continue
            root = _root(path)
            if root is not None and root.tag == "simulation":
                checkpoints.append(path)
                seen.add(path)
    return inputs + checkpoints


def find_input(folder) -> Path:
    """``find_input("runs/x")``: the i-PI input that describes the run in ``folder``; InputError naming it if none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: pass an i-PI run folder")
    candidates = input_candidates(folder)
    if not candidates:
        raise InputError(f"{folder}: no i-PI input (input.xml, another *.xml with a <simulation> root, "
                         "or a RESTART checkpoint): is it an i-PI run folder?")
    inputs = [c for c in candidates if not _is_checkpoint(_root(c))]
    if len(inputs) > 1:  # several inputs: the first whose properties file is there
        for path in inputs:
            try:
                d = read_description(path)
            except InputError:
                continue
            if d.properties_output is not None and (folder / d.properties_output.path).exists():
                return path
    return candidates[0]


def read_description(path) -> RunDescription:
    """``read_description("runs/x")`` or ``("runs/x/input.xml")``: the RunDescription of an i-PI input."""
    path = Path(path)
    if path.is_dir():
        path = find_input(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: no such i-PI input file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read it ({getattr(err, 'strerror', None) or err})") from None
    return parse_description(text, str(path))


def parse_description(text: str, source: str = "input.xml") -> RunDescription:
    """``parse_description(xml_text, "runs/x/input.xml")``: the RunDescription of i-PI input text.

    ``source`` names the file in errors, and its folder is where the init file is looked for.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise InputError(f"{source}: not valid XML ({err})") from None
    if root.tag != "simulation":
        _fail(source, f"not an i-PI input (root element <{root.tag}>, expected <simulation>)")
    return _Reader(root, source).description()


# --- values -----------------------------------------------------------------------------------

def _units():
    from ipi.utils import units

    return units


def convert(source, value: float, dimension: str, units: str | None, target: str) -> float:
    """``convert(src, 0.5, "time", "femtosecond", "femtosecond")``: a value in i-PI ``units`` (None: atomic) in ``target``."""
    u = _units()
    try:
        internal = u.unit_to_internal(dimension, units or "atomic_unit", value)
        return float(f"{u.unit_to_user(dimension, target, internal):.12g}")  # 0.5 fs, not 0.49999999999999994
    except (ValueError, TypeError, KeyError, IndexError):
        _fail(source, f"unknown {dimension} units {units!r}")


def split_list(text: str) -> list[str]:
    """``split_list("[ step, pot_component_raw(1){electronvolt} ]")`` -> items, split at top-level commas."""
    text = (text or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    items, depth, current = [], 0, []
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    items.append("".join(current).strip())
    return [i for i in items if i]


class _Reader:
    """One pass over the element tree; every error names ``source``."""

    def __init__(self, root: ET.Element, source: str):
        self.root = root
        self.source = source
        systems = root.findall("system")
        if not systems:
            _fail(source, "no <system> element: not a simulation i-PI can run")
        self.system = systems[0]

    # -- small parsers
    def _text(self, elem: ET.Element | None) -> str | None:
        return None if elem is None or elem.text is None else elem.text.strip()

    def _float(self, text, what: str) -> float:
        try:
            return float(text)
        except (TypeError, ValueError):
            _fail(self.source, f"{what} should be a number, found {text!r}")

    def _int(self, text, what: str) -> int:
        try:
            return int(str(text).strip())
        except (TypeError, ValueError):
            _fail(self.source, f"{what} should be an integer, found {text!r}")

    def _quantity(self, elem: ET.Element | None, dimension: str, target: str) -> float | None:
        if elem is None or not self._text(elem):
            return None
        value = self._float(self._text(elem), f"<{elem.tag}>")
        return convert(self.source, value, dimension, elem.get("units"), target)

    def _numbers(self, elem: ET.Element | None, what: str) -> list[float]:
        if elem is None:
            return []
        return [self._float(v, what) for v in split_list(self._text(elem) or "")]

    def _bool(self, text: str | None) -> bool | None:
        return None if text is None else text.strip().lower() in ("true", "1", "yes")

    # -- parts
    def forcefields(self) -> tuple[Forcefield, ...]:
        out = []
        for elem in self.root:
            if not elem.tag.startswith("ff"):
                continue
            kind = elem.tag[2:]
            if kind not in FORCEFIELD_KINDS:
                _fail(self.source, f"unknown forcefield <{elem.tag}> (i-PI's are ff{', ff'.join(FORCEFIELD_KINDS)})")
            name = elem.get("name")
            if not name:
                _fail(self.source, f"<{elem.tag}> has no name attribute")
            socket = elem if elem.find("address") is not None else next(
                (child for child in elem if child.tag.startswith("ff") and child.find("address") is not None), elem)
            port = self._text(socket.find("port"))
            out.append(Forcefield(name=name, kind=kind, mode=socket.get("mode"), address=self._text(socket.find("address")),
                                  port=None if port is None else self._int(port, f"<port> of {name}"),
                                  pbc=self._bool(socket.get("pbc"))))
        return tuple(out)

    def components(self, forcefields) -> tuple[ForceComponent, ...]:
        forces = self.system.find("forces")
        out = []
        names = {f.name for f in forcefields}
        for k, elem in enumerate([] if forces is None else forces.findall("force")):
            ff = elem.get("forcefield")
            if not ff:
                _fail(self.source, f"<force> {k} has no forcefield attribute")
            if names and ff not in names:
                _fail(self.source, f"<force> {k} uses forcefield {ff!r}, which the input does not define")
            mts = elem.find("mts_weights")
            nbeads = elem.get("nbeads")
            out.append(ForceComponent(
                index=k, forcefield=ff, weight=self._float(elem.get("weight", "1.0"), f"weight of <force> {k}"),
                mts_weights=None if mts is None else tuple(self._numbers(mts, f"mts_weights of <force> {k}")),
                nbeads=None if nbeads is None else self._int(nbeads, f"nbeads of <force> {k}"),
                name=elem.get("name") or None))
        return tuple(out)

    def outputs(self, nbeads: int) -> tuple[str, tuple, tuple]:
        output = self.root.find("output")
        if output is None:  # i-PI's default outputs
            prefix = "i-pi"
            return prefix, (PropertiesOutput(f"{prefix}.md", 10, DEFAULT_PROPERTIES),), (
                TrajectoryOutput("positions", "pos", prefix, 100, "xyz", -1, nbeads),)
        prefix = output.get("prefix", "i-pi")
        properties, trajectories = [], []
        for elem in output.findall("properties"):
            stride = self._int(elem.get("stride", "1"), "the stride of <properties>")
            properties.append(PropertiesOutput(f"{prefix}.{elem.get('filename', 'out')}", stride,
                                               tuple(split_list(elem.text or ""))))
        for elem in output.findall("trajectory"):
            fmt = elem.get("format", "xyz")
            if fmt not in TRAJECTORY_FORMATS:
                _fail(self.source, f"<trajectory> format {fmt!r} is not one of i-PI's ({', '.join(TRAJECTORY_FORMATS)})")
            what = (elem.text or "").strip()
            if not what:
                _fail(self.source, f"<trajectory filename={elem.get('filename', 'traj')!r}> names no quantity")
            trajectories.append(TrajectoryOutput(
                what=what, filename=elem.get("filename", "traj"), prefix=prefix,
                stride=self._int(elem.get("stride", "1"), "the stride of <trajectory>"), format=fmt,
                bead=self._int(elem.get("bead", "-1"), "the bead of <trajectory>"), nbeads=nbeads))
        return prefix, tuple(properties), tuple(trajectories)

    def motion(self) -> dict:
        motion = self.system.find("motion")
        if motion is None:
            _fail(self.source, "no <motion> in <system>")
        mode = motion.get("mode")
        if mode not in MOTIONS:
            _fail(self.source, f"unknown <motion mode={mode!r}> (i-PI's: {', '.join(MOTIONS)})")
        out = {"motion": mode, "ensemble": None, "timestep_fs": None, "nmts": (), "thermostat": None,
               "replay_file": None, "replay_format": None}
        if mode == "replay":
            file = motion.find("file")
            out["replay_file"] = self._text(file)
            out["replay_format"] = None if file is None else file.get("mode", "xyz")
            return out
        dynamics = next(motion.iter("dynamics"), None)
        if mode != "dynamics" and dynamics is None:
            dynamics = motion.find(mode)
        if dynamics is None:
            return out
        if mode in ("dynamics", "multi") or dynamics.tag == "dynamics":
            ensemble = dynamics.get("mode", "nve")
            if ensemble not in ENSEMBLES:
                _fail(self.source, f"unknown <dynamics mode={ensemble!r}> (i-PI's: {', '.join(ENSEMBLES)})")
            out["ensemble"] = ensemble
        timestep = dynamics.find("timestep")
        out["timestep_fs"] = (self._quantity(timestep, "time", "femtosecond") if timestep is not None
                              else convert(self.source, 1.0, "time", None, "femtosecond"))
        nmts = [int(round(v)) for v in self._numbers(dynamics.find("nmts"), "<nmts>")]
        out["nmts"] = tuple(nmts) if len(nmts) > 1 else ()
        thermo = dynamics.find("thermostat")
        if thermo is not None and thermo.get("mode"):
            kind = thermo.get("mode")
            if kind not in THERMOSTATS:
                _fail(self.source, f"unknown <thermostat mode={kind!r}> (i-PI's: {', '.join(THERMOSTATS)})")
            out["thermostat"] = Thermostat(kind, self._quantity(thermo.find("tau"), "time", "femtosecond"))
        return out

    def ensemble(self) -> dict:
        ens = self.system.find("ensemble")
        temperature = None if ens is None else self._quantity(ens.find("temperature"), "temperature", "kelvin")
        pressure = None if ens is None else self._quantity(ens.find("pressure"), "pressure", "bar")
        initial = None
        init = self.system.find("initialize")
        velocities = None if init is None else init.find("velocities")
        if velocities is not None and velocities.get("mode") == "thermal":
            initial = self._quantity(velocities, "temperature", "kelvin")
        return {"temperature_k": temperature if temperature is not None and temperature > 0 else None,
                "initial_temperature_k": initial, "pressure_bar": pressure}

    def nbeads(self) -> int:
        init, beads = self.system.find("initialize"), self.system.find("beads")
        for elem in (beads, init):
            if elem is not None and elem.get("nbeads"):
                return max(1, self._int(elem.get("nbeads"), f"nbeads of <{elem.tag}>"))
        return 1

    def init_file(self) -> tuple[str | None, str | None]:
        init = self.system.find("initialize")
        file = None if init is None else init.find("file")
        if file is None:
            return None, None
        return self._text(file), file.get("mode", "chk")

    def start(self, nbeads: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(cell rows, positions) of the starting structure in Angstrom; (None, None) when it cannot be read."""
        try:
            beads = self.system.find("beads")
            if beads is not None:  # a checkpoint: bead 0 and the cell, atomic units unless said
                q = np.array(self._numbers(beads.find("q"), "<q>"))
                natoms = self._int(beads.get("natoms"), "natoms of <beads>")
                positions = q.reshape(-1, natoms, 3)[0] * convert(self.source, 1.0, "length", beads.find("q").get("units"), "angstrom")
                return self._cell(self.system.find("cell")), positions
            name, mode = self.init_file()
            if name is None:
                return None, None
            path = Path(self.source).parent / name
            cell, positions = _read_structure(path, mode)
            init_cell = self.system.find("initialize").find("cell")
            if init_cell is not None:
                cell = self._init_cell(init_cell)
            return cell, positions
        except InputError:
            raise
        except Exception:  # an init file i-PI's readers cannot read here: the analysis falls back to the outputs
            return None, None

    def _cell(self, elem: ET.Element | None) -> np.ndarray | None:
        if elem is None:
            return None
        h = np.array(self._numbers(elem, "<cell>")).reshape(3, 3)
        return h.T * convert(self.source, 1.0, "length", elem.get("units"), "angstrom")

    def _init_cell(self, elem: ET.Element) -> np.ndarray | None:
        mode = elem.get("mode", "manual")
        values = np.array(self._numbers(elem, "<cell>"))
        scale = convert(self.source, 1.0, "length", elem.get("units"), "angstrom")
        if mode == "manual" and len(values) == 9:
            return values.reshape(3, 3).T * scale
        if mode == "abc" and len(values) == 3:
            return np.diag(values) * scale
        if mode == "abcABC" and len(values) == 6:
            from ase.geometry import cellpar_to_cell

            return cellpar_to_cell(list(values[:3] * scale) + list(values[3:]))
        return None  # chk or pdb: the cell of the file

    def description(self) -> RunDescription:
        forcefields = self.forcefields()
        nbeads = self.nbeads()
        prefix, properties, trajectories = self.outputs(nbeads)
        motion = self.motion()
        init_file, _ = self.init_file()
        cell, positions = self.start(nbeads)
        seed = self._text(self.root.find("prng/seed"))
        total = self._text(self.root.find("total_steps"))
        step = self._text(self.root.find("step"))
        return RunDescription(
            source=self.source, checkpoint=_is_checkpoint(self.root), prefix=prefix, nbeads=nbeads,
            forcefields=forcefields, components=self.components(forcefields), properties=properties,
            trajectories=trajectories, **motion, **self.ensemble(),
            total_steps=None if total is None else self._int(total, "<total_steps>"),
            step=0 if step is None else self._int(step, "<step>"),
            seed=None if seed is None else self._int(seed, "<prng><seed>"),
            init_file=init_file,
            cell=None if cell is None else tuple(tuple(float(v) for v in row) for row in cell),
            isolated=None if cell is None or positions is None else looks_isolated(cell, positions),
        )


def _read_structure(path: Path, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(cell rows, positions) in Angstrom of the first frame of an i-PI init file (xyz, pdb, ase), by i-PI's readers."""
    if mode == "ase":
        from ase.io import read

        atoms = read(str(path), index=0)
        return np.asarray(atoms.cell.array), np.asarray(atoms.positions)
    from ipi.utils.io import read_file

    with open(path) as fh:
        ret = read_file(mode, fh)
    length = convert(str(path), 1.0, "length", None, "angstrom")
    positions = np.asarray(ret["atoms"].q).reshape(-1, 3) * length
    return np.asarray(ret["cell"].h).T * length, positions


__all__ = ["CHECKPOINT_PATTERNS", "RunDescription", "convert", "find_input", "input_candidates", "parse_description",
           "read_description", "split_list"]
