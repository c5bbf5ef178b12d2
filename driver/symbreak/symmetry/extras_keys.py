"""The keys of the diagnostics a strategy returns with each structure (i-PI's extras), shared by writer and readers.

    from symbreak.symmetry import extras_keys as keys
    extras[0][keys.ENERGY_SPREAD]                  # eV: weighted std of E over the grid
    extras_series(run.extras(0), keys.ENERGY_PLAIN)   # the analysis reads the same names

Energies in eV, forces eV/A, torques eV; vectors are lists. Written by
:mod:`symbreak.symmetry.strategies`, read by the analysis, the evaluation and
the tests, all through these constants; i-PI stores them as JSON.
"""

#: every strategy: its label
STRATEGY = "strategy"
#: the plain model's energy and its net force and torque (about the centre of mass)
ENERGY_PLAIN = "energy_plain"
NET_FORCE_PLAIN = "net_force_plain"
NET_TORQUE_PLAIN = "net_torque_plain"
#: grid strategies: the number of rotations, the average, the spreads over the grid, plain minus averaged
N_ROTATIONS = "n_rotations"
ENERGY_AVERAGED = "energy_averaged"
ENERGY_SPREAD = "energy_spread"
FORCE_SPREAD = "force_spread"
ENERGY_PLAIN_MINUS_AVERAGED = "energy_plain_minus_averaged"
FORCE_PLAIN_MINUS_AVERAGED_RMS = "force_plain_minus_averaged_rms"
#: random strategies: the stream's seed, the call count, whether the rotation was improper, the net force and torque
SEED = "seed"
CALL = "call"
IMPROPER = "improper"
NET_FORCE = "net_force"
NET_TORQUE = "net_torque"
#: +nonetforce / +notorque: what was removed
NET_FORCE_REMOVED = "net_force_removed"
NET_TORQUE_REMOVED = "net_torque_removed"
