#!/usr/bin/env python3
"""Two builds of zoho-sync on the same machine, at the same time: each backfills the same
records into an empty mirror (autovacuum held off, as in `run.py`), the builds taking
turns, and the load ceiling is measured after each. For a change whose effect is smaller
than the machine's drift from one hour to the next (the ceiling moves by a fifth).

    python3 bench/compare.py OLD_BINARY NEW_BINARY [--records 200000] [--runs 2]

Prints, per run: records/s, the ratio to the ceiling, and the CPU seconds of the sync
process, the emulator (each build serves its own) and PostgreSQL (its processes and the
backends it reaped), and the share of the machine's cores busy meanwhile, then the
medians per build.
"""

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402


def one_run(binary, records, workdir):
    bench.BIN = binary
    emulator = bench.Emulator(records, workdir)
    try:
        url, _, stats = bench.backfill_run(emulator, workdir, "zs_bench_compare", records,
                                           unvacuumed=True)
        ceiling, _ = bench.ceiling(url, workdir)
        bench.psql(bench.SERVER, "DROP DATABASE zs_bench_compare WITH (FORCE)")
    finally:
        emulator.stop()
    sync, emu, pg = stats["cpu"]
    return {"rate": stats["rate"], "ratio": stats["rate"] / ceiling, "sync": sync,
            "emulator": emu, "postgres": pg, "busy": stats["busy"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    runs = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as workdir:
        for i in range(a.runs):
            for name in ("old", "new"):
                r = one_run(os.path.abspath(getattr(a, name)), a.records, workdir)
                runs[name].append(r)
                print(f"run {i + 1} {name}: {r['rate']:,.0f} records/s = {r['ratio']:.2f} of the "
                      f"ceiling; CPU s: sync {r['sync']:.2f}, emulator {r['emulator']:.2f}, "
                      f"PostgreSQL {r['postgres']:.2f}; cores busy {r['busy']:.2f}", flush=True)
    print("\n| build | records/s | of the ceiling | CPU s sync | CPU s emulator | CPU s PostgreSQL | cores busy |")
    print("|---|---|---|---|---|---|---|")
    for name in ("old", "new"):
        med = lambda k: statistics.median(r[k] for r in runs[name])
        print(f"| {name} | {med('rate'):,.0f} | {med('ratio'):.2f} | {med('sync'):.2f} | "
              f"{med('emulator'):.2f} | {med('postgres'):.2f} | {med('busy'):.2f} |")


if __name__ == "__main__":
    sys.exit(main())
