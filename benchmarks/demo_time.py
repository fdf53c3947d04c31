"""How long ``mimamori demo`` takes, end to end, as a newcomer runs it (a fresh process).

Runs ``mimamori demo --json`` ``--runs`` times and prints the wall time of each run, the
in-process time (seeding 8 weeks + the morning, without Python start-up and imports)
is printed by the human mode's last line.

    .venv/bin/python benchmarks/demo_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "mimamori.cli.main", "demo", "--json", "--out",
                                   f"{folder}/g.png"], capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - started)
            steps = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
            print(f"run: {walls[-1]:.1f} s wall, {len(steps)} steps")
    print(f"mimamori demo --json: best {min(walls):.1f} s, worst {max(walls):.1f} s over {len(walls)} runs")


if __name__ == "__main__":
    main()
