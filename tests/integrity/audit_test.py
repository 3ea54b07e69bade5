#!/usr/bin/env python3
"""`ctsqs audit` against the delivery ledger: a trail written by make-trail.mjs, an SQS queue that
gets the notifications of all its log files but three (one per digest hour), drained through the
SigV4 gate with a SQLite ledger. Checks, each an assertion with a message:
  audit   exit 1; exactly the three held-back files are reported undelivered, each naming the
          digest that lists it (as make-trail's manifest says); nothing else; the summary says 3
  heal    `audit --heal` delivers them through the collector (events written to its --output, none
          of them an event the drain already delivered), reports each as healed, exit 0
  again   a second audit: exit 0, nothing undelivered (the heal recorded them in the ledger)
  usage   no ledger: exit 2 naming it; a bad --since: exit 2

usage: audit_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402

FAILED = []
PEERS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers")


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def node(peers, script, *args):
    r = subprocess.run(["node", os.path.join(PEERS_DIR, script)] + list(args), env=peers.env,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (script, r.stderr[-1500:]))
    return json.loads(r.stdout)


def env_for(peers):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL_CLOUDTRAIL=peers.gate, AWS_EC2_METADATA_DISABLED="true")
    return env


def events_in(out):
    events = []
    for fn in sorted(glob.glob(os.path.join(out, "**", "*"), recursive=True)):
        if os.path.isfile(fn):
            with open(fn) as f:
                events += [json.loads(line) for line in f if line.strip()]
    return events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-audit-")
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        m = trailkit.make_trail(peers, "generate", "--bucket", "ct-audit", "--hours", "3")
        uri = lambda k: "s3://%s/%s" % (m["bucket"], k)
        listing = {}  # log key -> the digest that lists it
        for d in m["digests"]:
            for k in d["log_files"]:
                listing[k] = uri(d["key"])
        held = [d["log_files"][0] for d in m["digests"] if d["kind"] == "digest" and d["log_files"]][:3]
        check(len(held) == 3, "setup: three digests with log files (%d)" % len(held))
        logs = [o["key"] for o in m["objects"] if o["kind"] == "log" and o["key"] not in held]

        empty = os.path.join(work, "empty")
        os.makedirs(empty, exist_ok=True)
        q = node(peers, "put-objects.mjs", "--s3-endpoint", peers.gate, "--bucket", m["bucket"], "--sqs-endpoint",
                 peers.gate, "--queue", "q-audit", empty)
        url = q["queues"]["q-audit"]
        node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", m["bucket"],
             *logs)

        ledger = os.path.join(work, "ledger.db")
        cfg = {"inputs": {"sqs_collector": {
            "id": "audit-test", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1", "base_url": url,
            "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
            "ctsqs": {"heartbeat": {"enabled": False}, "drain": {"empty_polls": 1}, "sqs": {"wait_time": 1},
                      "ledger": ledger,
                      "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}}
        cfg_path = os.path.join(work, "collector.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        out1 = os.path.join(work, "drain-out")
        r = subprocess.run([a.ctsqs, "drain", "--config", cfg_path, "--output", out1], env=env_for(peers),
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "drain: exit 0 (%d: %s)" % (r.returncode, r.stderr[-500:]))
        drained = events_in(out1)

        def audit(name, *extra):
            report = os.path.join(work, name + ".jsonl")
            cmd = [a.ctsqs, "audit", "--config", cfg_path, "--bucket", m["bucket"], "--since", m["start"],
                   "--until", m["end"], "--report", report] + list(extra)
            r = subprocess.run(cmd, env=env_for(peers), capture_output=True, text=True, timeout=300)
            recs = []
            if os.path.exists(report):
                with open(report) as f:
                    recs = [json.loads(line) for line in f if line.strip()]
            return r, recs

        r1, recs1 = audit("audit1")
        und = sorted((x["uri"], x["digest"]) for x in recs1 if x["type"] == "undelivered")
        want = sorted((uri(k), listing[k]) for k in held)
        check(r1.returncode == 1, "audit: exit 1 with files missing (%d: %s)" % (r1.returncode, r1.stderr[-500:]))
        check(und == want, "audit: exactly the held-back files, each with its digest (%s)" % und)
        check(len(recs1) == len(und), "audit: nothing else reported (%s)" % [x for x in recs1 if x["type"] != "undelivered"])
        check("3 UNDELIVERED" in r1.stderr and all(uri(k) in r1.stderr for k in held),
              "audit: the summary and the log lines name them (%s)" % r1.stderr[-600:])

        out2 = os.path.join(work, "heal-out")
        r2, recs2 = audit("heal", "--heal", "--output", out2)
        healed = sorted((x["uri"], x["digest"]) for x in recs2 if x["type"] == "healed")
        check(r2.returncode == 0, "heal: exit 0 (%d: %s)" % (r2.returncode, r2.stderr[-800:]))
        check(healed == want, "heal: each held-back file reported healed (%s)" % healed)
        got = events_in(out2)
        ids1 = {json.dumps(e, sort_keys=True) for e in drained}
        check(len(got) > 0 and not any(json.dumps(e, sort_keys=True) in ids1 for e in got),
              "heal: events delivered (%d), none the drain already delivered" % len(got))

        r3, recs3 = audit("audit2")
        check(r3.returncode == 0 and not recs3, "again: a second audit exits 0 with nothing undelivered (%d: %s %s)"
              % (r3.returncode, recs3[:3], r3.stderr[-400:]))

        bare = dict(cfg)
        bare["ctsqs"] = {k: v for k, v in cfg["ctsqs"].items() if k != "ledger"}
        bare_path = os.path.join(work, "bare.json")
        with open(bare_path, "w") as f:
            json.dump(bare, f)
        u = subprocess.run([a.ctsqs, "audit", "--config", bare_path, "--bucket", m["bucket"], "--since", m["start"]],
                           env=env_for(peers), capture_output=True, text=True, timeout=60)
        check(u.returncode == 2 and "ledger" in u.stderr, "usage: no ledger: exit 2 naming it (%d: %s)" % (u.returncode, u.stderr))
        u2 = subprocess.run([a.ctsqs, "audit", "--config", cfg_path, "--bucket", m["bucket"], "--since", "yesterday"],
                            env=env_for(peers), capture_output=True, text=True, timeout=60)
        check(u2.returncode == 2 and "--since" in u2.stderr, "usage: a bad --since: exit 2 (%d: %s)" % (u2.returncode, u2.stderr))
    finally:
        peers.stop()
        if FAILED:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d checks failed" % len(FAILED) if FAILED else "all checks held")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
