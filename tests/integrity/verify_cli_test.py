#!/usr/bin/env python3
"""`ctsqs verify` as a user meets it, through the SigV4 gate and fauxqs's S3 with a trail written by
tests/peers/make-trail.mjs (the file-for-file comparison with validate-logs on tampered trails is
validate_logs_reference.py). Checks, each an assertion with a message:
  report     --report - writes one JSON object per digest and log file on stdout, exactly the
             issue's fields, every digest and log file of the manifest valid; the summary on stderr
  in flight  --objects-in-flight 1 gives the same verdicts as the adaptive default
  usage      a bad --since, --until before --since, no --bucket, a missing collector file: exit 2
  fetch      GetObject refused (AccessDenied) once: exit 1, the object named as not read
  keys       ListPublicKeys failing (500) for good: exit 1, named; the digests are not valid
  gap        a logging gap with files delivered in it: exit 0, one gap line, the files said to be
             not proven
  range      a range with no digests: exit 0, "No digests found"
  stop       SIGINT while the listing waits out an S3 outage: the run ends within seconds, exit 1

usage: verify_cli_test.py --ctsqs BIN     exit 0 when every check held, 1 otherwise
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402
from trailkit import check, env_for  # noqa: E402

FIELDS = {"digest": {"type", "uri", "status", "reason"}, "log": {"type", "uri", "status", "reason", "digest"},
          "gap": {"type", "account", "region", "from", "to"}, "unlisted": {"type", "uri", "account", "region"}}


def run(ctsqs, peers, cfg, *args):
    return subprocess.run([ctsqs, "verify"] + (["--config", cfg] if cfg else []) + list(args), env=env_for(peers),
                          capture_output=True, text=True, timeout=300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctsqs", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ct-verify-cli-")
    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        m = trailkit.make_trail(peers, "generate", "--bucket", "ct-cli", "--hours", "3", "--files-per-hour", "3",
                                keys_dir=os.path.join(work, "keys"))
        cfg = trailkit.ctsqs_config(peers, os.path.join(work, "collector.json"))
        base = ["--bucket", m["bucket"], "--since", m["start"], "--until", m["end"]]

        r = run(a.ctsqs, peers, cfg, *base, "--report", "-")
        check(r.returncode == 0, "report: exit 0 on an intact trail (%d: %s)" % (r.returncode, r.stderr[-400:]))
        lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        check(all(set(v) == FIELDS[v["type"]] for v in lines), "report: every line has exactly the issue's fields")
        digests = {"s3://%s/%s" % (m["bucket"], d["key"]) for d in m["digests"]}
        logs = {"s3://%s/%s" % (m["bucket"], k) for d in m["digests"] for k in d["log_files"]}
        got_d = {v["uri"]: v["status"] for v in lines if v["type"] == "digest"}
        got_l = {v["uri"]: v["status"] for v in lines if v["type"] == "log"}
        check(set(got_d) == digests and set(got_d.values()) == {"valid"},
              "report: the %d digests of the manifest, all valid (%d reported)" % (len(digests), len(got_d)))
        check(set(got_l) == logs and set(got_l.values()) == {"valid"},
              "report: the %d log files of the manifest, all valid (%d reported)" % (len(logs), len(got_l)))
        check("%d/%d digest files valid" % (len(digests), len(digests)) in r.stderr and
              "%d/%d log files valid" % (len(logs), len(logs)) in r.stderr and "Results found for" in r.stderr,
              "report: validate-logs' summary on stderr")

        r1 = run(a.ctsqs, peers, cfg, *base, "--report", "-", "--objects-in-flight", "1")
        check(r1.returncode == 0 and sorted(r1.stdout.splitlines()) == sorted(r.stdout.splitlines()),
              "in flight: --objects-in-flight 1 gives the same verdicts")

        for args, says, what in [
                (["--bucket", "b", "--since", "yesterday"], "--since", "a bad --since"),
                (["--bucket", "b", "--since", "2026-11-02", "--until", "2026-11-01"], "is not after", "--until before --since"),
                (["--since", "2026-11-02"], "--bucket", "no --bucket")]:
            u = run(a.ctsqs, peers, cfg, *args)
            check(u.returncode == 2 and says in u.stderr, "usage: %s: exit 2 naming it (%d: %s)" % (what, u.returncode, u.stderr[-200:]))
        u = run(a.ctsqs, peers, os.path.join(work, "nope.json"), *base)
        check(u.returncode == 2 and "nope.json" in u.stderr, "usage: a missing collector file: exit 2 naming it")

        peers.faults([{"service": "s3", "action": "GetObject", "status": 403, "code": "AccessDenied", "times": 1}])
        f = run(a.ctsqs, peers, cfg, *base, "-q")
        peers.faults([])
        check(f.returncode == 1 and "failed: s3://%s/" % m["bucket"] in f.stderr and "could not be read" in f.stderr,
              "fetch: a GetObject refused: exit 1 naming the object (%d: %s)" % (f.returncode, f.stderr[-300:]))

        # A stop while the listing waits out an S3 outage: SIGINT ends the run within seconds, exit 1
        # (before: the outage waits went on, over 20 s).
        peers.faults([{"service": "s3", "action": "ListObjectsV2", "status": 503, "code": "SlowDown", "times": 100000}])
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL_CLOUDTRAIL=peers.gate, AWS_EC2_METADATA_DISABLED="true")
        p = subprocess.Popen([a.ctsqs, "verify", "--config", cfg] + base + ["-q"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        took = time.monotonic() - t0
        peers.faults([])
        check(took < 10 and p.returncode == 1 and "stopped before the end" in err,
              "stop: SIGINT during a listing outage ends verify in %.1f s with exit %d (%s)" % (took, p.returncode, err[-300:]))

        peers.faults([{"service": "cloudtrail", "action": "ListPublicKeys", "status": 500, "code": "InternalFailure", "times": 1000}])
        k = run(a.ctsqs, peers, cfg, *base, "--report", "-")
        peers.faults([])
        kl = [json.loads(l) for l in k.stdout.splitlines() if l.strip()]
        check(k.returncode == 1 and "ListPublicKeys" in k.stderr and
              all(v["status"] == "invalid" for v in kl if v["type"] == "digest") and kl,
              "keys: ListPublicKeys failing: exit 1 naming it, no digest valid (%d: %s)" % (k.returncode, k.stderr[-300:]))

        g = trailkit.make_trail(peers, "generate", "--bucket", "ct-cli-gap", "--hours", "6", "--gap", "2:2", "--gap-logs",
                                "--seed", "5", keys_dir=os.path.join(work, "keys"))
        gr = run(a.ctsqs, peers, cfg, "--bucket", g["bucket"], "--since", g["start"], "--until", g["end"], "--report", "-")
        gl = [json.loads(l) for l in gr.stdout.splitlines() if l.strip()]
        gaps = [v for v in gl if v["type"] == "gap"]
        check(gr.returncode == 0 and len(gaps) == 1 and set(gaps[0]) == FIELDS["gap"] and
              "1 gaps (no digests" in gr.stderr and "covered by no valid digest" in gr.stderr and
              "%d log files in the range" % len(g["uncovered"]) in gr.stderr,
              "gap: exit 0, one gap line, the %d files delivered in it said to be not proven (%d: %s)" % (
                  len(g["uncovered"]), gr.returncode, gr.stderr[-400:]))

        e = run(a.ctsqs, peers, cfg, "--bucket", m["bucket"], "--since", "2026-01-01", "--until", "2026-01-02")
        check(e.returncode == 0 and "No digests found" in e.stderr, "range: no digests in the range: exit 0, said (%s)" % e.stderr[-200:])
    finally:
        status = trailkit.finish(peers, work)
    return status


if __name__ == "__main__":
    sys.exit(main())
