"""Observables of broken symmetry, computed from i-PI's own output files."""
