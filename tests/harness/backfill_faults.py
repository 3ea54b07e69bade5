#!/usr/bin/env python3
"""Seeded fault schedules over `ctsqs backfill` (the backfill sibling of fault_schedule.py, kept
in its own file): the real binary through the SigV4 gate with fauxqs's S3, a bucket with known
event ids, and per seed (random.Random(seed)) a schedule drawn from:

  kill9      SIGKILL at a random moment of the first run
  sigterm    SIGTERM at a random moment of the first run (the run must end by itself, exit 1)
  listing    ListObjectsV2 faults: 503 SlowDown, a reset, a page cut short
  slow       GetObject slowed (so kills land with objects in flight)
  shared     a `ctsqs drain` writing into the same output directory during the backfill (its
             queue filled by `backfill --enqueue` of a second bucket)
  poison     the range also holds a corrupt object, and the collector file says
             on_permanent_error.delete_after_receives N (1..3): the object is given up, never
             recorded done (every run exits 1 naming it)

Each run uses the same --state file; the seed reruns (no faults) until a run exits 0 (at most 4
reruns). Invariants:

  B1 every object in range is delivered at least once across the runs (all its event ids are in
     the output directory), and the shared drain's events too;
  B2 the state never claims an object whose events were not flushed: after every run (also one
     killed by SIGKILL), every object the state file records done has all its events in the
     output directory, and the corrupt object is never recorded;
  B3 no torn line: every line of the output is one JSON event;
  B4 no hang: every run ends within its bound (a SIGTERM'ed run by itself), and the final run
     exits 0.

usage: backfill_faults.py --ctsqs BIN [--seeds A..B] [--keep]
exit 0 when every seed held every invariant, 1 otherwise (each failing seed is named).
"""
import argparse
import datetime
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from fault_schedule import Peers, PEERS_DIR, EXTERNAL_ID  # noqa: E402

ACCTS = ("111111111111", "222222222222")
DAYS = ("2026-09-01", "2026-09-02")


def make_tree(root, tag, files_per_day=5, records=20):
    """Returns {key: [event ids]} of the in-range objects written under root."""
    objects = {}
    n = 0
    for acct in ACCTS:
        for day in DAYS:
            y, m, d = day.split("-")
            for i in range(files_per_day):
                hhmm = "%02d%02d" % (1 + i * 4, 5)
                key = "trail/AWSLogs/%s/CloudTrail/us-east-1/%s/%s/%s/%s_CloudTrail_us-east-1_%s%s%sT%sZ_%s%04d.json.gz" % (
                    acct, y, m, d, acct, y, m, d, hhmm, tag, n)
                ids = ["%s-%d-%d" % (tag, n, r) for r in range(records)]
                recs = [{"eventVersion": "1.08", "eventTime": "%sT%s:%s:00Z" % (day, hhmm[:2], hhmm[2:]),
                         "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": e,
                         "awsRegion": "us-east-1", "recipientAccountId": acct} for e in ids]
                path = os.path.join(root, key)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(gzip.compress(json.dumps({"Records": recs}).encode()))
                objects[key] = ids
                n += 1
    return objects


def output_events(d):
    """(event ids, torn lines) of every file of the output directory."""
    ids, torn = set(), 0
    if not os.path.isdir(d):
        return ids, torn
    for f in os.listdir(d):
        data = open(os.path.join(d, f), "rb").read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif lines:
            lines.pop()  # a line still being written by a live writer
        for line in lines:
            try:
                ids.add(json.loads(line)["event"]["eventID"])
            except Exception:
                torn += 1
    return ids, torn


def state_done(path, objects):
    """The objects of `objects` the state file records done."""
    if not os.path.exists(path):
        return set()
    st = json.load(open(path))
    done = set()
    complete_days = set()
    for d, runs in st.get("complete", {}).items():
        for run in runs:
            a, _, b = run.partition("..")
            day = datetime.datetime.strptime(a, "%Y/%m/%d").date()
            last = datetime.datetime.strptime(b or a, "%Y/%m/%d").date()
            while day <= last:
                complete_days.add(d + day.strftime("%Y/%m/%d") + "/")
                day += datetime.timedelta(days=1)
    for key in objects:
        day = key[:key.rfind("/") + 1]
        entry = st.get("days", {}).get(day, {})
        if day in complete_days or entry.get("complete"):
            done.add(key)
        elif entry.get("after") and key <= entry["after"]:
            done.add(key)
        elif key in entry.get("done", []):
            done.add(key)
    return done


def upload(peers, tree, bucket):
    r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", peers.gate,
                        "--sqs-endpoint", peers.gate, "--bucket", bucket, "--queue", bucket + "-q", tree],
                       capture_output=True, text=True, env=peers.env, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("put-objects failed: " + r.stderr[-2000:])


HAS_SAVE_FLAG = True
CORRUPT = ("trail/AWSLogs/111111111111/CloudTrail/us-east-1/2026/09/03/"
           "111111111111_CloudTrail_us-east-1_20260903T0105Z_corrupt.json.gz")


def run_seed(seed, ctsqs, peers, work, objects, shared_objects, cfg_path):
    rng = random.Random(seed)
    kinds = set(k for k in ("kill9", "sigterm", "listing", "slow", "shared") if rng.random() < 0.45)
    poison = random.Random(seed * 7919 + 1).random() < 0.4  # a second generator: the other draws stay
    if poison:
        kinds.add("poison")
        pcfg = json.load(open(cfg_path))
        pcfg["ctsqs"]["on_permanent_error"] = {"delete_after_receives": random.Random(seed).randint(1, 3)}
        cfg_path = os.path.join(work, "poison-%d.json" % seed)
        json.dump(pcfg, open(cfg_path, "w"))
    if "kill9" in kinds and "sigterm" in kinds:
        kinds.discard(rng.choice(["kill9", "sigterm"]))
    d = os.path.join(work, "seed%d" % seed)
    os.makedirs(d)
    out = os.path.join(d, "out")
    state = os.path.join(d, "state.json")
    problems = []
    claims = [0]  # objects the state recorded done, checked against the output (B2 is not vacuous)
    base = [ctsqs, "backfill", "--config", cfg_path, "--bucket", "bf-bucket", "--prefix", "trail",
            "--since", "2026-09-01", "--until", "2026-09-04" if poison else "2026-09-03", "--format", "raw",
            "--progress", "0", "--output", out, "--state", state]
    save_every = str(rng.choice([1, 3, 1000]))
    if HAS_SAVE_FLAG:  # (a binary from before --state-save-objects writes after every delete)
        base += ["--state-save-objects", save_every]

    def check_state(when):
        got, torn = output_events(out)
        if torn:
            problems.append("B3 %s: %d torn line(s)" % (when, torn))
        claimed = state_done(state, dict(objects, **{CORRUPT: ["never"]}))
        if CORRUPT in claimed:
            problems.append("B2 %s: the state records the corrupt object done" % when)
            claimed.discard(CORRUPT)
        for key in sorted(claimed):
            claims[0] += 1
            missing = [e for e in objects[key] if e not in got]
            if missing:
                problems.append("B2 %s: the state records %s done, %d of its events are not in the output" % (
                    when, key, len(missing)))
                break

    faults = []
    if "listing" in kinds:
        faults += [{"service": "s3", "action": "ListObjectsV2", "status": 503, "code": "SlowDown", "times": 2},
                   {"service": "s3", "action": "ListObjectsV2", "reset": True, "times": 1, "after": rng.randint(0, 6)},
                   {"service": "s3", "action": "ListObjectsV2", "cutAfterBytes": 200, "times": 1,
                    "after": rng.randint(0, 8)}]
    if "slow" in kinds or "kill9" in kinds or "sigterm" in kinds:
        faults.append({"service": "s3", "action": "GetObject", "delayMs": rng.choice([100, 300, 600]),
                       "times": 100000})
    peers.gate_call("/__gate/faults", method="DELETE")
    if faults:
        peers.gate_call("/__gate/faults", faults)
    drain = None
    if "shared" in kinds:
        qcfg = json.load(open(cfg_path))
        qurl = peers.gate + "/000000000000/shared-%d" % seed
        peers.sqs("CreateQueue", {"QueueName": "shared-%d" % seed})
        subprocess.run([ctsqs, "backfill", "--config", cfg_path, "--bucket", "shared-bucket", "--prefix", "trail",
                        "--since", "2026-09-01", "--until", "2026-09-03", "--enqueue", qurl, "-q"],
                       capture_output=True, timeout=120)
        qcfg["inputs"]["sqs_collector"]["base_url"] = qurl
        qcfg["ctsqs"]["sqs"] = {"wait_time": "1s", "visibility_timeout": "20s", "visibility_extension_interval": "5s"}
        qpath = os.path.join(d, "drain.json")
        json.dump(qcfg, open(qpath, "w"))
        drain = subprocess.Popen([ctsqs, "drain", "--config", qpath, "--output", out, "--format", "raw", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "drain.err"), "w"))
    err = open(os.path.join(d, "run1.err"), "w")
    p = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=err)
    rc = None
    if "kill9" in kinds or "sigterm" in kinds:
        # Once some events are out (not at a fixed time: a loaded machine starts late).
        want = rng.randint(20, 300)
        t_end = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < t_end and len(output_events(out)[0]) < want:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.3))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL if "kill9" in kinds else signal.SIGTERM)
        else:
            kinds.discard("kill9")  # ended before the signal: only what ran is counted
            kinds.discard("sigterm")
    try:
        rc = p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        problems.append("B4 run 1 did not end within 120 s (kinds %s)" % sorted(kinds))
        p.kill()
        p.wait()
    err.close()
    if "sigterm" in kinds and rc is not None and rc not in (0, 1):
        problems.append("B4 run 1 after SIGTERM exited %s (expected 0 or 1)" % rc)
    peers.gate_call("/__gate/faults", method="DELETE")
    check_state("after run 1 (exit %s)" % rc)
    runs = 1
    # Done: exit 0; with the corrupt object, exit 1 naming it and nothing else as failed.
    finished = lambda rc_, err_: rc_ == 0 if not poison else (
        rc_ == 1 and [l for l in err_.splitlines() if ": failed: " in l] and
        all(CORRUPT in l for l in err_.splitlines() if ": failed: " in l) and "stopped before" not in err_)
    last_err = open(os.path.join(d, "run1.err")).read()
    while not finished(rc, last_err) and runs < 5:
        runs += 1
        r = subprocess.run(base, capture_output=True, text=True, timeout=180)
        rc, last_err = r.returncode, r.stderr
        open(os.path.join(d, "run%d.err" % runs), "w").write(r.stderr)
        check_state("after run %d (exit %s)" % (runs, rc))
    if not finished(rc, last_err):
        problems.append("B4 no run finished in %d runs (last exit %s)" % (runs, rc))
    if drain is not None:
        try:
            drain.wait(timeout=180)
        except subprocess.TimeoutExpired:
            problems.append("B4 the shared drain did not end")
            drain.kill()
            drain.wait()
    got, torn = output_events(out)
    if torn:
        problems.append("B3 %d torn line(s) at the end" % torn)
    lost = [k for k, ids in objects.items() if not set(ids) <= got]
    if lost:
        problems.append("B1 %d object(s) in range never delivered, e.g. %s" % (len(lost), lost[0]))
    if drain is not None:
        shared_lost = [k for k, ids in shared_objects.items() if not set(ids) <= got]
        if shared_lost:
            problems.append("B1 the shared drain's %d object(s) not delivered, e.g. %s" % (len(shared_lost), shared_lost[0]))
    return sorted(kinds), runs, problems, claims[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    ap.add_argument("--seeds", default="1..10")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    lo, _, hi = a.seeds.partition("..")
    seeds = range(int(lo), int(hi or lo) + 1)
    ctsqs = os.path.abspath(a.ctsqs)
    global HAS_SAVE_FLAG
    HAS_SAVE_FLAG = "--state-save-objects" in subprocess.run([ctsqs, "backfill", "--help"], capture_output=True,
                                                             text=True).stdout
    work = tempfile.mkdtemp(prefix="ctsqs-backfill-faults-")
    peers = Peers(os.path.join(work, "peers"), s3_on_fauxqs=True)
    failed = []
    counts = {}
    try:
        objects = make_tree(os.path.join(work, "tree"), "bf")
        os.makedirs(os.path.dirname(os.path.join(work, "tree", CORRUPT)), exist_ok=True)
        open(os.path.join(work, "tree", CORRUPT), "wb").write(b"not gzip: corrupt")
        shared = make_tree(os.path.join(work, "shared-tree"), "sh", files_per_day=3)
        upload(peers, os.path.join(work, "tree"), "bf-bucket")
        upload(peers, os.path.join(work, "shared-tree"), "shared-bucket")
        cfg = {"inputs": {"sqs_collector": {
            "id": "backfill-faults", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
            "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test",
                            "aws_cross_account_role": "arn:aws:iam::123456789012:role/Reader",
                            "aws_external_id": EXTERNAL_ID}}},
            "ctsqs": {"heartbeat": {"enabled": False}, "run": {"shutdown_grace": "5s"},
                      "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate,
                                    "s3_force_path_style": True}}}
        cfg_path = os.path.join(work, "collector.json")
        json.dump(cfg, open(cfg_path, "w"))
        for seed in seeds:
            kinds, runs, problems, claims = run_seed(seed, ctsqs, peers, work, objects, shared, cfg_path)
            for k in kinds:
                counts[k] = counts.get(k, 0) + 1
            print("seed %d: %s, %d run(s), %d state claims checked: %s" % (
                seed, ",".join(kinds) or "no fault", runs, claims, "ok" if not problems else "; ".join(problems)),
                flush=True)
            if problems:
                failed.append(seed)
    finally:
        peers.stop()
        if not a.keep and not failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work dir: " + work)
    print("backfill_faults: %d seed(s), kinds %s; %d with a violation%s" % (
        len(seeds), json.dumps(counts, sort_keys=True), len(failed), (": " + str(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
