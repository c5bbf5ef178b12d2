"""Everything about i-PI in one place: its input (written and read), its processes and its output files.

Used by campaign (the runs), training (reference MD for data) and analysis (any i-PI run folder).
"""
