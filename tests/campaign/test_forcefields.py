"""Each forcefield's clients: one per server; with several on a socket, each is a spare."""

from __future__ import annotations

from symbreak.campaign.forcefields import Forcefield, client_commands, spare_clients


def test_servers_sharing_a_socket_are_spares():
    fields = [Forcefield("model", "model", ("serve", "model")), Forcefield("reference", "reference", ("lmp",))]
    names = [c.name for c in client_commands(fields, 3)]
    assert names == ["model0", "model1", "model2", "reference0", "reference1", "reference2"]
    assert spare_clients(fields, 3) == set(names)  # whichever starts last may find the run over
    assert spare_clients(fields, 1) == frozenset()
