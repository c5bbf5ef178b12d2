"""`symbreak audit`: the first thing to run on a new model: how, where and how much it breaks rotational symmetry.

    symbreak audit --potential metatomic:model.pt --out audit

results   typed results (written to audit.json, read back by the report)
systems   the water systems the audit builds: an isolated molecule, a liquid box, an ice cell
probe     rotational spread, symmetry error of plain, i, 2, 2i against 3i, per-l shares, net force and torque
accuracy  the model error against q-TIP4P/F on displaced frames (offset and fluctuation of E, F errors)
nve       short i-PI NVE runs of the molecule through `symbreak serve`: the angular-momentum drift, plain vs 2i
report    audit.json, audit.html with its figure, and the verdict in a few lines
cli       the command
"""
