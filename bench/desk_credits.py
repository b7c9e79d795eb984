#!/usr/bin/env python3
"""Zoho Desk credits against the contract's minimum (BENCHMARKS.md, "Zoho Desk credits").

    python3 bench/desk_credits.py [--records 20000] [--changed 1000]

Serves the emulator's Desk side from the release build (one Enterprise organisation,
`--records` tickets, no index lag), runs `zoho-sync backfill` into a fresh database, then
changes `--changed` tickets twice (one churn whose updates all share one second, as a
mass update does, the hardest case for paging; then one ticket a second) and runs
`zoho-sync sync` after each. It prints the credits each run spent, from the
ledger and from the emulator's own count (they must agree), against the minimum the
contract allows: a search returns at most 100 records and costs 3 credits, so reading N
records costs at least 3 * ceil(N / 100) credits. A sync also reads one page of the
recycle bin (3 credits) and walks the tickets a second time by the customer's last
response (contract 4.3, hazard 5), both shown apart.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
import urllib.request

from run import BIN, ROOT, SERVER, fresh_db, free_port, psql, sh

ORG = "20000000777"
CLIENT_ID = "1000.BENCHDESKCLIENT"
SECRET = "bench-desk-secret"
REFRESH = "1000.benchdesk.refresh"


class DeskEmulator:
    def __init__(self, records, workdir):
        self.port = free_port()
        config = os.path.join(workdir, "desk-emulator.toml")
        with open(config, "w") as f:
            f.write(f"""
seed = 7
[[portals]]
name = "unused"
departments = ["Support"]
default_records = 0
[[desk.organisations]]
org_id = "{ORG}"
edition = "enterprise"
agents = 10
default_records = 0
records = {{ tickets = {records} }}
[desk.organisations.self_client]
client_id = "{CLIENT_ID}"
client_secret = "{SECRET}"
refresh_token = "{REFRESH}"
""")
        self.proc = subprocess.Popen(
            [BIN, "-q", "emulator", "--listen", f"127.0.0.1:{self.port}", "--config", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                self.admin("GET", "desk/counters")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the emulator did not start")

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read() or b"{}")

    def charged(self):
        by_day = self.admin("GET", "desk/counters")["credits"][ORG]["charged_by_day"]
        return sum(by_day.values())

    def calls(self, endpoint):
        return self.admin("GET", "desk/counters")["requests"]["by_endpoint"].get(endpoint, 0)

    def last_seq(self):
        entries = self.admin("GET", "desk/log")
        return entries[-1]["seq"] if entries else 0

    def responses_credits(self, after):
        """Credits of the tickets' second walk (by customer response) since log `after`."""
        entries = self.admin("GET", f"desk/log?after={after}")
        return sum(e["weight"] for e in entries if "customerResponseTimeRange" in e["query"])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def write_config(workdir, emulator, url):
    secret, refresh = os.path.join(workdir, "secret"), os.path.join(workdir, "refresh")
    for path, text in ((secret, SECRET), (refresh, REFRESH)):
        with open(path, "w") as f:
            f.write(text)
    path = os.path.join(workdir, "desk-sync.toml")
    with open(path, "w") as f:
        f.write(f"""
[database]
url = "{url}"
[api]
max_clock_skew_secs = 0
[[organisations]]
name = "bench"
api = "desk"
dc = "us"
org_id = "{ORG}"
client_id = "{CLIENT_ID}"
client_secret_env = "ZOHO_SYNC_BENCH_UNSET"
client_secret_file = "{secret}"
refresh_token_env = "ZOHO_SYNC_BENCH_UNSET"
refresh_token_file = "{refresh}"
edition = "enterprise"
agents = 10
reserve = 0
base_url = "{emulator.url}"
accounts_url = "{emulator.url}"
[organisations.modules]
tickets = {{ priority = 1 }}
""")
    return path


def run(config, command):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    out = subprocess.run([BIN, "-q", "--config", config, command], capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"zoho-sync {command} failed:\n{out.stdout}\n{out.stderr}")


def ledger(url):
    return int(psql(url, "SELECT coalesce(sum(used), 0) FROM zoho.quota_ledger"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--changed", type=int, default=1_000)
    a = ap.parse_args()
    sh("cargo", "build", "--release", "--locked", cwd=ROOT)
    minimum = lambda rows: 3 * max(1, -(-rows // 100))
    with tempfile.TemporaryDirectory() as workdir:
        emulator = DeskEmulator(a.records, workdir)
        # The records are written at the emulator's start; a pass reads up to ten minutes
        # before the server's time (the index lag), and the next one from 30 minutes
        # before that: 45 minutes on, the backfill sees them all and the sync none again.
        emulator.admin("POST", "desk/clock", {"advance_secs": 45 * 60})
        url = fresh_db("zs_bench_desk")
        config = write_config(workdir, emulator, url)
        run(config, "backfill")
        backfill, backfill_charged = ledger(url), emulator.charged()
        emulator.admin("POST", "desk/churn",
                       {"org_id": ORG, "module": "tickets", "updates": a.changed})
        emulator.admin("POST", "desk/clock", {"advance_secs": 11 * 60})
        bins = emulator.calls("recycleBin.list")
        seq = emulator.last_seq()
        run(config, "sync")
        sync = ledger(url) - backfill
        sync_charged = emulator.charged() - backfill_charged
        bin_credits = 3 * (emulator.calls("recycleBin.list") - bins)
        mass_responses = emulator.responses_credits(seq)
        # 40 minutes later, a pass with nothing new still re-reads what changed in the 30
        # minutes before the last pass's end (D16's overlap, against late index writes).
        emulator.admin("POST", "desk/clock", {"advance_secs": 40 * 60})
        before, seq = ledger(url), emulator.last_seq()
        run(config, "sync")
        overlap_responses = emulator.responses_credits(seq)
        overlap = ledger(url) - before - bin_credits - overlap_responses
        # The same number of changes, each in its own second: a steady trickle of edits.
        for _ in range(a.changed):
            emulator.admin("POST", "desk/churn",
                           {"org_id": ORG, "module": "tickets", "updates": 1})
            emulator.admin("POST", "desk/clock", {"advance_secs": 1})
        emulator.admin("POST", "desk/clock", {"advance_secs": 11 * 60})
        before, seq = ledger(url), emulator.last_seq()
        run(config, "sync")
        spread_responses = emulator.responses_credits(seq)
        spread = ledger(url) - before - bin_credits - spread_responses
        # Tickets are picked at random: a few twice. The minimum counts distinct ones.
        distinct = int(psql(url, "SELECT count(DISTINCT record_id) FROM zoho.change_log "
                                 "WHERE run_id = (SELECT max(id) FROM zoho.runs)"))
        emulator.stop()
        psql(SERVER, "DROP DATABASE zs_bench_desk WITH (FORCE)")
    n, c = a.records, a.changed
    search = sync - bin_credits - mass_responses
    extra = lambda r: f"+ {r} for the second walk by customer response, + {bin_credits} for the recycle bin"
    print("| figure | value | target |\n|---|---|---|")
    print(f"| credits / minimum, Desk backfill of {n:,} records | {backfill} / {minimum(n)} = {backfill / minimum(n):.3f} (emulator charged {backfill_charged}) | <= 1.02 |")
    print(f"| credits / minimum, Desk incremental pass, {c:,} changed in one second | {search} / {minimum(c)} = {search / minimum(c):.3f} ({extra(mass_responses)}; emulator charged {sync_charged}) | <= 1.25 |")
    print(f"| credits / minimum, Desk incremental pass, {distinct:,} changed one by one | {spread} / {minimum(distinct)} = {spread / minimum(distinct):.3f} ({extra(spread_responses)}) | <= 1.05 |")
    print(f"| credits of the next pass, nothing new (the 30-minute overlap re-reads the {c:,}) | {overlap} ({extra(overlap_responses)}) | |")
    print(f"| credits per 1,000 changed records, incremental, all walks | {1000 * (spread + spread_responses) / distinct:.0f} one by one, {1000 * (search + mass_responses) / c:.0f} in one second (+ {bin_credits} a round for deletions) | |")


if __name__ == "__main__":
    main()
