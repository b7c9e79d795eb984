#!/usr/bin/env python3
"""zoho-sync benchmarks: one command that prints figures and ratios (BENCHMARKS.md).

    python3 bench/run.py [--records 200000] [--big 1000000] [--runs 3] [--latency-records 20000]
                         [--latency-ms 200]

Needs PostgreSQL (DATABASE_URL's server, default the local one) and a release build (made
here). Everything runs on this machine: the emulator (no quota limit, no latency unless
stated), the `zoho-sync` process (timed with /usr/bin/time), and PostgreSQL. Each figure
is the median of --runs runs; the machine and versions are printed with the figures.
"""

import argparse
import json
import os
import platform
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "zoho-sync")
TOKEN = "be0cbe0cbe0cbe0cbe0cbe0cbe0cbe0c"
SERVER = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, children=False):
    """CPU seconds of a process (and of the children it has reaped)."""
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


def machine_ticks():
    """(busy, all) CPU ticks of the whole machine so far, from /proc/stat."""
    ticks = list(map(int, open("/proc/stat").readline().split()[1:]))
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def psql(db_url, sql):
    return sh("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql).strip()


def db_url(name):
    base = SERVER.rsplit("/", 1)[0]
    return f"{base}/{name}"


def fresh_db(name):
    psql(SERVER, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(SERVER, f"CREATE DATABASE {name}")
    return db_url(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, records, workdir, modules=("requests",)):
        self.port = free_port()
        config = os.path.join(workdir, f"emulator-{records}-{len(modules)}.toml")
        counts = ", ".join(f"{m} = {records}" for m in modules)
        with open(config, "w") as f:
            f.write(f"""
seed = 7
log_capacity = 1000
[[portals]]
name = "bench"
departments = ["Support"]
edition = "enterprise"
daily_limit = 4000000000
default_records = 0
records = {{ {counts} }}
[[portals.users]]
email = "bench@bench.example"
password = "bench"
admin = true
tokens = ["{TOKEN}"]
""")
        self.proc = subprocess.Popen(
            [BIN, "-q", "emulator", "--listen", f"127.0.0.1:{self.port}", "--config", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):
            try:
                self.admin("GET", "counters")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the emulator did not start")

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def getrecords(self):
        return self.admin("GET", "counters")["requests"]["by_method"].get("getrecords", 0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def write_config(workdir, emulator, url, api="", modules=("requests",), concurrency=4):
    """A sync config; `api` holds extra `[api]` lines (nothing: the defaults)."""
    path = os.path.join(workdir, "sync.toml")
    token = os.path.join(workdir, "token")
    with open(token, "w") as f:
        f.write(TOKEN)
    listed = "\n".join(f"{m} = {{ priority = 1 }}" for m in modules)
    with open(path, "w") as f:
        f.write(f"""
[database]
url = "{url}"
schema = "zoho"
[api]
base_url = "{emulator.url}"
accounts_url = "{emulator.url}"
concurrency = {concurrency}
{api}
[[organisations]]
name = "bench"
portal = "bench"
departments = ["Support"]
edition = "enterprise"
daily_limit = 4000000000
authtoken_env = "ZOHO_SYNC_BENCH_UNSET"
authtoken_file = "{token}"
[organisations.modules]
{listed}
""")
    return path


def timed(config, *command):
    """Runs zoho-sync; returns (wall s, cpu s, max RSS MiB)."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    out = subprocess.run(["/usr/bin/time", "-v", BIN, "-q", "--config", config, *command],
                         capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if out.returncode != 0:
        raise SystemExit(f"zoho-sync {' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
    field = lambda name: float(re.search(rf"{name}: ([\d.]+)", out.stderr).group(1))
    cpu = field("User time \\(seconds\\)") + field("System time \\(seconds\\)")
    rss = field("Maximum resident set size \\(kbytes\\)") / 1024
    return wall, cpu, rss


def ceiling(url, workdir):
    """COPY into a staging table then INSERT ... ON CONFLICT into a table shaped like the
    mirror, for the very rows the sync loaded: (insert rows/s, update rows/s), each the
    faster of two tries. One try is one backend's work on a quiet machine, and it is what
    moves most from minute to minute (an insert ceiling below the update ceiling has been
    seen): the faster try is the nearer to what PostgreSQL can do, so the ratios against
    it are the harder to meet."""
    csv = os.path.join(workdir, "rows.csv")
    n = int(psql(url, "SELECT count(*) FROM zoho.requests"))
    psql(url, f"\\copy zoho.requests TO '{csv}' csv")
    cols = psql(url, "SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position) "
                     "FROM information_schema.columns WHERE table_schema='zoho' AND table_name='requests'")
    sets = ",".join(f"{c}=EXCLUDED.{c}" for c in cols.split(",")
                    if c not in ("portal", "department", "id"))
    psql(url, "DROP TABLE IF EXISTS zoho.ceiling; CREATE TABLE zoho.ceiling (LIKE zoho.requests INCLUDING ALL)")
    script = os.path.join(workdir, "merge.sql")
    with open(script, "w") as f:
        f.write(f"CREATE TEMP TABLE st (LIKE zoho.requests INCLUDING DEFAULTS);\n"
                f"\\copy st FROM '{csv}' csv\n"
                f"INSERT INTO zoho.ceiling SELECT * FROM st ON CONFLICT (portal, department, id) "
                f"DO UPDATE SET {sets};\n")

    def merge():
        psql(url, "CHECKPOINT")  # no flush of earlier writes inside the timing
        started = time.monotonic()
        sh("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", script)
        return n / (time.monotonic() - started)

    insert = merge()
    update = merge()
    psql(url, "TRUNCATE zoho.ceiling")
    insert = max(insert, merge())
    update = max(update, merge())
    psql(url, "DROP TABLE zoho.ceiling")
    os.remove(csv)
    return insert, update


def backfill_run(emulator, workdir, name, n, api="", modules=("requests",), url=None,
                 unvacuumed=False):
    """Backfills into a fresh database (or `url`'s); (url, config, figures). `unvacuumed`
    holds autovacuum off the mirror table from its creation, so the load meets it
    without statistics, as a load does before autovacuum first comes round."""
    url = url or fresh_db(name)
    config = write_config(workdir, emulator, url, api=api, modules=modules)
    if unvacuumed:
        timed(config, "migrate")
        psql(url, "ALTER TABLE zoho.requests SET (autovacuum_enabled = false)")
    before = emulator.getrecords()
    psql(url, "CHECKPOINT")  # no flush of earlier writes inside the timing
    emu0, pg0, (busy0, all0) = proc_cpu(emulator.proc.pid), postgres_cpu(), machine_ticks()
    wall, cpu, rss = timed(config, "backfill")
    busy1, all1 = machine_ticks()
    emu, pg = proc_cpu(emulator.proc.pid) - emu0, postgres_cpu() - pg0
    requests = emulator.getrecords() - before
    return url, config, {"rate": n / wall, "cpu_per_100k": cpu * 100_000 / n, "rss": rss,
                         "requests": requests, "cpu": (cpu, emu, pg),
                         "busy": (busy1 - busy0) / max(all1 - all0, 1)}


def again(emulator, workdir, url, n, api=""):
    """Backfills the same module again over its full mirror; records/s."""
    psql(url, "DELETE FROM zoho.checkpoints")
    return backfill_run(emulator, workdir, None, n, api=api, url=url)[2]["rate"]


class RoundTrips:
    """A TCP proxy in front of PostgreSQL that counts the client's round trips (each
    simple `Query` and each extended-protocol `Sync` is one wait for the server, the
    pool's health checks included) and its statements (each `Query` and each `Bind`)."""

    def __init__(self):
        host, port = re.search(r"@([^:/]+):(\d+)", SERVER).groups()
        self.target = (host, int(port))
        self.count = 0
        self.statements = 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def url(self, name):
        # No TLS, so that the messages can be read.
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def serve(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pipe, args=(upstream, client, False), daemon=True).start()
            threading.Thread(target=self.pipe, args=(client, upstream, True), daemon=True).start()

    def pipe(self, src, dst, counts):
        buffer, started = b"", False
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                if not counts:
                    continue
                buffer += data
                while True:
                    if not started:  # untyped: SSLRequest or StartupMessage
                        if len(buffer) < 8:
                            break
                        size, code = struct.unpack("!II", buffer[:8])
                        started = code != 80877103  # an SSLRequest precedes the startup
                        buffer = buffer[size:]
                        continue
                    if len(buffer) < 5:
                        break
                    size = struct.unpack("!I", buffer[1:5])[0]
                    if len(buffer) < size + 1:
                        break
                    with self.lock:
                        self.count += buffer[:1] in (b"Q", b"S")
                        self.statements += buffer[:1] in (b"Q", b"B")
                    buffer = buffer[size + 1:]
        except OSError:
            pass
        finally:
            dst.close()


def round_trips_per_page(emulator, workdir):
    """Round trips and statements to PostgreSQL per page of a backfill, everything the
    process sends counted (quota reservations, the run's start and end, health checks)."""
    fresh_db("zs_bench_trips")
    proxy = RoundTrips()
    url = proxy.url("zs_bench_trips")
    config = write_config(workdir, emulator, url)
    timed(config, "migrate")
    proxy.count = proxy.statements = 0
    timed(config, "backfill")
    trips, statements = proxy.count, proxy.statements
    pages = int(psql(db_url("zs_bench_trips"), "SELECT sum(pages) FROM zoho.runs"))
    psql(SERVER, "DROP DATABASE zs_bench_trips WITH (FORCE)")
    return trips / pages, statements / pages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-records", type=int, default=20_000)
    ap.add_argument("--latency-ms", type=int, default=200)
    a = ap.parse_args()
    sh("cargo", "build", "--release", "--locked", cwd=ROOT)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"{open('/proc/meminfo').readline().split()[1]} kB RAM, "
          f"{sh('grep', '-m1', 'model name', '/proc/cpuinfo').split(':')[1].strip()}")
    print(f"versions: {sh('rustc', '--version').strip()}; "
          f"{psql(SERVER, 'SHOW server_version')} PostgreSQL; zoho-sync {sh(BIN, '--version').strip()}")
    n, med = a.records, statistics.median
    four = ("requests", "contacts", "accounts", "tasks")
    with tempfile.TemporaryDirectory() as workdir:
        emulator = Emulator(n, workdir)
        ceil_ins, ceil_upd, empty, full, bloated = [], [], [], [], []
        for run in range(a.runs):
            # A first load before autovacuum has come round: no statistics but the
            # sync's own.
            url, config, stats = backfill_run(emulator, workdir, f"zs_bench_{run}", n,
                                              unvacuumed=True)
            empty.append(stats)
            # Right after it, every row changed with no vacuum in between (as a re-sync
            # after a bulk change at the source meets it).
            psql(url, "UPDATE zoho.requests SET fields = '{}'::jsonb")
            bloated.append(again(emulator, workdir, url, n))
            ins, upd = ceiling(url, workdir)
            ceil_ins.append(ins)
            ceil_upd.append(upd)
            # A full mirror, vacuumed and analysed, whose every row differs from the source.
            psql(url, "ALTER TABLE zoho.requests RESET (autovacuum_enabled); "
                      "UPDATE zoho.requests SET fields = '{}'::jsonb")
            psql(url, "VACUUM ANALYZE zoho.requests")
            full.append(again(emulator, workdir, url, n))
            if run == 0:
                # Request efficiency of an incremental pass with 1% of the rows changed.
                changed = n // 100
                emulator.admin("POST", "churn", {"module": "requests", "modifies": changed})
                before = emulator.getrecords()
                timed(config, "sync")
                incremental = emulator.getrecords() - before
            psql(SERVER, f"DROP DATABASE zs_bench_{run} WITH (FORCE)")
        emulator.stop()

        emulator = Emulator(n // 4, workdir, modules=four)
        parallel = []
        for run in range(a.runs):
            parallel.append(backfill_run(emulator, workdir, "zs_bench_par", n // 4 * 4,
                                         modules=four)[2]["rate"])
        emulator.stop()

        lat = a.latency_records
        emulator = Emulator(lat, workdir)
        trips = round_trips_per_page(emulator, workdir)
        emulator.admin("POST", "latency", {"millis": a.latency_ms})
        one = backfill_run(emulator, workdir, "zs_bench_lat", lat,
                           api="backfill_read_ahead = 0")[2]["rate"]
        default = backfill_run(emulator, workdir, "zs_bench_lat", lat)[2]
        emulator.stop()

        emulator = Emulator(a.big, workdir)
        big = backfill_run(emulator, workdir, "zs_bench_big", a.big)[2]
        emulator.stop()
        for name in ("zs_bench_lat", "zs_bench_big", "zs_bench_par"):
            psql(SERVER, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    minimum = lambda rows: rows // 200 + 1
    e_rate, f_rate, b_rate = (med(r["rate"] for r in empty), med(full), med(bloated))
    p_rate = med(parallel)
    print(f"\n| figure | value | target |\n|---|---|---|")
    print(f"| load ceiling, COPY + INSERT ON CONFLICT, empty table | {med(ceil_ins):,.0f} rows/s | |")
    print(f"| load ceiling, COPY + INSERT ON CONFLICT, all rows exist | {med(ceil_upd):,.0f} rows/s | |")
    print(f"| backfill of {n:,} records into an empty mirror, before autovacuum | {e_rate:,.0f} records/s = {e_rate / med(ceil_ins):.2f} of the ceiling | >= 0.80 |")
    print(f"| CPU seconds during that backfill: sync process, emulator, PostgreSQL; share of the {os.cpu_count()} cores busy | "
          + ", ".join(f"{med(r['cpu'][i] for r in empty):.2f}" for i in range(3))
          + f"; {med(r['busy'] for r in empty):.2f} | |")
    print(f"| backfill of {n:,} records into a full mirror (all updates), vacuumed | {f_rate:,.0f} records/s = {f_rate / med(ceil_upd):.2f} of the ceiling | >= 0.70 |")
    print(f"| the same, right after the first load and a mass UPDATE, no vacuum | {b_rate:,.0f} records/s = {b_rate / med(ceil_upd):.2f} of the ceiling | >= 0.50 |")
    print(f"| round trips (statements) to PostgreSQL per page, backfill of {lat:,}, all counted | {trips[0]:.2f} ({trips[1]:.2f}) | |")
    print(f"| 4 modules of {n // 4:,} at concurrency 4, against 1 module of {n:,} | {p_rate:,.0f} records/s = {p_rate / e_rate:.2f}x | |")
    print(f"| {a.latency_ms} ms latency, {lat:,} records, 1 page in flight (backfill_read_ahead = 0) | {one:,.0f} records/s | |")
    print(f"| {a.latency_ms} ms latency, {lat:,} records, default configuration | {default['rate']:,.0f} records/s = {default['rate'] / one:.2f}x | >= 3.5x |")
    print(f"| requests / minimum, backfill of {lat:,}, default configuration | {default['requests']} / {minimum(lat)} = {default['requests'] / minimum(lat):.3f} | <= 1.01 |")
    print(f"| requests / minimum, backfill of {n:,} | {empty[0]['requests']} / {minimum(n)} = {empty[0]['requests'] / minimum(n):.3f} | <= 1.01 |")
    print(f"| requests / minimum, incremental pass, {n // 100:,} changed | {incremental} / {minimum(n // 100)} = {incremental / minimum(n // 100):.3f} | <= 1.01 |")
    print(f"| peak RSS of the sync process, {n:,} records | {med(r['rss'] for r in empty):.1f} MiB | < 64 MiB |")
    print(f"| peak RSS of the sync process, {a.big:,} records | {big['rss']:.1f} MiB | < 64 MiB, flat |")
    print(f"| CPU seconds per 100,000 records (sync process) | {med(r['cpu_per_100k'] for r in empty):.2f} s ({a.big:,}: {big['cpu_per_100k']:.2f} s) | |")


if __name__ == "__main__":
    sys.exit(main())
