"""Observables of broken symmetry, computed from i-PI's own output files.

Reading outputs: ``symbreak.ipi.outputs`` (properties, trajectories). Pure functions on
arrays, one module per observable (molecules are consecutive O, H, H triplets,
cells are rows of lattice vectors or None, times in ps, eV and Angstrom):

- ``angular``: angular momentum, torque and precession of L for an isolated molecule
- ``blocks``: block averages, standard errors, automatic block size
- ``molecules``: O, H, H validation, minimum image, dipole axes u
- ``orientation``: orientational free energy F(cos theta, phi)/kT, harmonic anisotropy
- ``rdf``: g_OO, g_OH, g_HH (beads too), dipole correlations c_L(r), c_T(r)
- ``dynamics``: MSD of O, c_uu(t), power spectra in cm^-1
- ``energy``: drift and fluctuation of the conserved quantity
- ``ice``: relative energies of proton-disordered ice, errors vs spread, rankings
- ``pimd``: centroid-virial kinetic energy, ring-polymer radius of gyration
- ``errors``: model vs symmetry error against the largest grid (one function for the replay, `symbreak evaluate`
  and the tables), grid convergence, error decomposition

- ``bonds``: O-H bond lengths and their distribution

Declared once, written once:

- ``observables``: the registry: every observable's name, unit, run kinds, judged or not, paired or not, display
- ``collector``: the one writer, which refuses undeclared names; ``trajectory`` and ``frame_observables``: the
  observables computed from the frames alone (one function and one registry entry each)

Run folders to results (typed, frozen; one JSON writer and reader in ``results``):

- ``run_folder``: a run folder's manifest and i-PI outputs; ``run_analysis``: RunAnalysis of one folder
- ``results``: Observable, Curve, Map, ConvergenceRow, RunAnalysis, Verdict, Comparison; analysis.json, comparison.json
- ``compare``: verdicts within combined error bars, only for observables that have them and mean the same in each run
- ``findings``: the sentences a report opens with; ``report``: the HTML report; ``figures``: the PNGs
- ``pipeline``: analyse one folder, compare groups (what `symbreak analyze` and the study call)
"""
