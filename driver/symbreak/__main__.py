"""`python -m symbreak ...`: the command line, also what torchrun starts (`torchrun ... -m symbreak serve ...`)."""

import sys

from .cli import main

sys.exit(main())
