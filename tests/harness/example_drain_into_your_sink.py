#!/usr/bin/env python3
"""ctest "example: drain into your own sink": examples/1_embed/drain_into_your_sink.cpp as a user
runs it, against the test peers (fauxqs's SQS and S3 behind the SigV4 gate, on loopback).

Two CloudTrail files of examples/logs (6 + 5 records) are put in a bucket and announced on a queue
(S3 ObjectCreated notifications); then
  drain   `EXE QUEUE_URL --drain` exits 0 (which needs SQS to report the queue empty: every
          message deleted) with each of the 11 records on stdout once, tagged
          cloud.aws.cloudtrail.<service>, and no heartbeat line
  signal  `EXE QUEUE_URL` (no --drain) keeps polling an empty queue until SIGTERM, then exits 0
  usage   no argument: exit 2 and a usage line; an unknown queue region: exit 2 naming it
The program gets its settings only as any AWS program does: the environment. AWS_ENDPOINT_URL
(emulators only) sends its requests to the gate, and the queue URL names its region as a real
one does (https://sqs.us-east-1.amazonaws.com/<account>/<queue>).

usage: example_drain_into_your_sink.py --exe EXAMPLE     exit 0 when every check held, 1 otherwise
"""
import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integrity"))
import trailkit  # noqa: E402

LOGS = os.path.join(ROOT, "examples", "logs", "AWSLogs", "111122223333", "CloudTrail")
FILES = ["us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1005Z_Ex4mpLe0us1a.json.gz",
         "eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1015Z_Ex4mpLe0eu1b.json.gz"]
FAILED = []


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def node(peers, script, *args):
    r = subprocess.run(["node", os.path.join(trailkit.PEERS_DIR, script)] + list(args), env=peers.env,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (script, r.stderr[-1500:]))
    return r.stdout


def example_env(peers):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true",
               AWS_ENDPOINT_URL=peers.gate)  # emulators only: a real queue needs none of this
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    a = ap.parse_args()
    if shutil.which("node") is None:
        print("skipped: node is not installed (the peers need it)")
        return 77
    work = tempfile.mkdtemp(prefix="ct-example-embed-")
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        tree = os.path.join(work, "tree")
        expected = []
        for rel in FILES:
            key = "AWSLogs/111122223333/CloudTrail/" + rel
            os.makedirs(os.path.dirname(os.path.join(tree, key)), exist_ok=True)
            shutil.copy(os.path.join(LOGS, rel), os.path.join(tree, key))
            expected += [r["eventID"] for r in json.load(gzip.open(os.path.join(LOGS, rel)))["Records"]]
        out = json.loads(node(peers, "put-objects.mjs", "--s3-endpoint", peers.gate, "--bucket", "embed-trail",
                              "--sqs-endpoint", peers.gate, "--queue", "embed-q", "--queue", "embed-idle", tree))
        keys = [o["key"] for o in out["objects"]]
        node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url",
             out["queues"]["embed-q"], "--bucket", "embed-trail", *keys)
        # The queue as AWS names it: the region comes from the URL, the host from AWS_ENDPOINT_URL.
        url = "https://sqs.us-east-1.amazonaws.com/000000000000/embed-q"
        env = example_env(peers)

        # The run-until-signal case polls another (empty) queue meanwhile: the drain's two empty
        # long polls (20 s each, the default wait) are the test's only wait.
        idle = "https://sqs.us-east-1.amazonaws.com/000000000000/embed-idle"
        p = subprocess.Popen([a.exe, idle], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        r = subprocess.run([a.exe, url, "--drain"], env=env, capture_output=True, text=True, timeout=120)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        # Exit 0 also means SQS reported the queue empty (nothing visible or in flight) as the
        # drain ended: every message was deleted.
        check(r.returncode == 0, "drain: exit 0, the queue left empty (%d; stderr: %s)" % (r.returncode, r.stderr[-800:]))
        ids = []
        tags_ok = True
        for l in lines:
            tag, _, record = l.partition(" ")
            try:
                rec = json.loads(record)
            except ValueError:
                tags_ok = False
                continue
            ids.append(rec.get("eventID"))
            service = rec.get("eventSource", "").split(".")[0]
            tags_ok = tags_ok and tag == "cloud.aws.cloudtrail." + service
        check(sorted(ids) == sorted(expected), "drain: each of the %d records on stdout once (%d lines)"
              % (len(expected), len(lines)))
        check(tags_ok, "drain: every line is `cloud.aws.cloudtrail.<service> <record>`")
        check(not any("heartbeat" in l for l in lines), "drain: no heartbeat event in the sink")

        check(p.poll() is None, "signal: without --drain it keeps polling an empty queue")
        p.send_signal(signal.SIGTERM)
        try:
            so, se = p.communicate(timeout=40)
            check(p.returncode == 0 and not so.strip(),
                  "signal: SIGTERM ends it with exit 0 (%d; %s)" % (p.returncode, se[-500:]))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            check(False, "signal: SIGTERM ends it within 40 s")

        r3 = subprocess.run([a.exe], env=env, capture_output=True, text=True, timeout=30)
        check(r3.returncode == 2 and "usage" in r3.stderr, "usage: no queue URL is exit 2 with a usage line")
        r4 = subprocess.run([a.exe, "http://127.0.0.1:1/000000000000/q"], env=env, capture_output=True, text=True,
                            timeout=30)
        check(r4.returncode == 2 and "region" in r4.stderr,
              "usage: a queue URL naming no region is exit 2 naming the region (%s)" % r4.stderr.strip()[-300:])
    finally:
        peers.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("%d check(s) failed" % len(FAILED) if FAILED else "all checks held")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
