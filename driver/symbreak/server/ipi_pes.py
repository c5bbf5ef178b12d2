"""symbreak as an in-process i-PI PES (no sockets): `<ffdirect pes='custom'>` or `i-pi-py_driver -m custom`.

    i-pi-py_driver -m custom -P "$(python -m symbreak.server.ipi_pes)" -o potential=toy,strategy=2i -u -a h2o
    <ffdirect name='model'><pes>custom</pes>
      <pes_path> .../symbreak/server/ipi_pes.py </pes_path>
      <parameters>{potential: toy, strategy: 2i, vacuum: true}</parameters>
    </ffdirect>

The path of this file is printed by ``python -m symbreak.server.ipi_pes``.
Parameters: potential (any spec; i-PI splits its option strings at commas, so
separate metatomic options with semicolons there: ``metatomic:m.pt:dtype=float64;chunk_size=8``),
strategy, structure (species file), vacuum, chunk_size, diagnostics, workers (K ranks on this machine share
every call's rotated copies, as `symbreak serve --workers K`: i-PI's process is rank 0). Evaluation goes through
the same :class:`ForceService` as the socket server, batched when i-PI batches.
"""

from __future__ import annotations

from ipi.pes.dummy import Dummy_driver

__DRIVER_NAME__ = "symbreak"
__DRIVER_CLASS__ = "SymbreakDriver"


def _flag(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


class SymbreakDriver(Dummy_driver):
    """i-PI PES wrapping a symbreak potential in a strategy (see the module docstring)."""

    def __init__(self, potential="toy", strategy="plain", structure=None, vacuum=False, chunk_size=None,
                 diagnostics=True, workers=1, *args, **kwargs):
        from symbreak.potentials.registry import load_potential
        from symbreak.server.service import ForceService
        from symbreak.structures.io import read_numbers
        from symbreak.symmetry.strategies import parse_strategy

        kwargs.pop("verbosity", None)
        spec = str(potential).strip("'\"")
        chunk = int(chunk_size) if chunk_size not in (None, "", "None") else None
        model, workers = load_potential(spec), int(workers)
        if workers > 1:
            import atexit

            from symbreak.distributed import start_local_ranks

            model = start_local_ranks(spec, workers, local=model, chunk_size=chunk)
            atexit.register(model.close)  # QUIT to the ranks when i-PI's process ends
        wrapped = parse_strategy(str(strategy), model, chunk_size=None if workers > 1 else chunk,
                                 diagnostics=_flag(diagnostics))
        numbers = read_numbers(structure) if structure else None
        self.service = ForceService(wrapped, numbers, vacuum=_flag(vacuum))
        super().__init__(*args, **kwargs)

    def compute_structure(self, cell, pos):
        return self.service([cell], [pos])[0]

    def compute(self, cell, pos):
        if isinstance(cell, list):
            return self.service(cell, pos)
        return self.compute_structure(cell, pos)


if __name__ == "__main__":
    print(__file__)
