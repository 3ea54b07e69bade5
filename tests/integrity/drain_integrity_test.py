#!/usr/bin/env python3
"""`ctsqs drain` with `"integrity": {"verify_digests": true}`: a trail written by make-trail.mjs, one
log file modified and one injected after CloudTrail wrote the trail, every object announced on an
SQS queue (log files first, then the digests, as CloudTrail delivers them), drained through the
SigV4 gate into a directory. Checks, each an assertion with a message:
  on      exit 0; one event tagged cloud.aws.cloudtrail.integrity of kind "mismatch" for the
          modified file, one "unlisted" for the injected one, no invalid digest; each names its
          digest; the log lines say so; every CloudTrail event still delivered
  off     the same trail drained without integrity: no integrity event, no integrity log line
  config  check-config prints "integrity: verify_digests on"; a non-boolean is refused naming it
  chain   a digest edited to hide a file (old signature kept): "invalid_digest" for it

usage: drain_integrity_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402
from trailkit import check, env_for, events_in, integrity_events, node  # noqa: E402

def drain(ctsqs, peers, work, name, queue_url, integrity):
    cfg = {"inputs": {"sqs_collector": {
        "id": "integrity-" + name, "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1", "base_url": queue_url,
        "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
        "ctsqs": {"heartbeat": {"enabled": False}, "drain": {"empty_polls": 1}, "sqs": {"wait_time": 1},
                  "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}}
    if integrity is not None:
        cfg["ctsqs"]["integrity"] = {"verify_digests": integrity}
    path = os.path.join(work, name + "-collector.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    out = os.path.join(work, name + "-out")
    r = subprocess.run([ctsqs, "drain", "--config", path, "--output", out], env=env_for(peers), capture_output=True,
                       text=True, timeout=300)
    return r, events_in(out), path


def announce(peers, m, bucket, extra_logs=()):
    empty = os.path.join(peers.run_dir, "..", "empty")
    os.makedirs(empty, exist_ok=True)
    q = node(peers, "put-objects.mjs", "--s3-endpoint", peers.gate, "--bucket", bucket, "--sqs-endpoint", peers.gate,
             "--queue", "q-" + bucket, empty)
    url = q["queues"]["q-" + bucket]
    logs = [o["key"] for o in m["objects"] if o["kind"] == "log"] + list(extra_logs)
    digests = [d["key"] for d in m["digests"] if d["kind"] == "digest"]
    node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", bucket, *logs)
    # CloudTrail writes a digest after the hour's log files: here the digests come 3 s later.
    node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", bucket,
         "--delay-seconds", "3", *digests)
    return url


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-drain-integrity-")
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        keys = os.path.join(work, "keys")
        m = trailkit.make_trail(peers, "generate", "--bucket", "ct-drain", "--hours", "3", keys_dir=keys)
        modified = m["digests"][1]["log_files"][0]
        trailkit.make_trail(peers, "modify-log", "--bucket", m["bucket"], "--key", modified)
        injected = trailkit.make_trail(peers, "inject-log", "--bucket", m["bucket"], "--like", m["digests"][1]["log_files"][1],
                                       "--minutes", "2")["key"]
        uri = lambda k: "s3://%s/%s" % (m["bucket"], k)

        url = announce(peers, m, m["bucket"], [injected])
        r, events, cfg_path = drain(a.ctsqs, peers, work, "on", url, True)
        got = integrity_events(events)
        kinds = sorted((e["kind"], e["file"]) for e in got)
        check(r.returncode == 0, "on: drain exit 0 (%d: %s)" % (r.returncode, r.stderr[-500:]))
        check(kinds == sorted([("mismatch", uri(modified)), ("unlisted", uri(injected))]),
              "on: a mismatch for the modified file and an unlisted for the injected one (%s)" % kinds)
        check(all(e["digest"].startswith("s3://%s/" % m["bucket"]) and "/CloudTrail-Digest/" in e["digest"]
                  for e in got), "on: each finding names its digest")
        check("integrity: mismatch " + uri(modified) in r.stderr and "integrity: unlisted " + uri(injected) in r.stderr,
              "on: log lines name the findings")
        ct = [e for e in events if e.get("tag", "").startswith("cloud.aws.cloudtrail.") and e not in got]
        check(len(ct) >= 5 * len([o for o in m["objects"] if o["kind"] == "log"]),
              "on: the CloudTrail events are delivered too (%d)" % len(ct))

        url2 = announce(peers, m, m["bucket"], [injected])
        r2, events2, _ = drain(a.ctsqs, peers, work, "off", url2, None)
        check(r2.returncode == 0 and not integrity_events(events2) and "integrity:" not in r2.stderr,
              "off: no integrity event or log line without the setting (%d)" % r2.returncode)

        c = subprocess.run([a.ctsqs, "check-config", cfg_path], capture_output=True, text=True)
        check("integrity: verify_digests on" in c.stdout + c.stderr, "config: check-config prints the setting")
        bad = json.load(open(cfg_path))
        bad["ctsqs"]["integrity"]["verify_digests"] = "yes"
        bad_path = os.path.join(work, "bad.json")
        json.dump(bad, open(bad_path, "w"))
        c2 = subprocess.run([a.ctsqs, "check-config", bad_path], capture_output=True, text=True)
        check(c2.returncode == 2 and "integrity.verify_digests" in c2.stdout + c2.stderr,
              "config: a non-boolean verify_digests is refused naming it (%d: %s)" % (c2.returncode, (c2.stdout + c2.stderr)[-300:]))

        m3 = trailkit.make_trail(peers, "generate", "--bucket", "ct-drain-hide", "--hours", "3", "--seed", "3", keys_dir=keys)
        d = m3["digests"][1]
        trailkit.make_trail(peers, "hide-log", "--bucket", m3["bucket"], "--digest", d["key"], "--key", d["log_files"][0])
        url3 = announce(peers, m3, m3["bucket"])
        r3, events3, _ = drain(a.ctsqs, peers, work, "hide", url3, True)
        got3 = [(e["kind"], e["file"]) for e in integrity_events(events3)]
        check(("invalid_digest", "s3://%s/%s" % (m3["bucket"], d["key"])) in got3,
              "chain: the edited digest is an invalid_digest finding (%s)" % got3)
    finally:
        status = trailkit.finish(peers, work)
    return status


if __name__ == "__main__":
    sys.exit(main())
