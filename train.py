"""Thin wrapper: ``python train.py ARGS`` is ``recsys train ARGS``."""

import sys

from recsys.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
