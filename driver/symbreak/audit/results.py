"""The audit's typed results: what audit.json holds, written and read in one place.

    report = AuditReport(...); write_json(report, "audit/audit.json")
    report = read_json("audit/audit.json")

Energies in meV per molecule, forces in meV/A per Cartesian component, torques
in eV, angular momenta in hbar: the units are in the field names.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

from ..core.errors import InputError
from .crystal_symmetry import CrystalSymmetryRow, crystal_row_from_json

#: bumped whenever a field changes meaning; read_json refuses other versions
AUDIT_VERSION = 1

SystemName = Literal["molecule", "liquid", "ice", "crystal"]
SYSTEM_NAMES: tuple[SystemName, ...] = ("molecule", "liquid", "ice", "crystal")
#: the systems probed over the rotation grids; "crystal" is the space-group probe (audit.crystal_symmetry)
GRID_SYSTEMS: tuple[SystemName, ...] = ("molecule", "liquid", "ice")

#: the strategies whose symmetry error the audit measures, against REFERENCE_GRID
AUDITED_STRATEGIES = ("plain", "i", "2", "2i")
REFERENCE_GRID = "3i"


@dataclass(frozen=True)
class StrategyError:
    """Symmetry error of one strategy against the reference grid (3i) on one structure."""

    strategy: str
    evaluations: int
    energy_meV_per_molecule: float
    force_mae_meV_per_A: float


@dataclass(frozen=True)
class OrderShares:
    """Share of the rotational variance of E or of the back-rotated F in each angular order l (0..l_max).

    ``odd`` is the parity-odd part of each share; ``unresolved`` the share of orders
    above ``resolved_l_max`` that the grid cannot tell apart.
    """

    quantity: Literal["energy", "force"]
    grid: str
    resolved_l_max: int
    shares: tuple[float, ...]
    odd: tuple[float, ...]
    unresolved: float
    #: the rotational variance itself: (meV per molecule)^2 for E, (meV/A)^2 summed over components for F
    variance: float

    def dominant_order(self) -> int | None:
        """The order with the largest share, None when nothing is resolved."""
        if not self.shares or max(self.shares) <= 0:
            return None
        return int(max(range(len(self.shares)), key=lambda l: self.shares[l]))


@dataclass(frozen=True)
class SystemProbe:
    """Rotational behaviour of the model on one system (one structure, every rotation of the grids)."""

    system: SystemName
    n_atoms: int
    n_molecules: int
    periodic: bool
    energy_meV_per_molecule: float
    #: rotational standard deviation over the reference grid
    energy_spread_meV_per_molecule: float
    force_spread_meV_per_A: float
    errors: tuple[StrategyError, ...]
    energy_orders: OrderShares
    force_orders: OrderShares
    #: |sum F| and |torque about the centre of mass| of the plain model (the torque only for isolated systems)
    net_force_eV_per_A: float
    net_torque_eV: float | None
    #: the model is invariant to its arithmetic's precision on this structure
    invariant: bool
    evaluations: int
    seconds: float

    def error(self, strategy: str) -> StrategyError:
        for e in self.errors:
            if e.strategy == strategy:
                return e
        raise KeyError(f"no symmetry error for strategy {strategy}")


@dataclass(frozen=True)
class ModelError:
    """The plain model against the reference on displaced frames of one system."""

    system: SystemName
    reference: str
    frames: int
    #: mean and standard deviation over frames of (E_model - E_ref) per molecule
    energy_offset_meV_per_molecule: float
    energy_fluctuation_meV_per_molecule: float
    force_mae_meV_per_A: float
    #: force RMSE over the standard deviation of the reference forces
    force_rmse_relative: float
    #: plain force symmetry error (against 3i) over this force MAE
    symmetry_over_model: float | None


@dataclass(frozen=True)
class NVEResult:
    """A short i-PI NVE run of the isolated molecule through `symbreak serve`."""

    strategy: str
    steps: int
    duration_fs: float
    L0_hbar: float
    L_max_change_hbar: float
    L_direction_change_deg: float
    torque_rms_eV: float
    ms_per_step: float
    run: str


def drift_ratio(nve) -> float | None:
    """max |L - L0| of the plain NVE run over that of the 2i run (None without both, or a zero 2i drift)."""
    by = {r.strategy: r for r in nve}
    if "plain" in by and "2i" in by and by["2i"].L_max_change_hbar > 0:
        return by["plain"].L_max_change_hbar / by["2i"].L_max_change_hbar
    return None


@dataclass(frozen=True)
class AuditReport:
    """Everything `symbreak audit` measured on one potential."""

    potential: str
    label: str
    description: str
    reference: str | None
    systems: tuple[SystemProbe, ...]
    model_errors: tuple[ModelError, ...]
    nve: tuple[NVEResult, ...]
    #: L_max_change of plain over that of 2i (None without both runs)
    nve_drift_ratio: float | None
    verdict: tuple[str, ...]
    notes: tuple[str, ...]
    seconds: float
    version: int = AUDIT_VERSION
    #: the crystal symmetry probe: proton-ordered ice relaxed by each method, space groups by tolerance
    crystal: tuple[CrystalSymmetryRow, ...] = ()

    def system(self, name: str) -> SystemProbe | None:
        return next((s for s in self.systems if s.system == name), None)

    def model_error(self, name: str) -> ModelError | None:
        return next((m for m in self.model_errors if m.system == name), None)


def _strict(value):
    """NaN and inf become null: audit.json stays valid JSON for strict readers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def write_json(report: AuditReport, path) -> None:
    """Write atomically (a half-written audit.json never replaces a good one); NaN is written as null."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_strict(asdict(report)), indent=1, allow_nan=False) + "\n")
    tmp.replace(path)


def _build(cls, data: dict):
    return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def read_json(path) -> AuditReport:
    """``read_json("audit/audit.json")`` -> AuditReport (ValueError for another version)."""
    data = json.loads(Path(path).read_text())
    if data.get("version") != AUDIT_VERSION:
        raise InputError(f"{path} is audit format {data.get('version')}, this symbreak reads {AUDIT_VERSION}")
    systems = tuple(
        _build(SystemProbe, {
            **s,
            "errors": tuple(_build(StrategyError, e) for e in s["errors"]),
            "energy_orders": _build(OrderShares, {**s["energy_orders"], "shares": tuple(s["energy_orders"]["shares"]),
                                                 "odd": tuple(s["energy_orders"]["odd"])}),
            "force_orders": _build(OrderShares, {**s["force_orders"], "shares": tuple(s["force_orders"]["shares"]),
                                                "odd": tuple(s["force_orders"]["odd"])}),
        })
        for s in data["systems"]
    )
    return AuditReport(**{
        **data,
        "systems": systems,
        "model_errors": tuple(_build(ModelError, m) for m in data["model_errors"]),
        "nve": tuple(_build(NVEResult, n) for n in data["nve"]),
        "verdict": tuple(data["verdict"]),
        "notes": tuple(data["notes"]),
        "crystal": tuple(crystal_row_from_json(row) for row in data.get("crystal", ())),
    })
