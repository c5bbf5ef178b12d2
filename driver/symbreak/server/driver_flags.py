"""i-PI driver habits: ``-m MODE -o PARAMS`` as ``i-pi-py_driver`` takes them, turned into a potential spec.

    symbreak serve -u -a driver -m metatomic -o template=init.xyz,model=model.pt --strategy 2i
    spec, structure = spec_from_driver_flags("metatomic", "init.xyz,model.pt,device=cpu")

A published run script changes one word: ``i-pi-py_driver`` becomes ``symbreak serve``.
Modes: ``metatomic`` (i-PI's own option names: template, model, device, extensions,
check_consistency, energy_variant; positional ``template,model`` as i-PI reads them; plus
symbreak's dtype, chunk_size, max_atoms), ``ase`` (module, factory, and the
factory's keyword arguments as the remaining key=value pairs), and the named
potentials ``toy``, ``default``, ``default-ice``, ``qtip4pf`` (``template`` only). Values of -o
follow i-PI: comma-separated, ``key=value`` or positional.
"""

from __future__ import annotations

import json

from ..potentials.spec import PotentialError, parse_potential_spec

DRIVER_MODES = ("metatomic", "ase", "toy", "default", "default-ice", "qtip4pf")

#: i-PI's metatomic driver option -> symbreak's metatomic spec option
_METATOMIC_RENAMES = {"device": "device", "extensions": "extensions", "check_consistency": "check_consistency",
                      "energy_variant": "variant", "dtype": "dtype", "chunk_size": "chunk_size",
                      "max_atoms": "max_atoms"}


def _split(params: str) -> tuple[list[str], dict[str, str]]:
    positional, named = [], {}
    for token in (t.strip() for t in params.split(",")):
        if not token:
            continue
        key, eq, value = token.partition("=")
        if eq:
            named[key.strip()] = value.strip()
        else:
            positional.append(token)
    return positional, named


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def spec_from_driver_flags(mode: str, params: str) -> tuple[str, str | None]:
    """(potential spec text, structure file or None) for ``-m mode -o params``; PotentialError when unusable."""
    positional, named = _split(params or "")
    if mode == "pet":
        raise PotentialError(
            "i-PI's 'pet' driver reads models of the old pet package, which symbreak cannot load; export the model "
            "to metatomic and use -m metatomic -o template=init.xyz,model=model.pt (or --potential metatomic:model.pt)"
        )
    if mode not in DRIVER_MODES:
        raise PotentialError(f"unknown driver mode -m {mode}: use one of {', '.join(DRIVER_MODES)} (or --potential SPEC)")
    if mode == "metatomic":
        names = ["template", "model"]
        for name, value in zip(names, positional):
            named.setdefault(name, value)
        if len(positional) > len(names):
            raise PotentialError(f"-o {params}: at most two positional values (template, model) for -m metatomic")
        model = named.pop("model", None)
        template = named.pop("template", None)
        if not model:
            raise PotentialError("-m metatomic needs the model file: -o template=init.xyz,model=model.pt")
        unknown = sorted(set(named) - set(_METATOMIC_RENAMES))
        if unknown:
            raise PotentialError(
                f"-o {params}: unknown metatomic option(s) {', '.join(unknown)}; known: template, model, "
                + ", ".join(_METATOMIC_RENAMES)
            )
        options = ",".join(f"{_METATOMIC_RENAMES[k]}={v}" for k, v in named.items())
        text = f"metatomic:{model}" + (f":{options}" if options else "")
        return parse_potential_spec(text).text, template
    if mode == "ase":
        template = named.pop("template", None)
        module = named.pop("module", positional[0] if positional else None)
        factory = named.pop("factory", positional[1] if len(positional) > 1 else None)
        if not module or not factory:
            raise PotentialError("-m ase needs -o module=MODULE,factory=FACTORY[,key=value,...] (the factory's keyword arguments)")
        kwargs = {k: _value(v) for k, v in named.items()}
        return parse_potential_spec(f"ase:{module}:{factory}:{json.dumps(kwargs)}").text, template
    template = named.pop("template", positional[0] if positional else None)
    if named or len(positional) > 1:
        raise PotentialError(f"-m {mode} takes only template=FILE in -o, got '{params}'")
    return mode, template
