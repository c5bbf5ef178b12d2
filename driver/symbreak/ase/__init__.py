"""symbreak inside ASE: any potential, wrapped in any symmetrization strategy, as an ASE calculator.

    from symbreak.ase import SymbreakCalculator
    atoms.calc = SymbreakCalculator("metatomic:model.pt", strategy="2i")     # from a potential spec
    atoms.calc = SymbreakCalculator(my_ase_calculator, strategy="2i+random:7")  # or around a calculator you have
"""

from .calculator import SymbreakCalculator

__all__ = ["SymbreakCalculator"]
