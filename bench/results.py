#!/usr/bin/env python3
"""Reduce the raw outputs of bench/run to the figures in BENCHMARKS.md.

  hyperfine FILE             mean and standard deviation in ms of a
                             `hyperfine --export-json` file
  rss FILE                   peak RSS in MB from a `/usr/bin/time -v` file
  reaction KILLS JSON...     stop-to-reverted and kill-to-reverted in ms
                             (p50, p99, max) over the runs that stopped;
                             KILLS contains one nanosecond timestamp per run
  scale JSON SIGINT_NS       faults injected and reverted, seconds from the
                             run start to the last injection, and seconds
                             from SIGINT to the last revert; then the
                             run's status and reason on a second line
"""

import json
import sys
from datetime import datetime


def timestamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))]


def hyperfine(path):
    result = json.load(open(path))["results"][0]
    print(f"{result['mean'] * 1000:.2f} {result['stddev'] * 1000:.2f}")


def rss(path):
    for line in open(path):
        if "Maximum resident set size" in line:
            print(f"{int(line.split(':')[1]) / 1024:.1f}")
            return
    raise SystemExit(f"no 'Maximum resident set size' in {path}")


def reaction(kills_path, result_paths):
    kills = [int(line) / 1e9 for line in open(kills_path)]
    stop_to_reverted = []
    kill_to_reverted = []
    for kill, path in zip(kills, result_paths):
        result = json.load(open(path))
        reverted = [fault["reverted_at"] for fault in result["faults"] if fault["reverted_at"]]
        if not result.get("stop") or len(reverted) != len(result["faults"]) or not reverted:
            continue
        last = max(timestamp(value) for value in reverted)
        stop_to_reverted.append((last - timestamp(result["stop"]["at"])) * 1000)
        kill_to_reverted.append((last - kill) * 1000)
    if not stop_to_reverted:
        raise SystemExit("no run stopped on its stop condition with every fault reverted")
    figures = [len(stop_to_reverted), len(result_paths)]
    for values in (stop_to_reverted, kill_to_reverted):
        figures += [percentile(values, 0.5), percentile(values, 0.99), max(values)]
    print(" ".join(f"{value:.1f}" if isinstance(value, float) else str(value) for value in figures))


def scale(path, sigint_ns):
    result = json.load(open(path))
    started = timestamp(result["started_at"])
    injected = [timestamp(f["injected_at"]) for f in result["faults"] if f["injected_at"]]
    reverted = [timestamp(f["reverted_at"]) for f in result["faults"] if f["reverted_at"]]
    inject_seconds = max(injected) - started if injected else float("nan")
    revert_seconds = max(reverted) - int(sigint_ns) / 1e9 if reverted else float("nan")
    # A run that ended by itself (a failed step) reverted before the SIGINT.
    revert = f"{revert_seconds:.2f}" if revert_seconds >= 0 else "n/a"
    print(f"{len(injected)} {len(reverted)} {inject_seconds:.2f} {revert}")
    print(f"{result['status']}: {result['reason'] or 'no reason given'}")


def main():
    command, *args = sys.argv[1:]
    if command == "hyperfine":
        hyperfine(*args)
    elif command == "rss":
        rss(*args)
    elif command == "reaction":
        reaction(args[0], args[1:])
    elif command == "scale":
        scale(*args)
    else:
        raise SystemExit(f"unknown subcommand {command!r}; see the docstring of {sys.argv[0]}")


if __name__ == "__main__":
    main()
