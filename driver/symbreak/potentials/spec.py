"""The one potential-spec grammar: what ``--potential`` accepts everywhere.

    spec = parse_potential_spec("metatomic:model.pt:dtype=float64,chunk_size=8")
    spec.kind, spec.path, spec.option("dtype")        # "metatomic", "model.pt", "float64"

Forms (serve, run, study, evaluate, audit and the in-process i-PI PES all take them):

  toy | default | qtip4pf              the analytic toy water, the shipped model, the LAMMPS reference
  default-ice                          the shipped model fine-tuned on the eight ice polymorphs (knows their
                                       relative energies; its liquid forces are a little worse than default's)
  PATH                                 a checkpoint (file or folder) written by `symbreak train`
  default:KEY=VALUE,... | PATH:KEY=VALUE,...   a shipped model (default, default-ice) or a checkpoint with options: dtype
                                       (float32|float64, default float32), device (cpu, cuda, cuda:1; default
                                       cpu), chunk_size (structures per model call)
  metatomic:PATH[:KEY=VALUE,...]       an exported metatomic model (extra: symbreak[metatomic]); options are
                                       separated by commas or, inside i-PI's own option strings, semicolons; keys:
                                       dtype (float32|float64, default: the model's), device (default cpu),
                                       extensions (folder of compiled TorchScript extensions),
                                       chunk_size (structures per model call, default 16),
                                       max_atoms (atoms per model call, default 4096),
                                       variant (energy output variant, e.g. pbe for energy/pbe),
                                       check_consistency (true|false, default false),
                                       pack (true|false, default true: isolated structures of one call
                                       go to a local model as one system)
  ase:MODULE:FACTORY[:JSON]            any ASE calculator made by FACTORY(**JSON) from MODULE, an importable
                                       module or a path to a .py file; JSON is an object of keyword
                                       arguments, e.g. ase:sevenn.calculator:SevenNetCalculator:{"model":"7net-0"}

A spec is parsed once into a frozen :class:`PotentialSpec`; bad syntax is a
:class:`PotentialError` with one line that says what is wrong and what form is expected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Literal

from ..core.errors import InputError

PotentialKind = Literal["toy", "default", "default-ice", "qtip4pf", "checkpoint", "metatomic", "ase"]

#: the PET-style checkpoints shipped in symbreak/models (NAME.pt); they take PET_OPTIONS as NAME:KEY=VALUE,...
SHIPPED_MODELS = ("default", "default-ice")

#: the names that need no path
POTENTIAL_NAMES = ("toy", *SHIPPED_MODELS, "qtip4pf")

#: option keys of metatomic specs, with what each takes (for the error messages)
METATOMIC_OPTIONS = {
    "dtype": "float32 or float64",
    "device": "a torch device, e.g. cpu",
    "extensions": "a folder of TorchScript extensions",
    "chunk_size": "a positive integer",
    "max_atoms": "a positive integer",
    "variant": "the variant of the energy output, e.g. pbe",
    "check_consistency": "true or false",
    "pack": "true or false (isolated structures packed into one model system)",
}

#: option keys of the shipped model and of checkpoints (default:KEY=VALUE,..., PATH:KEY=VALUE,...)
PET_OPTIONS = {
    "dtype": "float32 or float64",
    "device": "a torch device, e.g. cpu or cuda",
    "chunk_size": "a positive integer",
}

SPEC_HELP = (
    "toy, default, default-ice, qtip4pf, a checkpoint path, metatomic:MODEL.pt[:key=value,...] "
    "or ase:MODULE:FACTORY[:JSON-kwargs]"
)


class PotentialError(InputError):
    """A potential spec, file or option that cannot be used (one line: what is wrong, what to do)."""


@dataclass(frozen=True)
class PotentialSpec:
    """A parsed ``--potential`` value; ``text`` is what was given, so that it can be handed on unchanged."""

    kind: PotentialKind
    text: str
    #: checkpoint or metatomic model file
    path: str | None = None
    #: ase: the module (or .py file) and the factory in it
    module: str | None = None
    factory: str | None = None
    #: ase: the factory's keyword arguments, as JSON text (an object)
    arguments: str = "{}"
    #: metatomic, shipped models, checkpoint: (key, value) pairs in the order given
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str, default: str | None = None) -> str | None:
        return dict(self.options).get(key, default)

    def int_option(self, key: str, default: int | None) -> int | None:
        """The option ``key`` as a positive integer (``default`` when absent); PotentialError otherwise."""
        text = self.option(key)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise PotentialError(f"{self.kind} option {key} must be a positive integer, got '{text}'")
        return value

    def flag_option(self, key: str, default: bool) -> bool:
        """The option ``key`` as true/false (1/0, yes/no; ``default`` when absent); PotentialError otherwise."""
        text = self.option(key)
        if text is None:
            return default
        value = text.strip().lower()
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise PotentialError(f"{self.kind} option {key} must be true or false, got '{text}'")
        return value in ("true", "1", "yes")

    def factory_kwargs(self) -> dict:
        return json.loads(self.arguments)

    def with_absolute_paths(self) -> "PotentialSpec":
        """The same spec with its files as absolute paths, for processes that run in another folder."""
        if self.kind == "checkpoint":
            path = os.path.abspath(self.path)
            return PotentialSpec(kind="checkpoint", text=path + _options_text(self.options), path=path,
                                 options=self.options)
        if self.kind == "metatomic":
            path = os.path.abspath(self.path)
            options = tuple((k, os.path.abspath(v) if k == "extensions" else v) for k, v in self.options)
            return PotentialSpec(kind="metatomic", text=f"metatomic:{path}{_options_text(options)}", path=path,
                                 options=options)
        if self.kind == "ase" and self.module.endswith(".py"):
            module = os.path.abspath(self.module)
            return PotentialSpec(kind="ase", text=f"ase:{module}:{self.factory}:{self.arguments}", module=module,
                                 factory=self.factory, arguments=self.arguments)
        return self

    @property
    def label(self) -> str:
        """A short name for tables and figures: the file name or the factory, not the whole spec."""
        if self.kind == "metatomic":
            return f"metatomic:{os.path.basename(self.path or '')}"
        if self.kind == "ase":
            return f"ase:{self.factory}"
        if self.kind == "checkpoint":
            return os.path.basename(os.path.normpath(self.path or ""))
        return self.kind


def parse_potential_spec(text: str) -> PotentialSpec:
    """``parse_potential_spec("ase:sevenn.calculator:SevenNetCalculator:{...}")`` -> PotentialSpec."""
    text = str(text).strip()
    if not text:
        raise PotentialError(f"empty potential: use {SPEC_HELP}")
    if text in POTENTIAL_NAMES:
        return PotentialSpec(kind=text, text=text)
    for name in SHIPPED_MODELS:
        if text.startswith(name + ":"):
            return PotentialSpec(kind=name, text=text, options=_parse_options(text[len(name) + 1:], text, name))
    if text.startswith("metatomic:"):
        return _parse_metatomic(text)
    if text.startswith("ase:"):
        return _parse_ase(text)
    if os.path.exists(text):
        return PotentialSpec(kind="checkpoint", text=text, path=text)
    head, tail = _split_options(text)
    if tail is not None:
        if not os.path.exists(head):
            raise PotentialError(f"unknown potential '{head}' in '{text}' (no such name or file): use {SPEC_HELP}")
        return PotentialSpec(kind="checkpoint", text=text, path=head, options=_parse_options(tail, text, "checkpoint"))
    prefix = text.split(":", 1)[0]
    if ":" in text and prefix not in ("metatomic", "ase"):
        raise PotentialError(f"unknown potential kind '{prefix}:' in '{text}': use {SPEC_HELP}")
    raise PotentialError(f"unknown potential '{text}' (no such name or file): use {SPEC_HELP}")


def _parse_metatomic(text: str) -> PotentialSpec:
    rest = text[len("metatomic:"):]
    rest, tail = _split_options(rest)
    options = () if tail is None else _parse_options(tail, text, "metatomic")
    if not rest:
        raise PotentialError(f"'{text}' names no model file: use metatomic:PATH[:key=value,...]")
    return PotentialSpec(kind="metatomic", text=text, path=rest, options=options)


def _split_options(text: str) -> tuple[str, str | None]:
    """("model.pt", "device=cuda:1") from "model.pt:device=cuda:1": the options begin at the last colon whose next
    part holds a "=" (paths and values such as cuda:1 may hold colons); (text, None) without options."""
    colon = len(text)
    while (colon := text.rfind(":", 0, colon)) >= 0:
        if "=" in text[colon + 1:].split(":", 1)[0]:
            return text[:colon], text[colon + 1:]
    return text, None


def _options_text(options: tuple[tuple[str, str], ...]) -> str:
    """":key=value,..." as a spec ends with them, "" without options."""
    return (":" + ",".join(f"{k}={v}" for k, v in options)) if options else ""


def _parse_options(tail: str, text: str, kind: str) -> tuple[tuple[str, str], ...]:
    allowed = METATOMIC_OPTIONS if kind == "metatomic" else PET_OPTIONS
    pairs = []
    # ";" works too: i-PI splits its own option strings (-o, <parameters>) at commas
    for item in tail.replace(";", ",").split(","):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise PotentialError(f"bad option '{item}' in '{text}': options are key=value pairs separated by commas")
        if key not in allowed:
            known = ", ".join(f"{k} ({v})" for k, v in allowed.items())
            raise PotentialError(f"unknown {kind} option '{key}' in '{text}': known options are {known}")
        pairs.append((key, value))
    return tuple(pairs)


def _parse_ase(text: str) -> PotentialSpec:
    parts = text[len("ase:"):].split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise PotentialError(
            f"'{text}' is not ase:MODULE:FACTORY[:JSON-kwargs], e.g. "
            "ase:sevenn.calculator:SevenNetCalculator:{\"model\": \"7net-0\"}"
        )
    module, factory = parts[0], parts[1]
    arguments = parts[2] if len(parts) == 3 and parts[2].strip() else "{}"
    try:
        kwargs = json.loads(arguments)
    except json.JSONDecodeError as err:
        raise PotentialError(f"the keyword arguments of '{text}' are not valid JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(kwargs, dict):
        raise PotentialError(f"the keyword arguments of '{text}' must be a JSON object {{...}}, got {type(kwargs).__name__}")
    return PotentialSpec(kind="ase", text=text, module=module, factory=factory, arguments=json.dumps(kwargs))
