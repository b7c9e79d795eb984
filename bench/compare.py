#!/usr/bin/env python3
"""Two builds of zoho-sync on the same machine, at the same time: each backfills the same
records into an empty mirror (autovacuum held off, as in `run.py`), the builds taking
turns, and the load ceiling is measured after each. For a change whose effect is smaller
than the machine's drift from one hour to the next (the ceiling moves by a fifth).

    python3 bench/compare.py OLD_BINARY NEW_BINARY [--records 200000] [--runs 2]

Prints, per run: records/s, the ratio to the ceiling, and the CPU seconds of the sync
process, the emulator (each build serves its own) and PostgreSQL (its processes and the
backends it reaped), then the medians per build.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, children=False):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def postgres_cpu():
    """Every PostgreSQL process's CPU, and the backends the postmaster has reaped."""
    pids = subprocess.run(["pgrep", "postgres"], capture_output=True, text=True).stdout.split()
    oldest = int(subprocess.run(["pgrep", "-o", "postgres"], capture_output=True, text=True).stdout)
    total = 0.0
    for pid in map(int, pids):
        try:
            total += proc_cpu(pid, children=pid == oldest)
        except OSError:
            pass  # ended meanwhile
    return total


def one_run(binary, records, workdir):
    bench.BIN = binary
    emulator = bench.Emulator(records, workdir)
    try:
        url = bench.fresh_db("zs_bench_compare")
        config = bench.write_config(workdir, emulator, url)
        bench.timed(config, "migrate")
        bench.psql(url, "ALTER TABLE zoho.requests SET (autovacuum_enabled = false)")
        bench.psql(url, "CHECKPOINT")
        emu0, pg0 = proc_cpu(emulator.proc.pid), postgres_cpu()
        wall, cpu, _ = bench.timed(config, "backfill")
        emu, pg = proc_cpu(emulator.proc.pid) - emu0, postgres_cpu() - pg0
        ceiling, _ = bench.ceiling(url, workdir)
        bench.psql(bench.SERVER, "DROP DATABASE zs_bench_compare WITH (FORCE)")
    finally:
        emulator.stop()
    return {"rate": records / wall, "ratio": records / wall / ceiling, "sync": cpu,
            "emulator": emu, "postgres": pg}


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
                      f"PostgreSQL {r['postgres']:.2f}", flush=True)
    print("\n| build | records/s | of the ceiling | CPU s sync | CPU s emulator | CPU s PostgreSQL |")
    print("|---|---|---|---|---|---|")
    for name in ("old", "new"):
        med = lambda k: statistics.median(r[k] for r in runs[name])
        print(f"| {name} | {med('rate'):,.0f} | {med('ratio'):.2f} | {med('sync'):.2f} | "
              f"{med('emulator'):.2f} | {med('postgres'):.2f} |")


if __name__ == "__main__":
    sys.exit(main())
