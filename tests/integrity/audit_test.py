#!/usr/bin/env python3
"""`ctsqs audit` against the delivery ledger: a trail written by make-trail.mjs, an SQS queue that
gets the notifications of all its log files but four (one per digest hour, and a second one of
the last hour that is then deleted from the bucket), drained through the
SigV4 gate with a SQLite ledger. Checks, each an assertion with a message:
  audit   exit 1; only the digests fetched from S3 (no log file); exactly the four held-back files
          are reported undelivered, each naming the digest that lists it (as make-trail's manifest
          says); nothing else; the summary says 4
  heal    `audit --heal` delivers the three still in the bucket through the collector (events
          written to its --output, none of them an event the drain already delivered), reports each
          as healed; the deleted one stays undelivered, with a reason, named; exit 1
  again   a second audit: exit 1, only the deleted file undelivered (the heal recorded the others)
  sqlite, dynamodb   a trail missing one file still in the bucket, with the SQLite ledger and with
          a DynamoDB table (dynalite through the gate, `ledger init`): `--heal` (report on stdout)
          exits 0, and so does the audit after it, reporting nothing; (sqlite) before that, while
          another collector holds a claim on the file, the heal leaves it alone and exits 1
  usage   no ledger, or a ledger file that does not exist: exit 2 naming it; a bad --since: exit 2

usage: audit_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402
from trailkit import PEERS_DIR, check, env_for, events_in, node  # noqa: E402


def heal_clean(ctsqs, peers, work, cfg, empty, name, ledger):
    m2 = trailkit.make_trail(peers, "generate", "--bucket", "ct-audit-" + name, "--hours", "2", "--seed", "2")
    logs2 = [o["key"] for o in m2["objects"] if o["kind"] == "log"]
    q2 = node(peers, "put-objects.mjs", "--s3-endpoint", peers.gate, "--bucket", m2["bucket"], "--sqs-endpoint",
              peers.gate, "--queue", "q-audit-" + name, empty)
    url2 = q2["queues"]["q-audit-" + name]
    node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url2, "--bucket", m2["bucket"],
         *logs2[1:])
    cfg2 = json.loads(json.dumps(cfg))
    cfg2["inputs"]["sqs_collector"]["base_url"] = url2
    cfg2["ctsqs"]["ledger"] = ledger
    cfg2_path = os.path.join(work, "collector-%s.json" % name)
    with open(cfg2_path, "w") as f:
        json.dump(cfg2, f)
    env = env_for(peers)
    env["AWS_ENDPOINT_URL_DYNAMODB"] = peers.gate
    if ledger.startswith("dynamodb://"):
        r = subprocess.run([ctsqs, "ledger", "init", "--config", cfg2_path], env=env, capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "%s: ledger init exit 0 (%d: %s)" % (name, r.returncode, (r.stdout + r.stderr)[-500:]))
    r = subprocess.run([ctsqs, "drain", "--config", cfg2_path, "--output", os.path.join(work, name + "-drain-out")],
                       env=env, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "%s: drain exit 0 (%d: %s)" % (name, r.returncode, r.stderr[-500:]))
    base2 = [ctsqs, "audit", "--config", cfg2_path, "--bucket", m2["bucket"], "--since", m2["start"], "--until",
             m2["end"], "--report", "-"]
    first = "s3://%s/%s" % (m2["bucket"], logs2[0])
    if not ledger.startswith("dynamodb://"):
        # Another collector holds a claim on the missing file: the heal leaves it to it.
        import sqlite3
        db = sqlite3.connect(ledger)
        db.execute("INSERT INTO delivered (bucket, key, claim_owner, claim_until) VALUES (?, ?, 'other', ?)",
                   (m2["bucket"], logs2[0], int((time.time() + 3600) * 1000)))
        db.commit()
        c = subprocess.run(base2 + ["--heal", "--output", os.path.join(work, name + "-claimed-out")], env=env,
                           capture_output=True, text=True, timeout=300)
        crecs = [json.loads(line) for line in c.stdout.splitlines() if line.startswith("{")]
        check(c.returncode == 1 and [(x["type"], x["uri"], x.get("reason")) for x in crecs] ==
              [("undelivered", first, None), ("undelivered", first, "claimed by another collector")]
              and not glob.glob(os.path.join(work, name + "-claimed-out", "**", "*.*"), recursive=True),
              "%s: a file another collector claimed is left to it, reported with why, exit 1 (%d: %s %s)"
              % (name, c.returncode, crecs, c.stderr[-400:]))
        db.execute("DELETE FROM delivered WHERE claim_owner = 'other'")
        db.commit()
        db.close()
    h = subprocess.run(base2 + ["--heal", "--output", os.path.join(work, name + "-heal-out")], env=env,
                       capture_output=True, text=True, timeout=300)
    hrecs = [json.loads(line) for line in h.stdout.splitlines() if line.startswith("{")]
    check(h.returncode == 0 and [(x["type"], x["uri"]) for x in hrecs] == [("undelivered", first), ("healed", first)],
          "%s: --heal reports the one missing file undelivered then healed, exit 0 (%d: %s %s)"
          % (name, h.returncode, hrecs, h.stderr[-400:]))
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(peers.gate + "/__gate/reset", data=b"", method="POST"), timeout=10).read()
    h2 = subprocess.run(base2, env=env, capture_output=True, text=True, timeout=300)
    check(h2.returncode == 0 and not h2.stdout.strip(), "%s: the audit after it exits 0, nothing reported (%d: %s %s)"
          % (name, h2.returncode, h2.stdout[-300:], h2.stderr[-300:]))
    if ledger.startswith("dynamodb://"):
        with_files = len([d for d in m2["digests"] if d["log_files"]])
        calls = {k: v for k, v in peers.stats()["byAction"].items() if k.startswith("dynamodb.")}
        check(calls == {"dynamodb.BatchGetItem": with_files},
              "%s: one BatchGetItem per digest listing files (%d): %s" % (name, with_files, calls))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-audit-")
    os.environ["DYNALITE_PORT"] = str(trailkit.free_port())  # the gate forwards DynamoDB there
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        d = subprocess.run([os.path.join(PEERS_DIR, "start-peers.sh")], env=dict(peers.env, PEERS="dynalite"),
                           capture_output=True, text=True)
        if d.returncode != 0:
            raise RuntimeError("dynalite did not start: " + (d.stdout + d.stderr)[-2000:])
        m = trailkit.make_trail(peers, "generate", "--bucket", "ct-audit", "--hours", "3")
        uri = lambda k: "s3://%s/%s" % (m["bucket"], k)
        listing = {}  # log key -> the digest that lists it
        for d in m["digests"]:
            for k in d["log_files"]:
                listing[k] = uri(d["key"])
        with_logs = [d for d in m["digests"] if d["kind"] == "digest" and len(d["log_files"]) >= 2][:3]
        check(len(with_logs) == 3, "setup: three digests with two log files or more (%d)" % len(with_logs))
        held = [d["log_files"][0] for d in with_logs]
        gone = with_logs[-1]["log_files"][1]  # held back too, and deleted from the bucket before the heal
        held_all = held + [gone]
        logs = [o["key"] for o in m["objects"] if o["kind"] == "log" and o["key"] not in held_all]

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

        import urllib.request
        urllib.request.urlopen(urllib.request.Request(peers.gate + "/__gate/reset", data=b"", method="POST"), timeout=10).read()
        r1, recs1 = audit("audit1")
        gets = {k: v for k, v in peers.stats()["byAction"].items() if k.startswith("s3.") and "Get" in k}
        check(sum(gets.values()) == len(m["digests"]),
              "audit: only the %d digests fetched, no log file (%s)" % (len(m["digests"]), gets))
        und = sorted((x["uri"], x["digest"]) for x in recs1 if x["type"] == "undelivered")
        want = sorted((uri(k), listing[k]) for k in held)
        want_all = sorted((uri(k), listing[k]) for k in held_all)
        check(r1.returncode == 1, "audit: exit 1 with files missing (%d: %s)" % (r1.returncode, r1.stderr[-500:]))
        check(und == want_all, "audit: exactly the held-back files, each with its digest (%s)" % und)
        check(len(recs1) == len(und), "audit: nothing else reported (%s)" % [x for x in recs1 if x["type"] != "undelivered"])
        check("4 UNDELIVERED" in r1.stderr and all(uri(k) in r1.stderr for k in held_all),
              "audit: the summary and the log lines name them (%s)" % r1.stderr[-600:])

        trailkit.make_trail(peers, "delete", "--bucket", m["bucket"], "--key", gone)
        out2 = os.path.join(work, "heal-out")
        r2, recs2 = audit("heal", "--heal", "--output", out2)
        healed = sorted((x["uri"], x["digest"]) for x in recs2 if x["type"] == "healed")
        left = [x for x in recs2 if x["type"] == "undelivered" and x.get("reason")]
        check(r2.returncode == 1, "heal: exit 1, one file is gone (%d: %s)" % (r2.returncode, r2.stderr[-800:]))
        check(healed == want, "heal: each held-back file still in the bucket reported healed (%s)" % healed)
        check([(x["uri"], x["digest"]) for x in left] == [(uri(gone), listing[gone])],
              "heal: the deleted file reported undelivered with a reason (%s)" % left)
        check("still undelivered after the heal: " + uri(gone) in r2.stderr and "NoSuchKey" in r2.stderr
              and "given up" in (left[0].get("reason", "") if left else ""),
              "heal: log lines name the deleted file and why (NoSuchKey), its reason says it was given up")
        got = events_in(out2)
        ids1 = {json.dumps(e, sort_keys=True) for e in drained}
        check(len(got) > 0 and not any(json.dumps(e, sort_keys=True) in ids1 for e in got),
              "heal: events delivered (%d), none the drain already delivered" % len(got))

        r3, recs3 = audit("audit2")
        check(r3.returncode == 1 and [(x["type"], x["uri"]) for x in recs3] == [("undelivered", uri(gone))],
              "again: a second audit names only the deleted file, exit 1 (%d: %s %s)"
              % (r3.returncode, recs3[:3], r3.stderr[-400:]))

        # A trail whose one missing file is still there: --heal exits 0, and so does the audit after it;
        # with the SQLite ledger and with the DynamoDB one (dynalite through the gate).
        heal_clean(a.ctsqs, peers, work, cfg, empty, "sqlite", ledger)
        heal_clean(a.ctsqs, peers, work, cfg, empty, "dynamodb", "dynamodb://ctsqs-audit")

        bare = dict(cfg)
        bare["ctsqs"] = {k: v for k, v in cfg["ctsqs"].items() if k != "ledger"}
        bare_path = os.path.join(work, "bare.json")
        with open(bare_path, "w") as f:
            json.dump(bare, f)
        u = subprocess.run([a.ctsqs, "audit", "--config", bare_path, "--bucket", m["bucket"], "--since", m["start"]],
                           env=env_for(peers), capture_output=True, text=True, timeout=60)
        check(u.returncode == 2 and "ledger" in u.stderr, "usage: no ledger: exit 2 naming it (%d: %s)" % (u.returncode, u.stderr))
        nowhere = os.path.join(work, "no-such-ledger.db")
        u3 = subprocess.run([a.ctsqs, "audit", "--config", cfg_path, "--ledger", nowhere, "--bucket", m["bucket"],
                             "--since", m["start"], "--until", m["end"]], env=env_for(peers), capture_output=True,
                            text=True, timeout=60)
        check(u3.returncode == 2 and nowhere in u3.stderr and not os.path.exists(nowhere),
              "usage: a ledger file that does not exist (a typo would report, and heal, everything): exit 2 naming "
              "it, not created (%d: %s)" % (u3.returncode, u3.stderr[-300:]))
        u2 = subprocess.run([a.ctsqs, "audit", "--config", cfg_path, "--bucket", m["bucket"], "--since", "yesterday"],
                            env=env_for(peers), capture_output=True, text=True, timeout=60)
        check(u2.returncode == 2 and "--since" in u2.stderr, "usage: a bad --since: exit 2 (%d: %s)" % (u2.returncode, u2.stderr))
    finally:
        status = trailkit.finish(peers, work)
    return status


if __name__ == "__main__":
    sys.exit(main())
