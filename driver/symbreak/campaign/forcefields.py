"""The forcefields of a run, their socket addresses and the command lines of their clients.

    fields = forcefields_for(config, get_case(config.case))    # [Forcefield("model", "model", [...]), ...]
    client_commands(fields, servers=2)                          # (ClientCommand("model0", ...), ...)

Their order is the component index k of i-PI's ``pot_component_raw(k)``:
  model        the potential wrapped in the strategy (weight 1)
  plain, correction   with MTS: plain on the inner step, delta:STRATEGY on the outer one
  replay:S     for the replay case, one per strategy S (weight 0 but the first)
  reference    q-TIP4P/F by LAMMPS at weight 0, so every frame has the true energy
Sockets listen on loopback (127.0.0.1) unless --host says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError
from ..ipi.launch import symbreak_command
from ..ipi.processes import SOCKETS_PREFIX, free_tcp_port, unique_socket_name
from ..potentials.spec import parse_potential_spec
from ..symmetry.strategies import parse_strategy_spec
from .cases import Case
from .config import RunConfig
from .manifest import ClientCommand, ForcefieldRecord, Role


@dataclass(frozen=True)
class Forcefield:
    """Usage: Forcefield("model", "model", command) -> one i-PI forcefield, its address and its client's command line."""

    name: str
    role: Role
    command: tuple[str, ...]
    strategy: str | None = None
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None
    address: str = ""
    port: int | None = None

    def record(self, component: int) -> ForcefieldRecord:
        """Usage: field.record(k) -> what the manifest keeps of it, as component k."""
        return ForcefieldRecord(component, self.name, self.role, self.strategy, self.weight, self.mts_weights)

    @property
    def socket(self) -> str:
        """The address as the manifest's attempts list it: a UNIX socket name, or HOST:PORT."""
        return self.address if self.port is None else f"{self.address}:{self.port}"


class Endpoints:
    """Usage: Endpoints(config).new("model") -> (address, port or None, client options): new socket addresses.

    Unique UNIX socket names, or free TCP ports on ``config.host``; with
    ``config.fixed_addresses`` the names CASE-ROLE and ports from 31415 up.
    """

    def __init__(self, config: RunConfig):
        self.config = config
        self.count = 0

    def new(self, role: str) -> tuple[str, int | None, list[str]]:
        fixed = self.config.fixed_addresses
        self.count += 1
        if self.config.transport == "unix":
            name = f"{self.config.case}-{role}" if fixed else unique_socket_name(f"{self.config.case}-{role}")
            return name, None, ["--unix", "--address", name]
        port = 31414 + self.count if fixed else free_tcp_port(self.config.host)
        return self.config.host, port, ["--host", self.config.host, "--port", str(port)]


def _serve(config: RunConfig, strategy: str, where: list[str], vacuum: bool) -> tuple[str, ...]:
    command = symbreak_command(
        "serve", "--potential", parse_potential_spec(config.potential).with_absolute_paths().text,
        "--strategy", strategy, *where,
        "--threads", str(config.threads), "--quiet", "--structure", "init.xyz",
    )
    if config.workers > 1 and parse_strategy_spec(strategy).evaluations > 1:
        command += ["--workers", str(config.workers)]
    return tuple(command + (["--vacuum"] if vacuum else []))


def with_reference(config: RunConfig, case: Case) -> bool:
    """Usage: with_reference(config, case) -> whether the run records the q-TIP4P/F reference at weight 0."""
    wanted = case.reference if config.reference is None else config.reference
    return bool(wanted and config.potential != "qtip4pf")


def forcefields_for(config: RunConfig, case: Case) -> list[Forcefield]:
    """Usage: forcefields_for(config, case) -> the forcefields (and their clients) a case needs with this configuration."""
    spec = parse_strategy_spec(config.strategy)  # validates the strategy string early
    endpoints = Endpoints(config)
    fields: list[Forcefield] = []

    def add(name: str, role: Role, strategy: str, weight: float = 1.0, mts=None) -> None:
        address, port, where = endpoints.new(name)
        fields.append(Forcefield(name, role, _serve(config, strategy, where, case.vacuum), strategy, weight, mts,
                                 address, port))

    if case.motion == "replay":
        for k, s in enumerate(config.replay_strategies):
            add(f"replay{k}", "replay", s, weight=1.0 if k == 0 else 0.0)
    elif case.mts:
        if not spec.is_grid:
            raise InputError(f"case {case.name} needs a grid strategy for its outer step (e.g. 2i), not '{config.strategy}'")
        add("plain", "inner", "plain", mts=(0.0, 1.0))
        add("correction", "outer", f"delta:{spec.label if spec.kind == 'legendre' else config.strategy}", mts=(1.0, 0.0))
    else:
        add("model", "model", config.strategy)
    if with_reference(config, case):
        address, port, where = endpoints.new("reference")
        command = symbreak_command("reference", *where, "--structure", "init.xyz")
        if case.vacuum:
            command.append("--vacuum")
        if case.ensemble == "npt":
            command.append("--reset-kspace")
        mts = (0.0, 0.0) if case.mts else None
        fields.append(Forcefield("reference", "reference", tuple(command), None, 0.0, mts, address, port))
    return fields


def client_commands(fields: list[Forcefield], servers: int, *, state_files: bool = True) -> tuple[ClientCommand, ...]:
    """Usage: client_commands(fields, 2) -> (model0, model1, reference0, reference1): each forcefield's clients.

    With ``state_files``, the servers of a random strategy keep their stream in
    NAME.random.json (``symbreak serve --state``), so a resumed run continues it.
    """
    clients = []
    for f in fields:
        random = state_files and f.strategy is not None and parse_strategy_spec(f.strategy).kind == "random"
        for k in range(servers):
            name = f"{f.name}{k}"
            clients.append(ClientCommand(name, f.command + (("--state", f"{name}.random.json") if random else ())))
    return tuple(clients)


def spare_clients(fields: list[Forcefield], servers: int) -> frozenset[str]:
    """Usage: spare_clients(fields, 2) -> {"model0", "model1", "reference0", "reference1"}: clients that share a socket.

    With two or more servers per socket, i-PI can finish with any one of them:
    whichever started late may find the run over (see ProcessGroup.wait_clients).
    """
    return frozenset(f"{f.name}{k}" for f in fields for k in range(servers)) if servers > 1 else frozenset()


def unix_sockets(clients: tuple[ClientCommand, ...]) -> list[str]:
    """Usage: unix_sockets(manifest.commands.clients) -> the UNIX socket paths these clients connect to."""
    paths = []
    for c in clients:
        command = list(c.command)
        if "--unix" in command and "--address" in command:
            k = command.index("--address")
            if k + 1 < len(command):
                paths.append(SOCKETS_PREFIX + command[k + 1])
    return paths


__all__ = ["Endpoints", "Forcefield", "client_commands", "forcefields_for", "spare_clients", "unix_sockets",
           "with_reference"]
