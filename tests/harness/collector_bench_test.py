#!/usr/bin/env python3
"""bench/collector_bench.sh still runs as a user would rerun it, against both of its local
S3 + SQS servers (bench_fast_aws and bench/fast_aws.py), and every run of `drain` and
`backfill`, with 1 and 2 decode threads, delivers every record of a small corpus (each file
served twice), the same count as `ctsqs decode` of the corpus reads. And bench/verify_threads.sh
(a signed trail written into bench_fast_aws by make-trail.mjs: PutObject with user metadata,
ListPublicKeys) finds every digest and log file valid with 1 and 2 threads; and bench_fast_aws
keeps what PutObject was given (plain and aws-chunked bodies, user metadata on Get and Head).

usage: collector_bench_test.py --ctsqs BIN
  exit 0 when every check held, 1 otherwise, 77 (skipped) without ../shared/tools/gen_corpus.py
"""
import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--ctsqs", required=True)
a = ap.parse_args()

gen = os.path.join(root, "..", "shared", "tools", "gen_corpus.py")
if not os.path.isfile(gen):
    print("skipped: no %s" % gen)
    sys.exit(77)

failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    corpus = os.path.join(tmp, "corpus")
    subprocess.run([sys.executable, gen, "--out", corpus, "--files", "3", "--records-per-file", "300",
                    "--seed", "3", "--jitter", "0"], check=True, stdout=subprocess.DEVNULL)
    dec = subprocess.run([a.ctsqs, "decode", "-q", "--format", "raw", corpus], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    records = dec.stdout.count(b"\n")
    check(records == 900, "ctsqs decode reads the corpus's 900 records (read %d)" % records)
    for server in ("cpp", "py"):
        p = subprocess.run([os.path.join(root, "bench", "collector_bench.sh"), "--ctsqs", a.ctsqs,
                            "--corpus", corpus, "--runs", "1", "--copies", "2", "--server", server],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        check(p.returncode == 0, "--server %s: exit 0 (got %d)\n%s" % (server, p.returncode, p.stdout[-2000:]))
        rows = re.findall(r"^(drain|backfill)\s+(\d+)\s+(\d+)\s+(\d+)\s", p.stdout, re.M)
        seen = sorted((m, t) for m, t, _, _ in rows)
        check(seen == [("backfill", "1"), ("backfill", "2"), ("drain", "1"), ("drain", "2")],
              "--server %s: one run of each mode and thread count (got %s)" % (server, seen))
        for mode, threads, _, events in rows:
            check(int(events) == 2 * records,
                  "--server %s: %s with %s thread(s) delivered %s events, expected %d" %
                  (server, mode, threads, events, 2 * records))
        server_line = "bench_fast_aws" if server == "cpp" else "bench/fast_aws.py"
        check(("S3/SQS: %s on loopback" % server_line) in p.stdout, "--server %s: the header names the server" % server)

    # bench_fast_aws's PutObject: a plain and an aws-chunked body come back whole from GetObject,
    # with their user metadata on GetObject and HeadObject.
    server = os.path.join(os.path.dirname(os.path.realpath(a.ctsqs)), "..", "bench", "bench_fast_aws")
    port_file = os.path.join(tmp, "port")
    srv = subprocess.Popen([server, "--bucket", "b", "--port-file", port_file])
    try:
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", int(open(port_file).read()), timeout=10)
        payload = os.urandom(70000)
        chunked = b"%x;chunk-signature=00\r\n" % 65536 + payload[:65536] + b"\r\n" + \
            b"%x;chunk-signature=00\r\n" % (len(payload) - 65536) + payload[65536:] + b"\r\n" + \
            b"0;chunk-signature=00\r\n\r\n"
        for key, body, headers in (("plain/a b.gz", payload, {}),
                                   ("chunked.gz", chunked, {"Content-Encoding": "aws-chunked",
                                                            "x-amz-decoded-content-length": str(len(payload))})):
            conn.request("PUT", "/b/" + urllib.parse.quote(key), body=body,
                         headers=dict(headers, **{"x-amz-meta-signature": "abc", "X-Amz-Meta-Mixed": "v"}))
            r = conn.getresponse()
            r.read()
            check(r.status == 200, "PutObject %s: 200 (got %d)" % (key, r.status))
            conn.request("GET", "/b/" + urllib.parse.quote(key))
            r = conn.getresponse()
            got = r.read()
            check(got == payload, "GetObject %s: the bytes put (%d of %d)" % (key, len(got), len(payload)))
            check(r.getheader("x-amz-meta-signature") == "abc" and r.getheader("x-amz-meta-mixed") == "v",
                  "GetObject %s: the user metadata" % key)
            conn.request("HEAD", "/b/" + urllib.parse.quote(key))
            r = conn.getresponse()
            r.read()
            check(r.status == 200 and r.getheader("Content-Length") == str(len(payload)) and
                  r.getheader("x-amz-meta-signature") == "abc", "HeadObject %s: size and metadata" % key)
    finally:
        srv.kill()
        srv.wait()

    if os.path.isdir(os.path.join(root, "tests", "peers", "node_modules")):
        p = subprocess.run([os.path.join(root, "bench", "verify_threads.sh"), "--ctsqs", a.ctsqs, "--runs", "1",
                            "--files", "2", "--records", "20"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        check(p.returncode == 0, "verify_threads.sh: exit 0 (got %d)\n%s" % (p.returncode, p.stdout[-2000:]))
        valid = re.findall(r"^([12])\s+1\s.*\s48/48 log files valid$", p.stdout, re.M)
        check(sorted(valid) == ["1", "2"], "verify_threads.sh: 48/48 log files valid with 1 and 2 threads (got %s)" % valid)
    else:
        print("skipped: verify_threads.sh (no tests/peers/node_modules)")

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
