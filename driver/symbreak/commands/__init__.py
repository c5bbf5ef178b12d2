"""The command line's subcommands, one module each (`symbreak NAME`): the top layer, importing any package below."""
