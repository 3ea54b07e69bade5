#!/usr/bin/env python3
"""`ctsqs backfill` through the SigV4 gate (STS with an external id) and fauxqs's S3 (s3rver's
listings with a delimiter miss every common prefix below the first level): a bucket with two
accounts (one under an organization id), two regions, three days, a trail prefix, keys with a
space and '+', digests, a file that is not a log, files outside the range and a corrupt object.

Checks, each an assertion with a message:
  read       every event of every in-range object delivered; exit 1 naming the corrupt object;
             nothing outside the range, no digest; the state file written
  rerun      the same --state: nothing delivered twice (only the corrupt object is tried again)
  refused    a state file of another range: exit 2 naming the file
  dry-run    objects and bytes per account/region/day, and an estimate
  faults     ListObjectsV2 answered 503, reset, and a page cut short: the listing still completes
  kill -9    killed in the middle (GetObject slowed), rerun with the same state: every event at
             least once, objects read twice at most those in flight at the kill
  enqueue    --enqueue to a queue, then two drains side by side: every event delivered; a rerun
             of the enqueue sends nothing

usage: backfill_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
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

sys.path.insert(0, os.path.dirname(__file__))
from fault_schedule import Peers, PEERS_DIR, EXTERNAL_ID  # noqa: E402

FAILED = []


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def make_bucket_tree(root):
    """Writes the bucket's objects under root; returns {eventID: key} of the in-range events."""
    expected = {}
    n = 0

    def log_file(prefix, acct, kind, region, day, hhmm, suffix="", records=4):
        nonlocal n
        y, m, d = day.split("-")
        name = "%s_%s_%s_%s%s%sT%sZ_%04d%s.json.gz" % (acct[-12:], kind, region, y, m, d, hhmm, n, suffix)
        key = "%sAWSLogs/%s%s/%s/%s/%s/%s/%s" % (prefix, "", acct, kind, region, y, m, d) + "/" + name
        recs = []
        for r in range(records):
            eid = "ev-%d-%d" % (n, r)
            recs.append({"eventVersion": "1.08", "eventTime": "%sT%s:%s:00Z" % (day, hhmm[:2], hhmm[2:]),
                         "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": eid,
                         "awsRegion": region, "recipientAccountId": acct[-12:]})
        n += 1
        return key, gzip.compress(json.dumps({"Records": recs}).encode()), [r["eventID"] for r in recs]

    def put(key, data):
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    accounts = ["111111111111", "o-test123/222222222222"]
    for acct in accounts:
        for region in ("us-east-1", "eu-west-1"):
            for day in ("2026-09-01", "2026-09-02", "2026-09-03"):
                for hhmm, suffix in (("0005", ""), ("1200", " a+b"), ("2355", "")):
                    key, data, ids = log_file("trail/", acct, "CloudTrail", region, day, hhmm, suffix)
                    t = day + "T" + hhmm
                    in_range = "2026-09-01T0600" <= t < "2026-09-03T0600"
                    put(key, data)
                    if in_range:
                        for i in ids:
                            expected[i] = key
                # a digest beside each day (never read) and a file that is not a log
                y, m, d = day.split("-")
                put("trail/AWSLogs/%s/CloudTrail-Digest/%s/%s/%s/%s/digest_%s%s%sT000000Z.json.gz" % (
                    acct, region, y, m, d, y, m, d), gzip.compress(b'{"digest": true}'))
                put("trail/AWSLogs/%s/CloudTrail/%s/%s/%s/%s/readme.txt" % (acct, region, y, m, d), b"not a log")
    # One corrupt object in range.
    corrupt = "trail/AWSLogs/111111111111/CloudTrail/us-east-1/2026/09/02/111111111111_CloudTrail_us-east-1_20260902T1300Z_bad.json.gz"
    put(corrupt, b"this is not gzip")
    return expected, corrupt


def config(work, peers, prefix="bf"):
    cfg = {"inputs": {"sqs_collector": {
        "id": "backfill-test", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
        "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test",
                        "aws_cross_account_role": "arn:aws:iam::123456789012:role/Reader",
                        "aws_external_id": EXTERNAL_ID}}},
        "ctsqs": {"heartbeat": {"enabled": False},
                  "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}}
    path = os.path.join(work, prefix + "-collector.json")
    json.dump(cfg, open(path, "w"))
    return path


def lines_in(d):
    """Complete lines written so far (while the writer runs)."""
    if not os.path.isdir(d):
        return 0
    return sum(open(os.path.join(d, f), "rb").read().count(b"\n") for f in os.listdir(d))


def events_in(d):
    seen = []
    if not os.path.isdir(d):
        return seen
    for f in sorted(os.listdir(d)):
        for line in open(os.path.join(d, f), "rb").read().split(b"\n"):
            if line:
                seen.append(json.loads(line)["event"]["eventID"])
    return seen


def guardduty(ctsqs, work, peers):
    """A collector file with aws_sqs_guard_duty beside aws_sqs_cloudtrail: the GuardDuty exports of
    the days that overlap the range are read whole (their names carry no time), with the trail."""
    tree = os.path.join(work, "gd-tree")
    want_findings, want_events = set(), set()
    for day in ("01", "02", "03", "04"):
        findings = [{"schemaVersion": "2.0", "accountId": "111111111111", "region": "us-east-1",
                     "id": "gd-%s-%d" % (day, i), "type": "Recon:EC2/Portscan", "severity": 5} for i in range(2)]
        d = os.path.join(tree, "AWSLogs/111111111111/GuardDuty/us-east-1/2026/09", day)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "5f2c9a4e-7d1b-4c3a-9e8f-0a1b2c3d4e%s.jsonl.gz" % day), "wb") as f:
            f.write(gzip.compress("".join(json.dumps(x) + "\n" for x in findings).encode()))
        with open(os.path.join(d, "readme.txt"), "wb") as f:
            f.write(b"not an export")
        if day in ("02", "03"):
            want_findings |= {x["id"] for x in findings}
        ct = os.path.join(tree, "AWSLogs/111111111111/CloudTrail/us-east-1/2026/09", day)
        os.makedirs(ct, exist_ok=True)
        eid = "gd-tree-ct-" + day
        with open(os.path.join(ct, "111111111111_CloudTrail_us-east-1_202609%sT1200Z_x.json.gz" % day), "wb") as f:
            f.write(gzip.compress(json.dumps({"Records": [{"eventVersion": "1.08", "eventSource": "iam.amazonaws.com",
                                                           "eventName": "CreateUser", "eventID": eid}]}).encode()))
        if day == "02":
            want_events.add(eid)
    r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", peers.gate,
                        "--sqs-endpoint", peers.gate, "--bucket", "gd-bucket", "--queue", "gd-replay", tree],
                       capture_output=True, text=True, env=peers.env, timeout=300)
    check(r.returncode == 0, "guardduty: objects uploaded (%s)" % r.stderr[-500:])
    cfg = json.load(open(config(work, peers, "gd")))
    cfg["inputs"]["sqs_collector"]["services"] = {"aws_sqs_cloudtrail": {}, "aws_sqs_guard_duty": {}}
    path = os.path.join(work, "gd-both.json")
    json.dump(cfg, open(path, "w"))
    base = [ctsqs, "backfill", "--config", path, "--bucket", "gd-bucket", "--since", "2026-09-02T06:00Z",
            "--until", "2026-09-03T06:00Z", "--format", "raw", "--progress", "0"]
    r = subprocess.run(base + ["--dry-run"], capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and "111111111111 us-east-1 2026-09-03 GuardDuty" in r.stdout,
          "guardduty: the dry run lists the GuardDuty days (exit %d)\n%s%s" % (r.returncode, r.stdout, r.stderr[-500:]))
    out = os.path.join(work, "gd-out")
    r = subprocess.run(base + ["--output", out], capture_output=True, text=True, timeout=180)
    findings, events = set(), set()
    for f in (sorted(os.listdir(out)) if os.path.isdir(out) else []):
        for line in open(os.path.join(out, f), "rb").read().split(b"\n"):
            if line:
                v = json.loads(line)
                (findings.add(v["event"]["id"]) if v["tag"] == "cloud.aws.guardduty.findings"
                 else events.add(v["event"]["eventID"]))
    check(r.returncode == 0, "guardduty: exit 0 (%d)\n%s" % (r.returncode, r.stderr[-1500:]))
    check(findings == want_findings, "guardduty: the findings of the two days that overlap the range, no others (%s)"
          % sorted(findings))
    check(events == want_events, "guardduty: the CloudTrail file in range beside them (%s)" % sorted(events))
    # A resumed run without --until goes on with its state file's range (not "now"), and a dry run
    # takes a state made by --enqueue.
    state = os.path.join(work, "gd-state.json")
    r = subprocess.run(base + ["--output", os.path.join(work, "gd-out2"), "--state", state],
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0, "resume: a run with --state (exit %d)\n%s" % (r.returncode, r.stderr[-800:]))
    no_until = [a for a in base if a not in ("--until", "2026-09-03T06:00Z")]
    out3 = os.path.join(work, "gd-out3")
    r = subprocess.run(no_until + ["--output", out3, "--state", state], capture_output=True, text=True, timeout=180)
    check(r.returncode == 0 and "to 2026-09-03T06:00Z" in r.stderr and lines_in(out3) == 0,
          "resume: without --until the state file's range goes on, nothing again (exit %d)\n%s" % (
              r.returncode, r.stderr[-800:]))
    qurl = peers.gate + "/000000000000/gd-replay"
    estate = os.path.join(work, "gd-enqueue-state.json")
    r1 = subprocess.run(base + ["--enqueue", qurl, "--state", estate], capture_output=True, text=True, timeout=180)
    r2 = subprocess.run(base + ["--enqueue", qurl, "--state", estate, "--dry-run"], capture_output=True, text=True,
                        timeout=180)
    check(r1.returncode == 0 and r2.returncode == 0 and "total: 0 objects" in r2.stdout,
          "resume: a dry run reads the state of an --enqueue run (exit %d, %d)\n%s%s" % (
              r1.returncode, r2.returncode, r2.stdout[-400:], r2.stderr[-400:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    ctsqs = os.path.abspath(a.ctsqs)
    work = tempfile.mkdtemp(prefix="ctsqs-backfill-")
    peers = Peers(os.path.join(work, "peers"), s3_on_fauxqs=True)
    try:
        tree = os.path.join(work, "tree")
        expected, corrupt = make_bucket_tree(tree)
        r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", peers.gate,
                            "--sqs-endpoint", peers.gate, "--bucket", "trail-bucket", "--queue", "replay", tree],
                           capture_output=True, text=True, env=peers.env, timeout=300)
        if r.returncode != 0:
            print("put-objects failed: " + r.stderr[-2000:])
            return 1
        cfg = config(work, peers)
        base = [ctsqs, "backfill", "--config", cfg, "--bucket", "trail-bucket", "--prefix", "trail",
                "--since", "2026-09-01T06:00Z", "--format", "raw", "--progress", "0"]

        def run(args, timeout=180, until="2026-09-03T06:00Z"):
            return subprocess.run(base + ["--until", until] + args, capture_output=True, text=True, timeout=timeout)

        # ---- read, with a state file
        state = os.path.join(work, "state.json")
        out1 = os.path.join(work, "out1")
        r = run(["--output", out1, "--state", state])
        got = events_in(out1)
        check(r.returncode == 1, "read: exit 1 with a corrupt object in range (got %d)\n%s" % (r.returncode, r.stderr[-3000:]))
        check(corrupt in r.stderr, "read: the corrupt object is named")
        check(set(got) == set(expected), "read: every in-range event delivered, nothing else (%d of %d, %d extra)" % (
            len(set(got) & set(expected)), len(expected), len(set(got) - set(expected))))
        check(len(got) == len(set(got)), "read: no event delivered twice in one run")
        check(os.path.exists(state), "read: state file written")
        # ---- rerun with the same state: nothing again but the corrupt object
        out2 = os.path.join(work, "out2")
        r = run(["--output", out2, "--state", state])
        check(r.returncode == 1 and corrupt in r.stderr, "rerun: the corrupt object fails again, named")
        check(events_in(out2) == [], "rerun: nothing delivered twice (%d events)" % len(events_in(out2)))
        check("done earlier" in r.stderr, "rerun: says what earlier runs did")
        # ---- refused state
        r = run(["--output", out2, "--state", state], until="2026-09-03T07:00Z")
        check(r.returncode == 2 and state in r.stderr and "another backfill" in r.stderr,
              "refused: a state of another range (exit %d): %s" % (r.returncode, r.stderr.strip()[-300:]))
        # ---- dry run
        r = run(["--dry-run", "--accounts", "222222222222", "--regions", "eu-west-1"])
        check(r.returncode == 0 and "222222222222 eu-west-1 2026-09-02" in r.stdout and "estimate:" in r.stdout,
              "dry-run: per account/region/day and an estimate (exit %d)\n%s%s" % (r.returncode, r.stdout, r.stderr[-800:]))
        # 2 days cut in half: 09-01 from 06:00 (2 files), 09-02 (3), 09-03 before 06:00 (1)
        check("total: 6 objects" in r.stdout, "dry-run: 6 objects for one account and region")
        # ---- listing faults on a read without state
        peers.gate_call("/__gate/faults", [
            {"service": "s3", "action": "ListObjectsV2", "status": 503, "code": "SlowDown", "times": 2},
            {"service": "s3", "action": "ListObjectsV2", "reset": True, "times": 1},
            {"service": "s3", "action": "ListObjectsV2", "cutAfterBytes": 300, "times": 2}])
        out3 = os.path.join(work, "out3")
        r = run(["--output", out3])
        peers.gate_call("/__gate/faults", method="DELETE")
        check(set(events_in(out3)) == set(expected) and r.returncode == 1,
              "faults: 503, reset and cut pages on ListObjectsV2, every event still delivered (exit %d)\n%s" % (
                  r.returncode, r.stderr[-1500:]))
        # ---- kill -9 in the middle, then a rerun with the same state
        peers.gate_call("/__gate/faults", [{"service": "s3", "action": "GetObject", "delayMs": 400, "times": 100000}])
        state2 = os.path.join(work, "state2.json")
        out4, out5 = os.path.join(work, "out4"), os.path.join(work, "out5")
        p = subprocess.Popen(base + ["--until", "2026-09-03T06:00Z", "--output", out4, "--state", state2, "--objects-in-flight", "2",
                              "--state-save-objects", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Killed once some objects were delivered (not at a fixed time: a loaded machine starts late).
        t_end = time.monotonic() + 60
        while time.monotonic() < t_end and p.poll() is None and lines_in(out4) < 3 * 4:
            time.sleep(0.1)
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.wait()
        peers.gate_call("/__gate/faults", method="DELETE")
        first = events_in(out4)
        r = run(["--output", out5, "--state", state2])
        second = events_in(out5)
        both = set(first) | set(second)
        check(0 < len(set(first)) < len(expected), "kill -9: killed in the middle (%d of %d delivered)" % (
            len(set(first)), len(expected)))
        check(both == set(expected), "kill -9: every event delivered at least once after the rerun")
        again = {expected[e] for e in set(first) & set(second)}
        check(len(again) <= 2 + 1, "kill -9: objects read twice at most those in flight (%d)" % len(again))
        # ---- enqueue, then two drains
        qurl = peers.gate + "/000000000000/replay"
        state3 = os.path.join(work, "state3.json")
        r = run(["--enqueue", qurl, "--state", state3])
        n_objects = len(set(expected.values()))
        check(r.returncode == 0 and "%d objects enqueued" % (n_objects + 1) in r.stderr,
              "enqueue: one notification per object (exit %d): %s" % (r.returncode, r.stderr[-600:]))
        r = run(["--enqueue", qurl, "--state", state3])
        check(r.returncode == 0 and "0 objects enqueued" in r.stderr, "enqueue: a rerun sends nothing")
        dcfg = json.load(open(cfg))
        dcfg["inputs"]["sqs_collector"]["base_url"] = qurl
        dcfg["ctsqs"]["sqs"] = {"wait_time": "1s", "visibility_timeout": "10s"}
        dcfg["ctsqs"]["on_permanent_error"] = {"delete_after_receives": 2}
        dpath = os.path.join(work, "drain.json")
        json.dump(dcfg, open(dpath, "w"))
        outs = [os.path.join(work, "drain-a"), os.path.join(work, "drain-b")]
        ps = [subprocess.Popen([ctsqs, "drain", "--config", dpath, "--output", o, "--format", "raw", "-q",
                                "--retry-backoff", "1"], stderr=subprocess.DEVNULL) for o in outs]
        for p in ps:
            p.wait(timeout=240)
        drained = set(events_in(outs[0])) | set(events_in(outs[1]))
        check(drained == set(expected), "enqueue: two drains on the queue delivered every event (%d of %d)" % (
            len(drained & set(expected)), len(expected)))
        guardduty(ctsqs, work, peers)
    finally:
        peers.stop()
        if not a.keep and not FAILED:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir: " + work)
    print("backfill_test: %d check(s) failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
