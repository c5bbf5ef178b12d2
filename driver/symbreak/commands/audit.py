"""`symbreak audit`: how, where and how much a model breaks rotational symmetry, in minutes on 2 cores.

    symbreak audit --potential metatomic:model.pt --out audit
    symbreak audit --potential 'ase:sevenn.calculator:SevenNetCalculator:{"model": "7net-0"}' --systems molecule
    symbreak audit --potential default --quick

On an isolated water molecule, a small liquid box and a proton-disordered ice
cell (built here): the rotational spread of E and F, the symmetry error of
plain, i, 2 and 2i against 3i, the share of the rotational variance in each
angular order l, the net force and torque; the model error against q-TIP4P/F
on displaced frames (--reference none to skip); a short i-PI NVE of the
molecule with plain and with 2i through `symbreak serve` (--nve-steps 0 to
skip). Writes OUT/audit.json, OUT/audit.html (one figure) and prints a verdict.
Cost: about 580 model evaluations per system with --lmax 3 (190 with --lmax 2).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..audit.results import SYSTEM_NAMES
from ..core.errors import InputError
from ..potentials.spec import SPEC_HELP, parse_potential_spec

REFERENCES = ("qtip4pf", "none")


def add_arguments(parser) -> None:
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--out", default="audit", help="output folder (default: audit)")
    parser.add_argument("--systems", default=",".join(SYSTEM_NAMES), help=f"comma-separated subset of {','.join(SYSTEM_NAMES)}")
    parser.add_argument("--reference", default="qtip4pf", choices=REFERENCES,
                        help="reference for the model error (default: qtip4pf, the exactly invariant water model by LAMMPS)")
    parser.add_argument("--lmax", type=int, default=None,
                        help="highest angular order resolved (grid legendre:lmax+1:i; default 3, 2 with --quick: "
                             "3 costs 392 extra evaluations, 2 reuses 3i)")
    parser.add_argument("--frames", type=int, default=8, help="displaced frames per system for the model error (default: 8)")
    parser.add_argument("--nve-steps", type=int, default=400, help="steps of 0.5 fs of each NVE run of the molecule (default: 400; 0 skips)")
    parser.add_argument("--nve-budget", type=float, default=300.0,
                        help="seconds the two NVE runs may take, estimated from the probe's cost per evaluation; "
                             "fewer steps (at least 40) when the model is slow (default: 300)")
    parser.add_argument("--quick", action="store_true", help="small systems (24-molecule liquid, 16-molecule ice) and --lmax 2 unless given")
    parser.add_argument("--seed", type=int, default=0, help="seed of the built structures (default: 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")


#: the fewest NVE steps a shortened run keeps, and the evaluations per step of plain + 2i (1 + 36 + the 2i diagnostics)
MIN_NVE_STEPS = 40
EVALUATIONS_PER_NVE_STEP = 38


def nve_steps_within(steps: int, budget_s: float, molecule_probe) -> int:
    """``steps``, or fewer (not below MIN_NVE_STEPS) if plain + 2i would take longer than ``budget_s`` at the probe's speed."""
    per_evaluation = molecule_probe.seconds / max(molecule_probe.evaluations, 1)
    affordable = int(budget_s / max(EVALUATIONS_PER_NVE_STEP * per_evaluation, 1e-9))
    return min(steps, max(MIN_NVE_STEPS, affordable))


def run(args) -> int:
    from ..audit.accuracy import model_error
    from ..audit.nve import molecule_nve
    from ..audit.probe import probe_system
    from ..audit.report import figure_png, verdict, write_html
    from ..audit.results import AuditReport, drift_ratio, write_json
    from ..audit.systems import build_systems, parse_systems
    from ..potentials.registry import load_potential

    started = time.perf_counter()
    spec = parse_potential_spec(args.potential)
    names = parse_systems(args.systems)
    # --quick lowers the default, never an --lmax given explicitly
    l_max = args.lmax if args.lmax is not None else (2 if args.quick else 3)
    if l_max < 1:
        raise InputError(f"--lmax must be >= 1, got {args.lmax}")
    if args.frames < 0 or args.nve_steps < 0:
        raise InputError("--frames and --nve-steps must be >= 0")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")

    def log(message: str) -> None:
        print(f"symbreak audit: [{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    log(f"loading {spec.text}")
    potential = load_potential(spec)
    description = potential.describe()
    out.mkdir(parents=True, exist_ok=True)  # only once the model has loaded: a bad spec leaves no empty folder
    reference_name = None if args.reference == "none" or spec.kind == "qtip4pf" else args.reference
    systems = build_systems(names, quick=args.quick, frames=args.frames if reference_name else 0, seed=args.seed)
    probes, errors, notes = [], [], []
    reference = load_potential(reference_name) if reference_name else None
    try:
        for system in systems:
            log(f"{system.name} ({system.structure.n_atoms} atoms): rotating it over the grids")
            probe = probe_system(potential, system, l_max=l_max, log=log)
            probes.append(probe)
            if reference is not None and system.frames:
                errors.append(model_error(potential, reference, reference_name, system,
                                          plain_symmetry_force=probe.error("plain").force_mae_meV_per_A))
    finally:
        getattr(reference, "close", lambda: None)()
        getattr(potential, "close", lambda: None)()
    crystal = []
    if "crystal" in names:
        from ..audit.crystal_symmetry import crystal_symmetry_probe

        log("crystal: relaxing proton-ordered ice XI and II by q-TIP4P/F, plain, random:1 and 2i")
        crystal = crystal_symmetry_probe(spec.with_absolute_paths().text, steps=300,
                                         averaged_steps=40 if args.quick else 100, log=log)
    nve = []
    if args.nve_steps and "molecule" in names:
        steps = nve_steps_within(args.nve_steps, args.nve_budget, next(p for p in probes if p.system == "molecule"))
        if steps < args.nve_steps:
            notes.append(f"NVE shortened to {steps} steps to fit --nve-budget {args.nve_budget:g} s at this model's speed")
            log(notes[-1])
        nve = molecule_nve(spec.with_absolute_paths().text, out / "nve", steps=steps, threads=args.threads, log=log)
    elif args.nve_steps:
        notes.append("no NVE run: the molecule is not among --systems")
    if any(p.invariant for p in probes):
        notes.append("an invariant system's per-l shares are roundoff, not structure")
    lines = verdict(spec.label, probes, errors, nve, reference_name, foreign=spec.kind in ("metatomic", "ase"),
                    crystal=crystal)
    report = AuditReport(
        potential=spec.text, label=spec.label, description=description, reference=reference_name,
        systems=tuple(probes), model_errors=tuple(errors), nve=tuple(nve), nve_drift_ratio=drift_ratio(nve),
        verdict=tuple(lines), notes=tuple(notes), seconds=time.perf_counter() - started, crystal=tuple(crystal),
    )
    write_json(report, out / "audit.json")
    png = figure_png(report)
    (out / "audit.png").write_bytes(png)
    write_html(report, out / "audit.html", png)
    print("\n".join(lines))
    log(f"wrote {out / 'audit.json'}, {out / 'audit.html'} and {out / 'audit.png'}")
    return 0
