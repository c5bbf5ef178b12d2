"""The water molecule's minimum-energy geometry in q-TIP4P/F (Habershon, Markland, Manolopoulos 2009).

Shared by the structure builders (the molecules they make) and the reference (its bond and angle terms).
"""

#: O-H bond length at the minimum (A)
R_OH_EQ = 0.9419
#: H-O-H angle at the minimum (degrees)
THETA_EQ = 107.4

__all__ = ["R_OH_EQ", "THETA_EQ"]
