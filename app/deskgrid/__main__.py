"""`python -m deskgrid`: the same as the `deskgrid` command."""

import sys

from deskgrid.cli import main

if __name__ == "__main__":
    sys.exit(main())
