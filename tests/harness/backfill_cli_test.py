#!/usr/bin/env python3
"""`ctsqs backfill` checks of issue 17 (backfill part), through the SigV4 gate with fauxqs's S3,
on a bucket whose trail prefix is itself `AWSLogs` (keys `AWSLogs/AWSLogs/<account>/...`):

  prefix-awslogs  --prefix AWSLogs reads every event (was: every key "not a log", exit 0)
  missing         a prefix, account or region with nothing: named, exit 1, the rest read
  dry-run         never creates the state file (nor its lock), never changes an existing one
  state-unwritable  the state's temporary file cannot be created: named, exit 1
  listing-fails   one day listing answered 403 AccessDenied: named, exit 1, the other days read
  lock            a second backfill on a --state in use is refused (exit 2)
  sigint          SIGINT during a backfill: state saved, exit 1; the rerun completes it
  sigterm-stuck   SIGTERM while stdout is stuck (nobody reads it): ends after the grace period
                  with a summary and exit 1 (was: never ended)
  enqueue-fails   a SendMessageBatch call that fails for good: those objects named, not in the
                  state, exit 1; the rerun enqueues exactly them

usage: backfill_cli_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
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
ACCT = "111111111111"
DAYS = ("2026-09-01", "2026-09-02", "2026-09-03")


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def make_tree(root, records=150):
    """Four files a day, three days, under the trail prefix "AWSLogs/"; returns {day: set(eventIDs)}."""
    by_day = {}
    n = 0
    for day in DAYS:
        y, m, d = day.split("-")
        by_day[day] = set()
        for hhmm in ("0100", "0700", "1300", "1900"):
            key = "AWSLogs/AWSLogs/%s/CloudTrail/us-east-1/%s/%s/%s/%s_CloudTrail_us-east-1_%s%s%sT%sZ_%04d.json.gz" % (
                ACCT, y, m, d, ACCT, y, m, d, hhmm, n)
            recs = [{"eventVersion": "1.08", "eventTime": "%sT%s:%s:00Z" % (day, hhmm[:2], hhmm[2:]),
                     "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": "ev-%d-%d" % (n, r),
                     "awsRegion": "us-east-1", "recipientAccountId": ACCT, "padding": "x" * 300}
                    for r in range(records)]
            by_day[day].update(r["eventID"] for r in recs)
            path = os.path.join(root, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(gzip.compress(json.dumps({"Records": recs}).encode()))
            n += 1
    return by_day


def events_in(d):
    seen = []
    if not os.path.isdir(d):
        return seen
    for f in sorted(os.listdir(d)):
        for line in open(os.path.join(d, f), "rb").read().split(b"\n"):
            if line:
                seen.append(json.loads(line)["event"]["eventID"])
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    ctsqs = os.path.abspath(a.ctsqs)
    work = tempfile.mkdtemp(prefix="ctsqs-backfill-cli-")
    peers = Peers(os.path.join(work, "peers"), s3_on_fauxqs=True)
    try:
        tree = os.path.join(work, "tree")
        by_day = make_tree(tree)
        everything = set().union(*by_day.values())
        r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", peers.gate,
                            "--sqs-endpoint", peers.gate, "--bucket", "cli-bucket", "--queue", "cli-replay", tree],
                           capture_output=True, text=True, env=peers.env, timeout=300)
        if r.returncode != 0:
            print("put-objects failed: " + r.stderr[-2000:])
            return 1
        cfg = {"inputs": {"sqs_collector": {
            "id": "backfill-cli-test", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
            "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test",
                            "aws_cross_account_role": "arn:aws:iam::123456789012:role/Reader",
                            "aws_external_id": EXTERNAL_ID}}},
            "ctsqs": {"heartbeat": {"enabled": False}, "run": {"shutdown_grace": "3s"},
                      "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate,
                                    "s3_force_path_style": True}}}
        cfg_path = os.path.join(work, "collector.json")
        json.dump(cfg, open(cfg_path, "w"))
        base = [ctsqs, "backfill", "--config", cfg_path, "--bucket", "cli-bucket", "--since", "2026-09-01",
                "--until", "2026-09-04", "--format", "raw", "--progress", "0"]

        def run(args, prefix="AWSLogs", timeout=180):
            return subprocess.run(base + ["--prefix", prefix] + args, capture_output=True, text=True, timeout=timeout)

        def out(name):
            return os.path.join(work, name)

        # ---- prefix-awslogs (item 2)
        r = run(["--output", out("o1")])
        got = set(events_in(out("o1")))
        check(r.returncode == 0 and got == everything,
              "prefix-awslogs: --prefix AWSLogs reads every event (%d of %d, exit %d)\n%s" % (
                  len(got), len(everything), r.returncode, r.stderr[-1500:]))
        # ---- missing (item 10)
        r = run(["--output", out("o2")], prefix="AWSLogz")
        check(r.returncode == 1 and "nothing found for s3://cli-bucket/AWSLogz/AWSLogs/" in r.stderr,
              "missing: a prefix with nothing under it is named, exit 1 (exit %d)\n%s" % (r.returncode, r.stderr[-800:]))
        r = run(["--output", out("o3"), "--regions", "us-east-1,xx-nowhere-1"])
        check(r.returncode == 1 and "nothing found for region xx-nowhere-1" in r.stderr and
              set(events_in(out("o3"))) == everything,
              "missing: a region with nothing is named, exit 1, the rest read (exit %d)\n%s" % (
                  r.returncode, r.stderr[-800:]))
        r = run(["--output", out("o4"), "--accounts", "999999999999"])
        check(r.returncode == 1 and "nothing found for account 999999999999" in r.stderr,
              "missing: an account with nothing is named, exit 1 (exit %d)" % r.returncode)
        # ---- dry-run never creates or changes the state file
        st = out("dry.state")
        r = run(["--dry-run", "--state", st])
        check(r.returncode == 0 and not os.path.exists(st) and not os.path.exists(st + ".lock"),
              "dry-run: no state file (nor lock) created (exit %d)" % r.returncode)
        r = run(["--output", out("o5"), "--state", st, "--regions", "us-east-1"])
        before = (open(st, "rb").read(), os.stat(st).st_mtime_ns) if os.path.exists(st) else None
        r = run(["--dry-run", "--state", st])
        after = (open(st, "rb").read(), os.stat(st).st_mtime_ns) if os.path.exists(st) else None
        check(before is not None and before == after, "dry-run: an existing state file is not changed")
        # ---- a state file that cannot be written
        st = out("unwritable.state")
        os.makedirs(st + ".tmp")  # the temporary file cannot be created
        r = run(["--output", out("o6"), "--state", st])
        check(r.returncode == 1 and "state not saved" in r.stderr and st in r.stderr and
              set(events_in(out("o6"))) == everything,
              "state-unwritable: named, exit 1, events still delivered (exit %d)\n%s" % (r.returncode, r.stderr[-800:]))
        # ---- a listing that fails for good: the first day listing (after the discovery ones)
        r = run(["--dry-run"])
        listings = int(r.stderr.split(" listings,")[0].split()[-1])
        discovery = listings - len(DAYS)
        peers.gate_call("/__gate/faults", [{"service": "s3", "action": "ListObjectsV2", "status": 403,
                                            "code": "AccessDenied", "after": discovery, "times": 1}])
        r = run(["--output", out("o7")])
        peers.gate_call("/__gate/faults", method="DELETE")
        got = set(events_in(out("o7")))
        failed_days = [d for d in DAYS if "/%s/ " % d.replace("-", "/") in r.stderr.replace(":", " ")]
        read_days = [d for d in DAYS if by_day[d] <= got]
        check(r.returncode == 1 and "listing failed" in r.stderr and "AccessDenied" in r.stderr and
              len(failed_days) == 1 and len(read_days) == 2 and got == set().union(*(by_day[d] for d in read_days)),
              "listing-fails: one day listing named, exit 1, the other days read (exit %d, named %s, read %s)\n%s" % (
                  r.returncode, failed_days, read_days, r.stderr[-1200:]))
        # ---- lock, then SIGINT during a backfill
        st = out("sig.state")
        peers.gate_call("/__gate/faults", [{"service": "s3", "action": "GetObject", "delayMs": 700, "times": 100000}])
        err = open(out("sig.err"), "w")
        p = subprocess.Popen(base + ["--prefix", "AWSLogs", "--output", out("o8"), "--state", st,
                                     "--objects-in-flight", "1", "--state-save-objects", "1"],
                             stdout=subprocess.DEVNULL, stderr=err)
        t_end = time.monotonic() + 60
        while time.monotonic() < t_end and len(events_in(out("o8"))) < 300:
            time.sleep(0.1)
        r = run(["--output", out("o9"), "--state", st])
        check(r.returncode == 2 and "in use by another backfill" in r.stderr,
              "lock: a second backfill on the same --state is refused (exit %d): %s" % (r.returncode, r.stderr[-300:]))
        p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        err.close()
        peers.gate_call("/__gate/faults", method="DELETE")
        stderr = open(out("sig.err")).read()
        first = set(events_in(out("o8")))
        state_text = open(st).read() if os.path.exists(st) else ""
        check(rc == 1 and "stopped before the end" in stderr and ('"after"' in state_text or '"done"' in state_text or
                                                                 '"complete"' in state_text and ACCT in state_text),
              "sigint: exit 1, the state saved with what was done (exit %s, %d events)\n%s" % (rc, len(first), stderr[-800:]))
        r = run(["--output", out("o10"), "--state", st])
        second = set(events_in(out("o10")))
        check(r.returncode == 0 and first | second == everything and len(second) < len(everything),
              "sigint: the rerun reads only what was left, every event at least once (exit %d, %d then %d)" % (
                  r.returncode, len(first), len(second)))
        # ---- SIGTERM while stdout is stuck (item 7)
        err = open(out("stuck.err"), "w")
        p = subprocess.Popen(base + ["--prefix", "AWSLogs", "--output", "-"], stdout=subprocess.PIPE, stderr=err)
        time.sleep(4)  # the pipe fills (about 1 MB of events, nobody reads)
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            rc = p.wait(timeout=40)
        except subprocess.TimeoutExpired:
            rc = None
            p.kill()
            p.wait()
        took = time.monotonic() - t0
        err.close()
        stderr = open(out("stuck.err")).read()
        check(rc == 1 and "summary" in stderr and "abandoned" in stderr,
              "sigterm-stuck: ends after the grace period with a summary, exit 1 (exit %s after %.0f s)\n%s" % (
                  rc, took, stderr[-800:]))
        # ---- --enqueue with a SendMessageBatch call that fails for good
        qurl = peers.gate + "/000000000000/cli-replay"
        st = out("enq.state")
        peers.gate_call("/__gate/faults", [{"service": "sqs", "action": "SendMessageBatch", "status": 400,
                                            "code": "AWS.SimpleQueueService.BatchRequestTooLong", "times": 1}])
        r = run(["--enqueue", qurl, "--state", st])
        peers.gate_call("/__gate/faults", method="DELETE")
        named = [l for l in r.stderr.splitlines() if "not enqueued" in l]
        # A batch is at most 10 objects of one day: here a day's 4.
        check(r.returncode == 1 and len(named) == 4 and "backfill: 8 objects enqueued" in r.stderr,
              "enqueue-fails: the failed batch's 4 objects named, exit 1, the other 8 enqueued (exit %d)\n%s" % (
                  r.returncode, r.stderr[-1200:]))
        r = run(["--enqueue", qurl, "--state", st])
        check(r.returncode == 0 and "backfill: 4 objects enqueued" in r.stderr,
              "enqueue-fails: the rerun enqueues exactly those (exit %d): %s" % (r.returncode, r.stderr[-400:]))
    finally:
        peers.stop()
        if not a.keep and not FAILED:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir: " + work)
    print("backfill_cli_test: %d check(s) failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
