#!/usr/bin/env python3
"""The reference for `ctsqs verify`: AWS's own `aws cloudtrail validate-logs` run on trails written
by tests/peers/make-trail.mjs into fauxqs's S3 behind the SigV4 gate, intact and tampered with.

For each scenario (a bucket of its own): generate the trail, tamper with it, run validate-logs on
every account/region chain, print its verdicts file by file as normalised JSON lines (one object
per line with "scenario"; shapes in trailkit.py, the same as `ctsqs verify --report`), and check
them against what the manifest and the tampering say validate-logs must find. With --ctsqs, also
run `ctsqs verify` on the same bucket and range and check that both agree file for file (ctsqs may
add what validate-logs cannot see: unlisted files, Insights files); the injected file must be
reported unlisted and the exit codes must say the same.

usage: validate_logs_reference.py [--aws PATH] [--ctsqs BIN] [--only NAME,...] [--out FILE] [--keep]
exit 0 when every check held, 1 when one failed, 77 (skip) when no usable aws CLI is installed.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trailkit  # noqa: E402

SKIP = 77
ORG = "o-exampleorg42"


def log_of(manifest, digest_index, n=0):
    """The n-th log file listed by the digest_index-th digest of the first chain."""
    return manifest["digests"][digest_index]["log_files"][n]


# name -> (make-trail generate arguments, tamper(peers, manifest) -> facts, separate keys)
# facts: {"modified": [...], "deleted_logs": [...], "deleted_digests": [...], "invalid_digests": [...],
#         "injected": [...]}
def t_none(peers, m):
    return {}


def t_modify(peers, m):
    key = log_of(m, 1)
    trailkit.make_trail(peers, "modify-log", "--bucket", m["bucket"], "--key", key)
    return {"modified": [key]}


def t_regzip(peers, m):
    r = trailkit.make_trail(peers, "regzip-log", "--bucket", m["bucket"], "--key", log_of(m, 1))
    assert r["bytes_differ"], r
    return {}


def t_delete_log(peers, m):
    key = log_of(m, 1, 1)
    trailkit.make_trail(peers, "delete", "--bucket", m["bucket"], "--key", key)
    return {"deleted_logs": [key]}


def t_delete_digest(peers, m):
    key = m["digests"][2]["key"]
    trailkit.make_trail(peers, "delete", "--bucket", m["bucket"], "--key", key)
    return {"deleted_digests": [key]}


def t_hide(peers, m):
    d = m["digests"][1]
    trailkit.make_trail(peers, "hide-log", "--bucket", m["bucket"], "--digest", d["key"], "--key", d["log_files"][0])
    return {"invalid_digests": [d["key"]], "hidden": [d["log_files"][0]]}


def t_strip(peers, m):
    key = m["digests"][1]["key"]
    trailkit.make_trail(peers, "strip-signature", "--bucket", m["bucket"], "--digest", key)
    return {"invalid_digests": [key]}


def t_move(peers, m):
    key = m["digests"][1]["key"]
    r = trailkit.make_trail(peers, "move-digest", "--bucket", m["bucket"], "--digest", key, "--seconds", "1")
    return {"deleted_digests": [key], "invalid_digests": [r["to"]], "extra_digests": [r["to"]]}


def t_inject(peers, m):
    r = trailkit.make_trail(peers, "inject-log", "--bucket", m["bucket"], "--like", log_of(m, 1), "--minutes", "2")
    return {"injected": [r["key"]]}


SCENARIOS = [
    ("intact", ["--hours", "3"], t_none, False),
    ("modified-log", ["--hours", "3"], t_modify, False),
    ("regzipped-log", ["--hours", "3"], t_regzip, False),
    ("deleted-log", ["--hours", "3"], t_delete_log, False),
    ("deleted-digest", ["--hours", "4"], t_delete_digest, False),
    ("hidden-log", ["--hours", "3"], t_hide, False),
    ("unsigned-digest", ["--hours", "3"], t_strip, False),
    ("moved-digest", ["--hours", "3"], t_move, False),
    ("injected-log", ["--hours", "3"], t_inject, False),
    ("key-rotation", ["--hours", "4", "--rotate-at", "2"], t_none, True),
    ("logging-gap", ["--hours", "6", "--gap", "2:2", "--gap-logs"], t_none, False),
    ("empty-hours", ["--hours", "4", "--empty-hours", "1,2"], t_none, False),
    ("organization", ["--hours", "3", "--org-id", ORG, "--accounts", "111122223333,444455556666",
                      "--trail-account", "999988887777"], t_none, False),
    ("prefix-regions", ["--hours", "3", "--prefix", "trails/prod", "--accounts", "111122223333,222233334444",
                        "--regions", "us-east-1,eu-west-1"], t_none, False),
    ("insights", ["--hours", "3", "--insight-files-per-hour", "1"], t_none, False),
    ("backfill", ["--hours", "4", "--backfill-hours", "1,2"], t_none, False),
]


def expected_reference(m, facts, knows_backfill=True):
    """What validate-logs must report: every digest of every CloudTrail-Digest chain (walked from
    the newest), the log files of the valid ones, the gaps; backfill digests only when the CLI
    knows them. Sets of (type, uri-or-gap, status)."""
    uri = lambda k: "s3://%s/%s" % (m["bucket"], k)
    out = set()
    modified, deleted = set(facts.get("modified", [])), set(facts.get("deleted_logs", []))
    for d in m["digests"]:
        if d["kind"] != "digest" or (d.get("backfill") and not knows_backfill):
            continue
        if d["key"] in facts.get("deleted_digests", []):
            out.add(("digest", uri(d["key"]), "missing"))
            continue
        if d["key"] in facts.get("invalid_digests", []):
            out.add(("digest", uri(d["key"]), "invalid"))
            continue
        out.add(("digest", uri(d["key"]), "valid"))
        for lf in d["log_files"]:
            out.add(("log", uri(lf), "invalid" if lf in modified else "missing" if lf in deleted else "valid"))
    for k in facts.get("extra_digests", []):   # a digest moved to a name of its own
        out.add(("digest", uri(k), "invalid"))
    for g in m["gaps"]:
        if g["kind"] == "digest":
            out.add(("gap", "%s/%s/%s/%s" % (g["account"], g["region"], g["from"], g["to"]), ""))
    return out


def as_set(verdicts):
    return {(v["type"], v.get("uri") or "%s/%s/%s/%s" % (v["account"], v["region"], v["from"], v["to"]),
             v.get("status", "")) for v in verdicts if not (v["type"] == "gap" and v.get("backfill"))}


def backfill_uris(m):
    """Backfill digests and the log files they list, as URIs."""
    return {"s3://%s/%s" % (m["bucket"], k) for d in m["digests"] if d.get("backfill")
            for k in [d["key"]] + d["log_files"]}


def as_verdicts(expected):
    """The expected set as verdict records (the reference when no aws CLI is installed)."""
    out = []
    for t, u, status in sorted(expected):
        if t == "gap":
            account, region, frm, to = u.split("/")
            out.append({"type": "gap", "account": account, "region": region, "from": frm, "to": to})
        else:
            out.append({"type": t, "uri": u, "status": status})
    return out


def reference_run(name, m, facts, jobs, out, check):
    """Collects validate-logs's verdicts on one scenario, prints them, checks them against what the
    tampering implies; returns (verdicts, whether the CLI knows backfill digests, whether the
    scenario must fail)."""
    verdicts, codes = [], []
    for account in m["accounts"]:
        for region in m["regions"]:
            rc, v, raw = jobs[(name, account, region)].result()
            codes.append(rc)
            if rc not in (0, 1):
                print(raw[-3000:], file=sys.stderr)
            verdicts += v
    for v in verdicts:
        out.write(json.dumps(dict(v, scenario=name, tool="validate-logs")) + "\n")
    out.flush()
    # validate-logs learnt backfill digests in 2026 (Debian 12's 2.9.19 skips them)
    knows_backfill = any(v.get("backfill") for v in verdicts)
    if backfill_uris(m) and not knows_backfill:
        print("note   %s: this aws CLI does not validate backfill digests: they are not compared" % name, file=sys.stderr)
    want = expected_reference(m, facts, knows_backfill)
    got = as_set(verdicts)
    check(got == want, "%s: validate-logs reports what the tampering implies (%d verdicts)%s" % (
        name, len(got), "" if got == want else "; missing %s; unexpected %s" % (sorted(want - got)[:4], sorted(got - want)[:4])))
    bad = any(s in ("invalid", "missing") for (_, _, s) in want)
    check(all(c == (1 if bad else 0) for c in codes), "%s: validate-logs exit codes %s" % (name, codes))
    return verdicts, knows_backfill, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aws", help="the aws CLI (default: aws on PATH)")
    ap.add_argument("--ctsqs", help="ctsqs binary: also run ctsqs verify and compare")
    ap.add_argument("--only", help="comma list of scenario names")
    ap.add_argument("--out", help="write the JSON lines here instead of stdout")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()

    aws, version = trailkit.find_aws(a.aws)
    if not aws and not a.ctsqs:
        print("SKIP: %s; install the awscli package (its validate-logs is the reference)" % version, flush=True)
        return SKIP
    print("reference: %s" % (version if aws else "none (%s): ctsqs is compared with what the tampering implies" % version),
          file=sys.stderr, flush=True)
    only = set(a.only.split(",")) if a.only else None
    if only and only - {s[0] for s in SCENARIOS}:
        ap.error("--only: unknown scenario(s) %s" % ", ".join(sorted(only - {s[0] for s in SCENARIOS})))
    work = tempfile.mkdtemp(prefix="ct-validate-")
    out = open(a.out, "w") if a.out else sys.stdout
    failed = []

    def check(cond, what):
        print(("ok     " if cond else "FAILED ") + what, file=sys.stderr, flush=True)
        if not cond:
            failed.append(what)

    peers = trailkit.Peers(os.path.join(work, "peers"))
    try:
        md = trailkit.make_trail(peers, "check-metadata", "--bucket", "ct-metadata-check")
        check(md["get_object"] and md["head_object"], "the emulator's S3 keeps x-amz-meta-signature(-algorithm) for GetObject and HeadObject")
        runs = []   # (scenario, manifest, facts)
        for name, args, tamper, own_keys in SCENARIOS:
            if only and name not in only:
                continue
            keys = os.path.join(work, "keys-" + name if own_keys else "keys")
            m = trailkit.make_trail(peers, "generate", "--bucket", "ct-" + name, "--seed", str(len(runs) + 1), *args,
                                    keys_dir=keys)
            runs.append((name, m, tamper(peers, m)))
        if runs and aws:
            why = trailkit.probe_aws(aws, peers, work, runs[0][1]["bucket"])
            if why and not a.ctsqs:
                print("SKIP: %s (%s)" % (why, version), flush=True)
                return SKIP
            if why:
                print("note   no reference: %s (%s): ctsqs is compared with what the tampering implies" % (why, version),
                      file=sys.stderr)
                aws = None
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            for name, m, facts in (runs if aws else []):
                for account in m["accounts"]:
                    for region in m["regions"]:
                        jobs[(name, account, region)] = pool.submit(
                            trailkit.run_validate_logs, aws, peers, work, m, account, region, m["start"], m["end"])
        for name, m, facts in runs:
            if not aws:
                verdicts, knows_backfill = as_verdicts(expected_reference(m, facts)), True
                bad = any(v.get("status") in ("invalid", "missing") for v in verdicts)
            else:
                verdicts, knows_backfill, bad = reference_run(name, m, facts, jobs, out, check)
            if a.ctsqs:
                crc, ours, err = trailkit.run_ctsqs_verify(a.ctsqs, peers, work, m, m["start"], m["end"])
                for v in ours:
                    out.write(json.dumps(dict(v, scenario=name, tool="ctsqs")) + "\n")
                diffs = trailkit.compare(verdicts, ours, () if knows_backfill else backfill_uris(m),
                                         "validate-logs" if aws else "the tampering")
                check(not diffs, "%s: ctsqs verify agrees with %s file for file%s" % (
                    name, "validate-logs" if aws else "the tampering", "" if not diffs else ":\n    " + "\n    ".join(diffs[:8])))
                injected = set("s3://%s/%s" % (m["bucket"], k) for k in facts.get("injected", []))
                unlisted = {v["uri"] for v in ours if v["type"] == "unlisted"}
                check(injected <= unlisted, "%s: ctsqs reports the injected files unlisted (%s)" % (name, sorted(injected - unlisted)))
                want_rc = 1 if bad or injected else 0
                check(crc == want_rc, "%s: ctsqs verify exit %d (want %d)%s" % (name, crc, want_rc, "" if crc == want_rc else ": " + err[-600:]))
                if any(d["kind"] == "insight-digest" for d in m["digests"]):
                    ins = {v["uri"]: v["status"] for v in ours if trailkit.is_insights(v.get("uri", ""))}
                    n = sum(1 + len(d["log_files"]) for d in m["digests"] if d["kind"] == "insight-digest")
                    check(len(ins) == n and set(ins.values()) == {"valid"},
                          "%s: ctsqs verifies the Insights digests and files (%d of %d valid)" % (
                              name, sum(1 for s in ins.values() if s == "valid"), n))
    finally:
        peers.stop()
        if a.out:
            out.close()
        if a.keep or failed:
            print("work directory kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d checks failed" % len(failed) if failed else "all checks held", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
