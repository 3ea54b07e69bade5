#!/usr/bin/env python3
"""`ctsqs drain` with `"integrity": {"verify_digests": true, "heal": true}` and a ledger: trails
written by make-trail.mjs into fauxqs's S3 behind the SigV4 gate, queues that get the notifications
of some log files only (and the digests after them). Checks, each an assertion with a message:
  holes     no notification ever sent for one log file of each digest (and for both files of
            one hour), the last digest 5 s after the others: `drain --heal-grace 1s` with a SQLite ledger exits 0, every CloudTrail event
            of the trail delivered exactly once, one integrity event "healed" per hole naming the
            file and its digest, a log line per hole, the summary's heal line, each hole recorded
            in the ledger, and the heal's metrics on the Prometheus endpoint while it runs
  gone      one held-back file deleted from the bucket: exit 1, the summary names it (missing
            evidence), an integrity event "evidence_missing" for it, the other holes healed and
            every notified file delivered
  config    heal without a ledger, heal without verify_digests: check-config and drain exit 2
            naming ctsqs.integrity.heal; check-config prints the setting
  stop      `ctsqs run` stopped (SIGTERM) while a hole waits its grace: exit 0, the hole named as not
            healed (log line and summary), no "healed" event, nothing recorded for it in the ledger
  fleet     two drains at once on one queue sharing a DynamoDB ledger (dynalite through the gate),
            every digest announced twice and no log file announced at all: both collectors verify
            the digests and find the holes, the claims give each hole to one of them: every event
            delivered once across both outputs, holes_healed summed over both == the holes

usage: drain_heal_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
"""
import argparse
import collections
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402
from trailkit import PEERS_DIR, check, env_for, events_in, integrity_events, node  # noqa: E402

RECORDS = 5  # make-trail's records per log file


def cloudtrail_ids(events):
    return [e.get("eventID") for e in events if e.get("tag", "").startswith("cloud.aws.cloudtrail.")
            and e.get("tag") != "cloud.aws.cloudtrail.integrity"]


def queue(peers, work, name, bucket, logs, digests, digest_copies=1, late_digests=()):
    empty = os.path.join(work, "empty")
    os.makedirs(empty, exist_ok=True)
    q = node(peers, "put-objects.mjs", "--s3-endpoint", peers.gate, "--bucket", bucket, "--sqs-endpoint", peers.gate,
             "--queue", name, empty)
    url = q["queues"][name]
    if logs:
        node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", bucket, *logs)
    # The digests after the hour's files, as CloudTrail writes them (each `digest_copies` times in a row).
    copies = [k for k in digests for _ in range(digest_copies)]
    node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", bucket, *copies)
    if late_digests:
        node(peers, "send-notifications.mjs", "--sqs-endpoint", peers.gate, "--queue-url", url, "--bucket", bucket,
             "--delay-seconds", "5", *late_digests)
    return url


def config(peers, work, name, url, ledger, integrity, extra=None):
    cfg = {"inputs": {"sqs_collector": {
        "id": "heal-test", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1", "base_url": url,
        "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
        "ctsqs": {"heartbeat": {"enabled": False}, "drain": {"empty_polls": 1}, "sqs": {"wait_time": 1},
                  "integrity": integrity,
                  "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}}
    if ledger:
        cfg["ctsqs"]["ledger"] = ledger
    for k, v in (extra or {}).items():
        cfg["ctsqs"][k] = v
    path = os.path.join(work, name + "-collector.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def drain_cmd(ctsqs, cfg_path, out, *extra):
    return [ctsqs, "drain", "--config", cfg_path, "--output", out, "--heal-grace", "1s"] + list(extra)


def holes_case(a, peers, work):
    m = trailkit.make_trail(peers, "generate", "--bucket", "ct-heal", "--hours", "3")
    uri = lambda k: "s3://%s/%s" % (m["bucket"], k)
    listing = {k: uri(d["key"]) for d in m["digests"] for k in d["log_files"]}
    digests = [d for d in m["digests"] if d["kind"] == "digest"]
    with_logs = [d for d in digests if len(d["log_files"]) >= 2]
    check(len(with_logs) >= 3, "setup: three digests listing two files or more (%d)" % len(with_logs))
    held = [d["log_files"][0] for d in with_logs] + [with_logs[-1]["log_files"][1]]  # one hour: both files
    logs = [o["key"] for o in m["objects"] if o["kind"] == "log"]
    # The last digest comes 5 s later, after the earlier holes were healed: a healed file is not
    # taken for unlisted by the digest after its own.
    url = queue(peers, work, "q-heal", m["bucket"], [k for k in logs if k not in held], [d["key"] for d in digests[:-1]],
                late_digests=[digests[-1]["key"]])
    ledger = os.path.join(work, "ledger.db")
    port = trailkit.free_port()
    cfg_path = config(peers, work, "holes", url, ledger, {"verify_digests": True, "heal": True, "heal_grace": "10m"},
                      {"metrics": {"listen": "127.0.0.1:%d" % port}})
    out = os.path.join(work, "holes-out")
    started = time.monotonic()
    p = subprocess.Popen(drain_cmd(a.ctsqs, cfg_path, out), env=env_for(peers, dynamodb=True),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The Prometheus endpoint while it runs, until the holes are healed (or the drain ends).
    scraped, scrape = {}, ""
    while p.poll() is None:
        try:
            scrape = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read().decode()
            scraped = {k: int(float(v)) for k, v in re.findall(r'^ctsqs_(holes_\w+|evidence_missing_total)\{[^}]*\} (\S+)$',
                                                                 scrape, re.M)}
            if scraped.get("holes_healed_total", 0) >= len(held):
                break
        except OSError:
            pass
        time.sleep(0.1)
    stdout, stderr = p.communicate(timeout=300)
    took = time.monotonic() - started
    events = events_in(out)
    check(p.returncode == 0, "holes: drain exit 0 (%d: %s)" % (p.returncode, stderr[-800:]))
    ids = cloudtrail_ids(events)
    dup = [k for k, n in collections.Counter(ids).items() if n > 1]
    check(len(ids) == RECORDS * len(logs) and not dup and None not in ids,
          "holes: every CloudTrail event of the %d log files delivered once (%d events, %d duplicated)"
          % (len(logs), len(ids), len(dup)))
    healed = sorted((e["file"], e["digest"]) for e in integrity_events(events) if e.get("kind") == "healed")
    check(healed == sorted((uri(k), listing[k]) for k in held),
          "holes: one integrity event 'healed' per hole, naming the file and its digest (%s)" % healed)
    check(all(e.get("collector_id") == "heal-test" for e in integrity_events(events)) and
          not [e for e in integrity_events(events) if e.get("kind") != "healed"],
          "holes: no other integrity event (none unlisted by the last digest) (%s)" % [e.get("kind") for e in integrity_events(events)])
    check(all(("heal: healed " + uri(k) + " (digest " + listing[k] + ")") in stderr for k in held),
          "holes: a log line names each healed file and its digest")
    check(("heal: %d holes found, %d healed, 0 missing from the bucket" % (len(held), len(held))) in stderr,
          "holes: the summary's heal line (%s)" % [l for l in stderr.splitlines() if "heal:" in l][-3:])
    check(scraped.get("holes_found_total") == len(held) and scraped.get("holes_healed_total") == len(held)
          and scraped.get("evidence_missing_total") == 0,
          "holes: the metrics endpoint shows holes_found/holes_healed/evidence_missing (%s)" % scraped)
    db = sqlite3.connect(ledger)
    rows = {k: (d, n, h) for k, d, n, h in db.execute("SELECT key, delivered_at, events, sha256 FROM delivered")}
    db.close()
    sha = {o["key"]: o["sha256"] for o in m["objects"]}
    check(all(k in rows and rows[k][0] is not None and rows[k][1] == RECORDS and rows[k][2] == sha[k] for k in held),
          "holes: each healed file recorded in the ledger as delivered with its %d events and the SHA-256 of its "
          "content (%s)" % (RECORDS, [rows.get(k) for k in held]))
    print("       (holes: the drain took %.1f s with a grace of 1 s)" % took)


def gone_case(a, peers, work):
    m = trailkit.make_trail(peers, "generate", "--bucket", "ct-heal-gone", "--hours", "2", "--seed", "5")
    uri = lambda k: "s3://%s/%s" % (m["bucket"], k)
    listing = {k: uri(d["key"]) for d in m["digests"] for k in d["log_files"]}
    digests = [d for d in m["digests"] if d["kind"] == "digest"]
    with_logs = [d for d in digests if len(d["log_files"]) >= 2][:2]
    held = [with_logs[0]["log_files"][0], with_logs[1]["log_files"][1]]
    gone = held[1]
    trailkit.make_trail(peers, "delete", "--bucket", m["bucket"], "--key", gone)
    logs = [o["key"] for o in m["objects"] if o["kind"] == "log"]
    url = queue(peers, work, "q-heal-gone", m["bucket"], [k for k in logs if k not in held], [d["key"] for d in digests])
    cfg_path = config(peers, work, "gone", url, os.path.join(work, "ledger-gone.db"),
                      {"verify_digests": True, "heal": True})
    out = os.path.join(work, "gone-out")
    r = subprocess.run(drain_cmd(a.ctsqs, cfg_path, out), env=env_for(peers, dynamodb=True), capture_output=True,
                       text=True, timeout=300)
    events = events_in(out)
    check(r.returncode == 1, "gone: drain exit 1 (%d: %s)" % (r.returncode, r.stderr[-800:]))
    check(("ctsqs drain: missing evidence: %s (digest %s)" % (uri(gone), listing[gone])) in r.stderr,
          "gone: the drain names the missing file and its digest (%s)"
          % [l for l in r.stderr.splitlines() if "missing" in l][-3:])
    got = sorted((e.get("kind"), e["file"], e["digest"]) for e in integrity_events(events))
    check(got == sorted([("evidence_missing", uri(gone), listing[gone]), ("healed", uri(held[0]), listing[held[0]])]),
          "gone: integrity events 'evidence_missing' for the deleted file, 'healed' for the other hole (%s)" % got)
    ids = cloudtrail_ids(events)
    check(len(ids) == RECORDS * (len(logs) - 1) and len(set(ids)) == len(ids),
          "gone: every other file delivered, nothing held back (%d events of %d files)" % (len(ids), len(logs) - 1))
    check("1 missing from the bucket" in r.stderr and "NoSuchKey" in r.stderr,
          "gone: the summary counts it, the log says NoSuchKey")


def config_case(a, peers, work):
    for name, integrity, ledger, want in (
            ("no-ledger", {"verify_digests": True, "heal": True}, None, "needs a delivery ledger"),
            ("no-verify", {"heal": True}, os.path.join(work, "l.db"), "needs ctsqs.integrity.verify_digests")):
        path = config(peers, work, name, "http://127.0.0.1:1/000000000000/q", ledger, integrity)
        c = subprocess.run([a.ctsqs, "check-config", path], capture_output=True, text=True, timeout=60)
        d = subprocess.run([a.ctsqs, "drain", "--config", path, "--output", os.path.join(work, name + "-out")],
                           env=env_for(peers, dynamodb=True), capture_output=True, text=True, timeout=60)
        check(c.returncode == 2 and "ctsqs.integrity.heal: " + want in c.stdout + c.stderr and
              d.returncode == 2 and "ctsqs.integrity.heal: " + want in d.stderr,
              "config: heal %s is refused naming ctsqs.integrity.heal (%d %d: %s)"
              % (name, c.returncode, d.returncode, (c.stdout + c.stderr + d.stderr)[-400:]))
    path = config(peers, work, "ok", "http://127.0.0.1:1/000000000000/q", os.path.join(work, "l.db"),
                  {"verify_digests": True, "heal": True, "heal_grace": "90s"})
    c = subprocess.run([a.ctsqs, "check-config", path], capture_output=True, text=True, timeout=60)
    check("integrity: verify_digests on, heal on (grace 90s)" in c.stdout + c.stderr,
          "config: check-config prints the setting (%s)" % (c.stdout + c.stderr)[-300:])


def stop_case(a, peers, work):
    m = trailkit.make_trail(peers, "generate", "--bucket", "ct-heal-stop", "--hours", "1", "--seed", "9")
    digests = [d for d in m["digests"] if d["kind"] == "digest" and d["log_files"]]
    held = digests[0]["log_files"][0]
    logs = [o["key"] for o in m["objects"] if o["kind"] == "log"]
    url = queue(peers, work, "q-heal-stop", m["bucket"], [k for k in logs if k != held], [d["key"] for d in digests])
    ledger = os.path.join(work, "ledger-stop.db")
    cfg_path = config(peers, work, "stop", url, ledger, {"verify_digests": True, "heal": True})
    out = os.path.join(work, "stop-out")
    err_path = os.path.join(work, "stop.err")
    with open(err_path, "w") as err:
        p = subprocess.Popen([a.ctsqs, "run", "--config", cfg_path, "--output", out, "--heal-grace", "60s"],
                             env=env_for(peers, dynamodb=True), stdout=subprocess.DEVNULL, stderr=err, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "log file(s) the ledger does not hold" not in open(err_path).read():
            time.sleep(0.1)
        p.send_signal(2)
        rc = p.wait(timeout=120)
    stderr = open(err_path).read()
    hole = "s3://%s/%s" % (m["bucket"], held)
    check(rc == 0 and ("ctsqs run: not healed (stopped first): " + hole) in stderr and
          ("heal: not healed, the run ended first: " + hole) in stderr,
          "stop: run exits 0 and names the hole it did not heal (%d: %s)" % (rc, stderr[-600:]))
    events = events_in(out)
    check(not [e for e in integrity_events(events) if e.get("kind") == "healed"] and
          len(cloudtrail_ids(events)) == RECORDS * (len(logs) - 1),
          "stop: no 'healed' event, the notified files delivered (%d events)" % len(cloudtrail_ids(events)))
    db = sqlite3.connect(ledger)
    rows = list(db.execute("SELECT delivered_at FROM delivered WHERE key = ?", (held,)))
    db.close()
    check(rows == [], "stop: nothing recorded in the ledger for the hole (%s)" % rows)


def fleet_case(a, peers, work):
    m = trailkit.make_trail(peers, "generate", "--bucket", "ct-heal-fleet", "--hours", "2", "--seed", "7")
    digests = [d for d in m["digests"] if d["kind"] == "digest"]
    logs = [o["key"] for o in m["objects"] if o["kind"] == "log"]
    url = queue(peers, work, "q-heal-fleet", m["bucket"], [], [d["key"] for d in digests], digest_copies=2)
    # One message at a time per collector, so the second copy of a digest goes to the other one.
    one = {"concurrency": {"messages_in_flight": 1, "receives_in_flight": 1}, "sqs": {"wait_time": 1, "max_messages": 1}}
    cfg_path = config(peers, work, "fleet", url, "dynamodb://ctsqs-heal", {"verify_digests": True, "heal": True}, one)
    env = env_for(peers, dynamodb=True)
    r = subprocess.run([a.ctsqs, "ledger", "init", "--config", cfg_path], env=env, capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "fleet: ledger init exit 0 (%d: %s)" % (r.returncode, (r.stdout + r.stderr)[-400:]))
    # Records are slow to land (a digest's record 2 s after its delivery), so the second copy of a
    # digest is looked up before the first is recorded, and both collectors check the same holes.
    peers.faults([{"service": "dynamodb", "action": "BatchWriteItem", "delayMs": 2000}])
    try:
        procs = [subprocess.Popen(drain_cmd(a.ctsqs, cfg_path, os.path.join(work, "fleet-out-%d" % i)), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        peers.faults([])
    errs = [e for _, e in results]
    check(all(p.returncode == 0 for p in procs), "fleet: both drains exit 0 (%s: %s)"
          % ([p.returncode for p in procs], [e[-400:] for e in errs]))
    events = events_in(os.path.join(work, "fleet-out-1")) + events_in(os.path.join(work, "fleet-out-2"))
    ids = cloudtrail_ids(events)
    dup = [k for k, n in collections.Counter(ids).items() if n > 1]
    check(len(ids) == RECORDS * len(logs) and not dup,
          "fleet: every event of the %d holes delivered once across both (%d events, %d twice)"
          % (len(logs), len(ids), len(dup)))
    healed = [int(x) for e in errs for x in re.findall(r"heal: \d+ holes found, (\d+) healed", e)]
    check(sum(healed) == len(logs), "fleet: holes_healed summed over both == %d holes (%s)" % (len(logs), healed))
    healed_events = [e["file"] for e in integrity_events(events) if e.get("kind") == "healed"]
    check(sorted(healed_events) == sorted("s3://%s/%s" % (m["bucket"], k) for k in logs),
          "fleet: one 'healed' event per hole across both (%d)" % len(healed_events))
    both = all(any(("heal: digest s3://%s/%s lists" % (m["bucket"], d["key"])) in e for e in errs) for d in digests) and \
        all(any(("heal: digest s3://%s/%s lists" % (m["bucket"], d["key"])) in errs[i] for d in digests) for i in (0, 1))
    check(both and any("is claimed by another collector: left to it" in e for e in errs),
          "fleet: both collectors found holes of the same digests, and claims left some to the other "
          "(claimed elsewhere: %s)" % [e.count("claimed by another collector") for e in errs])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    ap.add_argument("--only", default="holes,gone,config,stop,fleet")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-drain-heal-")
    os.environ["DYNALITE_PORT"] = str(trailkit.free_port())  # the gate forwards DynamoDB there
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        only = a.only.split(",")
        if "fleet" in only:
            d = subprocess.run([os.path.join(PEERS_DIR, "start-peers.sh")], env=dict(peers.env, PEERS="dynalite"),
                               capture_output=True, text=True)
            if d.returncode != 0:
                raise RuntimeError("dynalite did not start: " + (d.stdout + d.stderr)[-2000:])
        for name, case in (("holes", holes_case), ("gone", gone_case), ("config", config_case), ("stop", stop_case),
                           ("fleet", fleet_case)):
            if name in only:
                t = time.monotonic()
                case(a, peers, work)
                print("       (%s: %.1f s)" % (name, time.monotonic() - t), flush=True)
    finally:
        status = trailkit.finish(peers, work)
    return status


if __name__ == "__main__":
    sys.exit(main())
