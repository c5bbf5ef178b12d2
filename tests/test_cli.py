"""The command line imports only the subcommand it runs, and says one line for a retired one."""

import pytest
from symbreak import cli


def test_only_the_chosen_subcommand_is_imported(monkeypatch):
    imported = []
    real = cli.importlib.import_module
    monkeypatch.setattr(cli.importlib, "import_module", lambda name: imported.append(name) or real(name))
    parser = cli.build_parser("check")
    assert imported == ["symbreak.commands.check"]
    assert parser.parse_args(["check", "somewhere"]).command == "check"
    imported.clear()
    cli.build_parser(None)  # `symbreak --help`: the list of commands, no module imported
    assert imported == []


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS)


def test_a_retired_command_is_one_line(capsys):
    assert cli.main(["worker", "--port", "4000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "torchrun" in err
