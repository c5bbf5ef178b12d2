"""The bottom layer: what every other package shares (structures, results, units, errors, atomic files).

It imports nothing from symbreak; every package above may import it.
"""

from .errors import DeadlineError, InputError, MissingFileError, PeerError, ProcessError, SymbreakError
from .files import atomic_path, write_text_atomic
from .structure import Evaluation, Structure, minimum_image, split_batch

__all__ = [
    "DeadlineError", "Evaluation", "InputError", "MissingFileError", "PeerError", "ProcessError", "Structure",
    "SymbreakError", "atomic_path", "minimum_image", "split_batch", "write_text_atomic",
]
