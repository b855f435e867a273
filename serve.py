"""Thin wrapper: ``python serve.py ARGS`` is ``recsys serve ARGS``."""

import sys

from recsys.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
