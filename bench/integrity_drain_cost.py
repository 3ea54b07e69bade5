#!/usr/bin/env python3
"""What `ctsqs.integrity.verify_digests` costs the drain: the same trail (make-trail.mjs, records
from ../shared/tools/gen_corpus.py's corpus when present) announced on a queue and drained through
the gate into /dev/null, with the setting off and on, alternating; prints the CPU seconds
(user + sys) of each ctsqs drain and the median of each.

usage: bench/integrity_drain_cost.py [--ctsqs BIN] [--hours N] [--files N] [--records N] [--runs N]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integrity"))
import trailkit  # noqa: E402
import drain_integrity_test as dit  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", default=os.path.join(here, "..", "build", "release", "cli", "ctsqs"))
    ap.add_argument("--hours", default="6")
    ap.add_argument("--files", default="20")
    ap.add_argument("--records", default="200")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-integrity-cost-")
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        args = ["--bucket", "ct-cost", "--hours", a.hours, "--files-per-hour", a.files, "--records", a.records]
        corpus = os.path.join(here, "..", "..", "shared", "tools", "gen_corpus.py")
        if os.path.exists(corpus):
            src = os.path.join(work, "corpus")
            subprocess.run([sys.executable, corpus, "--out", src, "--files", "20", "--records-per-file", a.records,
                            "--seed", "7"], check=True, capture_output=True)
            args += ["--log-source", src]
        m = trailkit.make_trail(peers, "generate", *args, keys_dir=os.path.join(work, "keys"))
        n_logs = sum(1 for o in m["objects"] if o["kind"] == "log")
        size = sum(o["size"] for o in m["objects"] if o["kind"] == "log")
        print("trail: %d log files (%.1f MB gzipped), %d digests" % (n_logs, size / 1e6, len(m["digests"])))
        cpu = {False: [], True: []}
        for i in range(a.runs):
            for on in (False, True):
                url = dit.announce(peers, m, m["bucket"])
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                cfg = {"inputs": {"sqs_collector": {
                    "id": "cost", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1", "base_url": url,
                    "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
                    "ctsqs": {"heartbeat": {"enabled": False}, "drain": {"empty_polls": 1}, "sqs": {"wait_time": 1},
                              "integrity": {"verify_digests": on},
                              "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate,
                                            "s3_force_path_style": True}}}
                path = os.path.join(work, "cfg.json")
                json.dump(cfg, open(path, "w"))
                env = dict(os.environ, AWS_ENDPOINT_URL_CLOUDTRAIL=peers.gate)
                r = subprocess.run([a.ctsqs, "drain", "--config", path, "--output", "-"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                secs = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                cpu[on].append(secs)
                print("run %d integrity %-3s exit %d  cpu %.2f s%s" % (i + 1, "on" if on else "off", r.returncode, secs,
                      "" if r.returncode == 0 else ": " + r.stderr[-300:]), flush=True)
        off, on = statistics.median(cpu[False]), statistics.median(cpu[True])
        print("median cpu: off %.2f s, on %.2f s: +%.0f%% (%.1f ms per log file)" % (
            off, on, 100 * (on - off) / off, 1000 * (on - off) / n_logs))
    finally:
        peers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
