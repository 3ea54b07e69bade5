#!/usr/bin/env python3
"""Backfill throughput: objects/s and events/s of `ctsqs backfill` over a bucket of many small
CloudTrail objects, with and without AWS-like latency added by the gate (ListObjectsV2 +20 ms,
GetObject +50 ms before the first byte), side by side with the baseline a user would script,
`aws s3 sync` then `ctsqs decode` (Debian's awscli), and with ctsqs at fixed objects in flight.

usage: bench/backfill_bench.py --ctsqs BIN [--objects 1200] [--records 50] [--aws /usr/bin/aws]
  starts its own peers (the gate with S3 on fauxqs), generates the corpus with
  ../shared/tools/gen_corpus.py (seed 3), uploads it, then runs every round once per latency.
Prints one line per round and two tables: the rates with and without latency (ratios are to the
same command without latency), and per round without latency the CPU seconds of the commands
run (user+sys of ctsqs, or of aws and ctsqs decode; not the peers'), with events/s and MB/s
(gzipped objects read) per core (per CPU second) and for the machine (per wall second).
"""
import argparse
import resource
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from fault_schedule import Peers, PEERS_DIR  # noqa: E402

LATENCY = [{"service": "s3", "action": "ListObjectsV2", "delayMs": 20},
           {"service": "s3", "action": "GetObject", "delayMs": 50}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    ap.add_argument("--objects", type=int, default=1200)
    ap.add_argument("--records", type=int, default=50)
    ap.add_argument("--aws", default="/usr/bin/aws")
    ap.add_argument("--gen", default=os.path.join(ROOT, "..", "shared", "tools", "gen_corpus.py"))
    a = ap.parse_args()
    ctsqs = os.path.abspath(a.ctsqs)
    work = tempfile.mkdtemp(prefix="ctsqs-bf-bench-")
    peers = Peers(os.path.join(work, "peers"), s3_on_fauxqs=True)
    try:
        corpus = os.path.join(work, "corpus")
        subprocess.run([sys.executable, a.gen, "--out", corpus, "--files", str(a.objects), "--records-per-file",
                        str(a.records), "--seed", "3"], check=True, capture_output=True)
        files = glob.glob(os.path.join(corpus, "**", "*.json.gz"), recursive=True)
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", peers.gate,
                            "--bucket", "bench-trail", corpus], capture_output=True, text=True, env=peers.env)
        if r.returncode != 0:
            print("upload failed: " + r.stderr[-1000:])
            return 1
        cfg = os.path.join(work, "collector.json")
        json.dump({"inputs": {"sqs_collector": {
            "id": "bench", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
            "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
            "ctsqs": {"heartbeat": {"enabled": False},
                      "endpoints": {"s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}},
            open(cfg, "w"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_EC2_METADATA_DISABLED="true", HOME=work)

        def backfill(extra):
            p = subprocess.run([ctsqs, "backfill", "--config", cfg, "--bucket", "bench-trail", "--since", "2024-03-01",
                                "--until", "2024-06-01", "--format", "raw", "--output", "-", "-q", *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            if p.returncode != 0:
                print(p.stderr.decode()[-1500:])
            return p.stdout.count(b"\n"), p.returncode

        def sync_then_decode(_):
            d = os.path.join(work, "sync")
            shutil.rmtree(d, ignore_errors=True)
            s = subprocess.run([a.aws, "s3", "sync", "s3://bench-trail", d, "--endpoint-url", peers.gate, "--only-show-errors"],
                               capture_output=True, env=env)
            if s.returncode != 0:
                print(s.stderr.decode()[-1500:])
                return 0, s.returncode
            p = subprocess.run([ctsqs, "decode", "-q", "--format", "raw", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            return p.stdout.count(b"\n"), p.returncode

        rounds = [("aws s3 sync + ctsqs decode", sync_then_decode, None),
                  ("ctsqs backfill, 8 in flight", backfill, ["--objects-in-flight", "8"]),
                  ("ctsqs backfill, 32 in flight", backfill, ["--objects-in-flight", "32"]),
                  ("ctsqs backfill, auto (default)", backfill, [])]
        results = {}
        for latency in ("none", "aws"):
            for name, fn, extra in rounds:
                peers.gate_call("/__gate/faults", method="DELETE")
                if latency == "aws":
                    peers.gate_call("/__gate/faults", [dict(f, times=10 ** 9) for f in LATENCY])
                t0 = time.monotonic()
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                n, rc = fn(extra)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                dt = time.monotonic() - t0
                cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
                peers.gate_call("/__gate/faults", method="DELETE")
                results[(name, latency)] = (n, dt, rc, cpu)
                print("%-32s latency %-4s rc %d: %d events, %d objects in %.2f s = %.0f objects/s, %.0f events/s" % (
                    name, latency, rc, n, len(files), dt, len(files) / dt, n / dt), flush=True)
        print("\n%d objects of %d records; latency 'aws' = ListObjectsV2 +20 ms, GetObject +50 ms" % (
            len(files), a.records))
        print("%-32s %14s %14s %14s %8s" % ("", "events/s none", "events/s aws", "objects/s aws", "aws/none"))
        for name, _, _ in rounds:
            n0, d0, _, _ = results[(name, "none")]
            n1, d1, _, _ = results[(name, "aws")]
            print("%-32s %14.0f %14.0f %14.0f %7.2fx" % (name, n0 / d0, n1 / d1, len(files) / d1, (n1 / d1) / (n0 / d0)))
        print("\nno latency, %.1f MB gzip: CPU = the commands' user+sys (not the peers')" % mb)
        print("%-32s %7s %7s %11s %9s %11s %9s" % ("", "wall s", "CPU s", "ev/s/core", "MB/s/core", "ev/s/mach",
                                                   "MB/s/mach"))
        for name, _, _ in rounds:
            n0, d0, _, c0 = results[(name, "none")]
            c0 = max(c0, 1e-3)
            print("%-32s %7.2f %7.2f %11.0f %9.1f %11.0f %9.1f" % (name, d0, c0, n0 / c0, mb / c0, n0 / d0, mb / d0))
    finally:
        peers.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
