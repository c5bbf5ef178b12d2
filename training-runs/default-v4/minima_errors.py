"""Each model's energy error on the 0 K frames of `symbreak dataset --minima`, per polymorph, relative to Ih.

    python training-runs/default-v4/minima_errors.py data4/minima.xyz run6/best.pt run7/best.pt
    python training-runs/default-v4/minima_errors.py data4-attempt7/model6/model-minima.xyz run6/best.pt

For every stage of the frames (built, relaxed: q-TIP4P/F's minimum; model-relaxed: a model's minimum) prints the
mean over the frames of (model - q-TIP4P/F energy) per molecule of each polymorph, minus that of Ih, in meV/H2O:
the error of the polymorph's energy relative to Ih at those structures.
"""

import sys
from collections import defaultdict

import numpy as np


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    import ase.io

    from symbreak.potentials.registry import load_potential
    from symbreak.training.data import read_labelled

    info = [atoms.info for atoms in ase.io.read(argv[0], ":")]
    data = read_labelled(argv[0])
    for spec in argv[1:]:
        energies = load_potential(spec).compute([d.structure for d in data]).energies
        errors = defaultdict(list)
        for frame, d, energy in zip(info, data, energies):
            errors[frame["stage"], frame["polymorph"]].append(1000 * (float(energy) - d.energy) / (d.structure.n_atoms // 3))
        print(spec)
        for stage in sorted({stage for stage, _ in errors}):
            ih = np.mean(errors[stage, "Ih"])
            print(f"  {stage:14s}" + " ".join(f"{name}:{np.mean(v) - ih:+.2f}" for (s, name), v in sorted(errors.items())
                                              if s == stage))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
