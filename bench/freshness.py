#!/usr/bin/env python3
"""Freshness benchmark (issue 13): mean and 95th percentile staleness of a change under the
fixed hourly schedule, the daemon's adaptive schedule and the closed-form optimum, for a
Free portal (250 requests a day) with 8 modules changing 5 to 1,000 times a day.

    python3 bench/freshness.py [--seeds 5]

Runs `cargo run --release --example freshness` once per seed: the daemon's own scheduling
code (allocator, rate estimator, intervals, pacing) on a virtual clock, changes arriving
at random (Poisson) at the true rates; two days of learning, then one measured day.
Prints each seed's table, then the median ratios against their targets.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--example", "freshness"],
                   cwd=ROOT, check=True, capture_output=True)
    binary = os.path.join(ROOT, "target", "release", "examples", "freshness")
    vs_fixed, vs_best, over = [], [], False
    for seed in range(1, a.seeds + 1):
        out = subprocess.run([binary, "--seed", str(seed)], capture_output=True, text=True)
        print(out.stdout)
        vs_fixed.append(float(re.search(r"adaptive/fixed mean staleness: ([\d.]+)", out.stdout).group(1)))
        vs_best.append(float(re.search(r"adaptive/optimum mean staleness: ([\d.]+)", out.stdout).group(1)))
        over |= "over the budget on any day: yes" in out.stdout
    med_fixed, med_best = statistics.median(vs_fixed), statistics.median(vs_best)
    print(f"over {a.seeds} seeds: adaptive/fixed {med_fixed:.2f} (median; target <= 0.50, "
          f"worst {max(vs_fixed):.2f}), adaptive/optimum {med_best:.2f} (median; target <= 1.15, "
          f"worst {max(vs_best):.2f}); budget exceeded: {'yes' if over else 'never'}")
    ok = med_fixed <= 0.5 and med_best <= 1.15 and not over
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
