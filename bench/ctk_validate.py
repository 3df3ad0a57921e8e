#!/usr/bin/env python3
"""Validate every Chaos Toolkit experiment in a folder in one process.

This calls the two chaoslib functions that `chaos validate` calls for one
file (load_experiment, then ensure_experiment_is_valid), so the folder is
measured without starting the Python interpreter and the chaostoolkit CLI
once per file. Exits 1 on the first invalid experiment.
"""

import pathlib
import sys

from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.loader import load_experiment


def main():
    folder = pathlib.Path(sys.argv[1])
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise SystemExit(f"no .json experiment in {folder}")
    for path in paths:
        ensure_experiment_is_valid(load_experiment(str(path)))


if __name__ == "__main__":
    main()
