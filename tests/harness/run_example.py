#!/usr/bin/env python3
"""Runs one example program (examples/) and checks what it did: its exit code and its output and,
for the examples that talk to AWS or Devo, what the peers saw. ctest runs it once per example test
(examples/CMakeLists.txt, ctsqs_example_test).

usage: run_example.py --exe BIN --source-dir DIR [--scenario NAME] [--exit N] [--stdin FILE]
                      [--stdout RE]... [--stderr RE]... [--stdout-lines N] [--needs PATH]... -- ARGS...
Without --scenario: runs BIN ARGS (stdin from FILE, else empty) and checks the exit code (0 unless
--exit), that every --stdout/--stderr regex (Python syntax) is found, and the number of stdout
lines. With --scenario: the scenario sets up what the example needs (peers on free ports, a bucket,
a queue, a TLS receiver), runs it and checks its effects; ARGS are the scenario's.
Exit 0 when every check held, 1 otherwise, 77 (skipped) when a --needs path or a tool is missing.

The scenarios that need the peers (fauxqs, s3rver, the SigV4 gate with STS; the gate's S3 is
fauxqs's, whose listings a backfill can walk) start their own, or share the ones
`--start-peers DIR` started (ctest's fixture; `--stop-peers DIR` stops them) with --peers-dir DIR.
"""
import argparse
import glob
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_schedule import DevoReceiver, EXTERNAL_ID, PEERS_DIR, Peers  # noqa: E402

FAILED = []
TIMEOUT = 60  # seconds for one run of an example


def check(cond, what):
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)
    return cond


def skip(why):
    print("SKIPPED: " + why, flush=True)
    sys.exit(77)


def run(exe, args, env=None, stdin=b"", timeout=TIMEOUT):
    """Runs the example; returns (exit code, stdout text, stderr text) and echoes the command."""
    print("$ " + " ".join([os.path.basename(exe)] + [a if a and " " not in a else repr(a) for a in args]), flush=True)
    r = subprocess.run([exe] + args, input=stdin, capture_output=True, env=env, timeout=timeout)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    return r.returncode, out, err


def show(out, err, limit=3000):
    return "\n--- stdout:\n%s\n--- stderr:\n%s" % (out[-limit:], err[-limit:])


class SharedPeers(Peers):
    """The peers `--start-peers DIR` started, described by DIR/peers.json; stopped by --stop-peers."""

    def __init__(self, run_dir):
        info = json.load(open(os.path.join(run_dir, "peers.json")))
        self.env = dict(os.environ, **info["env"])
        self.gate, self.fauxqs, self.s3rver = info["gate"], info["fauxqs"], info["s3rver"]

    def stop(self):
        pass


def start_peers(run_dir):
    """Peers on free ports for a whole test run; their endpoints in run_dir/peers.json."""
    stop_peers(run_dir)  # left over by an interrupted run
    peers = Peers(run_dir, s3_on_fauxqs=True)
    peers.s3rver = "http://127.0.0.1:%s" % peers.env["S3RVER_PORT"]
    keys = ("FAUXQS_PORT", "S3RVER_PORT", "GATE_PORT", "GATE_S3_UPSTREAM", "PEERS", "PEERS_RUN_DIR",
            "GATE_EXTERNAL_ID", "GATE_STS_TTL_S")
    with open(os.path.join(run_dir, "peers.json"), "w") as f:
        json.dump({"env": {k: peers.env[k] for k in keys}, "gate": peers.gate, "fauxqs": peers.fauxqs,
                   "s3rver": peers.s3rver}, f)
    return peers


def stop_peers(run_dir):
    if os.path.exists(os.path.join(run_dir, "peers.pids")):
        subprocess.run([os.path.join(PEERS_DIR, "stop-peers.sh")], env=dict(os.environ, PEERS_RUN_DIR=run_dir),
                       capture_output=True)


def peers_for(a, work):
    """The shared peers (--peers-dir), else peers of this run's own."""
    if a.peers_dir:
        return SharedPeers(a.peers_dir)
    os.makedirs(os.path.join(work, "peers"), exist_ok=True)
    return start_peers(os.path.join(work, "peers"))


def aws_env(peers, home, **extra):
    """The environment of an example run against the peers: the test keys, the region, endpoint
    overrides as a user would set them, and a HOME of its own (no ~/.aws of this machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", HOME=home)
    env.update(extra)
    return env


def put_objects(peers, bucket, tree, endpoint=None):
    """Uploads the directory `tree` to `bucket` (key = path below it) through `endpoint` (the gate)."""
    r = subprocess.run(["node", os.path.join(PEERS_DIR, "put-objects.mjs"), "--s3-endpoint", endpoint or peers.gate,
                        "--bucket", bucket, tree], capture_output=True, text=True, env=peers.env, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("put-objects failed: " + r.stderr[-1500:])
    return json.loads(r.stdout)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def cloudtrail_records(path):
    """The records of a CloudTrail file (gzip, possibly several members, or plain JSON)."""
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)["Records"]


# ---------------------------------------------------------------- scenarios


def scenario_decode_corpus(a, work):
    """decode_file on every file of a real corpus: one line per record, in order, each starting
    with the record's eventSource, and the summary line, as Python reads the same file."""
    files = sorted(glob.glob(os.path.join(a.args[0], "**", "*.json.gz"), recursive=True))
    check(len(files) > 0, "files found under %s" % a.args[0])
    for f in files:
        rc, out, err = run(a.exe, [f])
        records = cloudtrail_records(f)
        lines = out.splitlines()
        name = os.path.basename(f)
        ok = check(rc == 0 and len(lines) == len(records),
                   "%s: exit 0 and %d lines, one per record (exit %d, %d lines)" % (name, len(records), rc, len(lines)))
        ok = ok and check(all(line.startswith(r.get("eventSource", "") + " {") for line, r in zip(lines, records)),
                          "%s: each line starts with its record's eventSource" % name)
        ok = ok and check(": %d events (gzip" % len(records) in err, "%s: the summary counts them" % name)
        if not ok:
            print(show(out, err))


def scenario_notification(a, work):
    """read_notification on the bodies the peers delivered for one upload: S3's own event (QueueConfiguration),
    the same event in an SNS envelope, and CloudTrail's own notification in an SNS envelope."""
    peers = peers_for(a, work)
    try:
        # s3rver sends the notifications (the gate's S3 is fauxqs's, which sends none).
        r = subprocess.run(["node", os.path.join(PEERS_DIR, "seed.mjs"), "--sqs-endpoint", peers.gate,
                            "--s3-endpoint", peers.s3rver, "--files", "1", "--records", "2",
                            "--bucket", "example-notification", "--queue-prefix", "notification-",
                            "--name-suffix", " a+b", "--drop-test-events"],
                           capture_output=True, text=True, env=peers.env, timeout=120)
        if not check(r.returncode == 0, "seed: a CloudTrail file uploaded, its notifications queued"):
            print(r.stderr[-2000:])
            return
        seed = json.loads(r.stdout)
        obj = seed["objects"][0]
        key = obj["key"]
        encoded = urllib.parse.quote(key, safe="/~")
        want = {"notification-ct-s3-events": "format: s3_event\n",
                "notification-ct-sns-events": "format: s3_event (in an SNS envelope)\n",
                "notification-ct-native-events": "format: cloudtrail_sns (in an SNS envelope)\n"}
        for queue, first_line in want.items():
            got = peers.sqs("ReceiveMessage", {"QueueUrl": peers.queue_url(queue), "MaxNumberOfMessages": 1,
                                               "WaitTimeSeconds": 5}).get("Messages", [])
            if not check(len(got) == 1, "%s: one message" % queue):
                continue
            rc, out, err = run(a.exe, [], stdin=got[0]["Body"].encode())
            ok = check(rc == 0, "%s: exit 0 (%d)" % (queue, rc))
            ok = check(out.startswith(first_line), "%s: %s" % (queue, first_line.strip())) and ok
            ok = check("object s3://%s/%s" % (seed["bucket"], key) in out,
                       "%s: the object named with its key decoded (a space, a plus)" % queue) and ok
            ok = check("  GET https://%s.s3.us-east-1.amazonaws.com/%s\n" % (seed["bucket"], encoded) in out,
                       "%s: its GetObject URL, the key URI-encoded" % queue) and ok
            if not ok:
                print(show(out, err))
    finally:
        peers.stop()


def parse_request_text(text):
    """The signed request as to_request_text prints it: request line, "Name:value" headers, an
    empty line, the body."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(h.split(":", 1)) for h in lines[1:]]
    return method, target, headers, body


def send(host, method, target, headers, body):
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    data = body.encode()
    conn.putheader("Content-Length", str(len(data)))  # the HTTP client's part, as for any client
    conn.endheaders(data)
    r = conn.getresponse()
    return r.status, r.read()


def scenario_sign(a, work):
    """sign_request's output, sent as printed: the gate (which verifies SigV4 with the AWS SDK for
    JavaScript's signer) answers the ReceiveMessage with the queued message and the presigned URL
    with the object's bytes; the same request with one byte of the body changed is refused."""
    peers = peers_for(a, work)
    try:
        peers.sqs("CreateQueue", {"QueueName": "example-sign"})
        peers.sqs("SendMessage", {"QueueUrl": peers.queue_url("example-sign"), "MessageBody": "hello from the queue"})
        content = b"the object's bytes\n"
        write(os.path.join(work, "tree", "AWSLogs", "a b+c.txt"), content)
        put_objects(peers, "example-sign", os.path.join(work, "tree"))
        queue_url = peers.gate + "/000000000000/example-sign"  # the gate in front of fauxqs
        env = aws_env(peers, work, AWS_ENDPOINT_URL_S3=peers.gate)
        rc, out, err = run(a.exe, [queue_url, "example-sign", "AWSLogs/a b+c.txt"], env=env)
        if not check(rc == 0 and "signed ReceiveMessage" in out and "presigned GetObject URL:\n" in out,
                     "exit 0, a signed request and a presigned URL (exit %d)" % rc):
            print(show(out, err))
            return
        text = out.split("):\n", 1)[1].rsplit("\n\npresigned GetObject URL:\n", 1)[0]
        url = out.rsplit("presigned GetObject URL:\n", 1)[1].strip()
        method, target, headers, body = parse_request_text(text)
        host = dict((n.lower(), v) for n, v in headers).get("host", "")
        check(host == peers.gate[len("http://"):] and "Authorization" in dict(headers),
              "the request goes to the queue URL's host and carries an Authorization header\n" + text)
        status, answer = send(host, method, target, headers, body)
        check(status == 200 and b"hello from the queue" in answer,
              "the gate accepted the signature and answered with the message (%d %s)" % (status, answer[:300]))
        tampered = body.replace('"MaxNumberOfMessages":1', '"MaxNumberOfMessages":2')
        check(tampered != body, "the body can be changed for the negative check")
        status, answer = send(host, method, target, headers, tampered)
        check(status == 403 and b"SignatureDoesNotMatch" in answer,
              "a changed body is refused: SignatureDoesNotMatch (%d %s)" % (status, answer[:200]))
        check(url.startswith(peers.gate + "/example-sign/AWSLogs/a%20b%2Bc.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
              and "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url, "a presigned path-style URL: " + url)
        try:
            got = urllib.request.urlopen(url, timeout=30).read()
            check(got == content, "the presigned URL reads the object (%r)" % got[:100])
        except urllib.error.HTTPError as e:
            check(False, "the presigned URL reads the object (HTTP %d %s)" % (e.code, e.read()[:300]))
    finally:
        peers.stop()


def scenario_whoami(a, work):
    """aws_whoami through the gate: the environment's keys, AssumeRole with the external id, STS
    GetCallerIdentity, then an S3 object streamed; with a wrong external id, exit 1 naming the refusal."""
    peers = peers_for(a, work)
    try:
        content = os.urandom(300000)  # several chunks
        write(os.path.join(work, "tree", "AWSLogs", "big object.bin"), content)
        put_objects(peers, "example-whoami", os.path.join(work, "tree"))
        env = aws_env(peers, work, AWS_ENDPOINT_URL_STS=peers.gate, AWS_ENDPOINT_URL_S3=peers.gate)
        role = "arn:aws:iam::123456789012:role/example-reader"
        rc, out, err = run(a.exe, [role, EXTERNAL_ID, "s3://example-whoami/AWSLogs/big object.bin"], env=env)
        ok = check(rc == 0, "exit 0 (%d)" % rc)
        ok = check(re.search(r"^arn:aws:sts::\d{12}:assumed-role/example-reader/\S+ \(account \d{12}\) via assume-role "
                             r"arn:aws:iam::123456789012:role/example-reader \(with external id\) <- environment\n",
                             out) is not None,
                   "STS names the assumed role and the provider chain says how") and ok
        ok = check("s3://example-whoami/AWSLogs/big object.bin: %d bytes streamed\n" % len(content) in out,
                   "the object's %d bytes streamed" % len(content)) and ok
        if not ok:
            print(show(out, err))
        rc, out, err = run(a.exe, [role, "not-the-external-id"], env=env)
        ok = check(rc == 1, "a wrong external id: exit 1 (%d)" % rc)
        ok = check("AccessDenied" in err and "GetCallerIdentity failed" in err,
                   "a wrong external id: the refusal is reported") and ok
        if not ok:
            print(show(out, err))
    finally:
        peers.stop()


def scenario_devo(a, work):
    """devo_send to a real rsyslogd speaking TLS that demands a client certificate: each event one
    syslog line with its tag and record; a server certificate not signed by the given chain is
    refused at connect (exit 1) and nothing is sent."""
    if shutil.which("rsyslogd") is None:
        skip("rsyslogd is not installed")
    rx = DevoReceiver(os.path.join(work, "pki"))
    rx.setup(work)
    rx.start()
    try:
        url = "devo://127.0.0.1:%d" % rx.port
        rc, out, err = run(a.exe, [url, rx.file("client.pem"), rx.file("client.key"), rx.file("ca.pem"), "3"])
        check(rc == 0 and out == "delivered 3 events to %s\n" % url, "exit 0, 3 events delivered (exit %d)" % rc + show(out, err))
        lines = []
        until = time.monotonic() + 10
        while time.monotonic() < until:
            lines = open(rx.output, "rb").read().decode().splitlines() if os.path.exists(rx.output) else []
            if len(lines) >= 3:
                break
            time.sleep(0.05)
        check(len(lines) == 3, "the receiver got 3 lines (%d)" % len(lines))
        for i, line in enumerate(lines):
            check(re.match(r'^<14>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ cloud\.aws\.cloudtrail\.s3: \{"eventVersion":"1\.08",'
                           r'"eventSource":"s3\.amazonaws\.com","eventName":"GetObject","n":%d\}$' % i, line) is not None,
                  "line %d: <PRI>timestamp host tag: record\n%s" % (i, line))
        # The client certificate as the CA chain: the server's certificate does not verify.
        rc, out, err = run(a.exe, [url, rx.file("client.pem"), rx.file("client.key"), rx.file("client.pem"), "1"])
        check(rc == 1 and out == "" and "certificate" in err.lower(),
              "a server certificate the chain does not sign: exit 1 at connect, named (exit %d)" % rc + show(out, err))
        time.sleep(0.3)
        check(len(open(rx.output, "rb").read().splitlines()) == 3, "nothing more reached the receiver")
    finally:
        rx.kill()


def collector_file(work, peers, **extra):
    """A collector file as a user writes one, pointed at the gate: static keys, a cross-account
    role with its external id, stdout output in the flat format."""
    cfg = {"inputs": {"sqs_collector": {
        "id": "example", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
        "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test",
                        "aws_cross_account_role": "arn:aws:iam::123456789012:role/example-reader",
                        "aws_external_id": EXTERNAL_ID}}},
        "ctsqs": {"heartbeat": {"enabled": False}, "outputs": {"stdout": {"format": "flat"}},
                  "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate}}}
    cfg["inputs"]["sqs_collector"].update(extra)
    path = os.path.join(work, "collector.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    return path


def scenario_backfill(a, work):
    """backfill over a bucket holding the project's example logs (three regions, an Insights file,
    a digest, a plain .json and a GuardDuty export): every CloudTrail and Insights record of the
    day once, nothing else; run again with the same state file, nothing is read twice. Then
    SIGINT while GetObject is held at the gate: exit 1, and a run on its state file delivers the
    rest. Its own peers: it injects faults at the gate."""
    logs = os.path.join(a.source_dir, "examples", "logs")
    want = []
    for f in sorted(glob.glob(os.path.join(logs, "AWSLogs", "*", "CloudTrail*", "*", "*", "*", "*", "*.json.gz"))):
        if "CloudTrail-Digest" not in f:
            want += [r["eventID"] for r in cloudtrail_records(f)]
    peers = start_peers(os.path.join(work, "peers"))
    try:
        put_objects(peers, "example-trail", logs)
        config = collector_file(work, peers)
        state = os.path.join(work, "backfill.state")
        args = [config, "example-trail", "2026-11-28", "2026-11-29", state]
        env = aws_env(peers, work)
        rc, out, err = run(a.exe, args, env=env)
        got = [json.loads(line)["eventID"] for line in out.splitlines()]
        ok = check(rc == 0, "exit 0 (%d)" % rc)
        ok = check(sorted(got) == sorted(want) and len(want) > 10,
                   "every CloudTrail and Insights record of the day once, nothing else (%d of %d)" % (
                       len(got), len(want))) and ok
        ok = check("3 of 3 objects delivered (0 done by an earlier run)\n" in err, "the summary: 3 of 3 objects") and ok
        ok = check(os.path.exists(state), "the state file written") and ok
        if not ok:
            print(show(out, err))
        rc, out, err = run(a.exe, args, env=env)
        ok = check(rc == 0 and out == "", "again with the same state: exit 0, nothing delivered (exit %d)" % rc)
        ok = check("0 of 0 objects delivered" in err, "again: the summary says nothing was left to do") and ok
        if not ok:
            print(show(out, err))

        # Interrupted: every GetObject held 1.5 s at the gate, SIGINT once the first one arrived.
        peers.gate_call("/__gate/faults", [{"service": "s3", "action": "GetObject", "delayMs": 1500}])
        state = os.path.join(work, "interrupted.state")
        args = [config, "example-trail", "2026-11-28", "2026-11-29", state]
        print("$ " + " ".join([os.path.basename(a.exe)] + args) + "   (SIGINT at the first GetObject)", flush=True)
        gets = lambda: json.loads(peers.gate_call("/__gate/stats", method="GET"))["byAction"].get("s3.GetObject", 0)
        before = gets()
        proc = subprocess.Popen([a.exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        until = time.monotonic() + 30
        while time.monotonic() < until and proc.poll() is None and gets() == before:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out1, err1 = (x.decode() for x in proc.communicate(timeout=TIMEOUT))
        peers.gate_call("/__gate/faults", method="DELETE")
        ok = check(proc.returncode == 1 and "objects delivered" in err1,
                   "SIGINT: it stops, prints its summary, exit 1 (exit %d)" % proc.returncode)
        rc, out2, err2 = run(a.exe, args, env=env)
        first = [json.loads(line)["eventID"] for line in out1.splitlines()]
        second = [json.loads(line)["eventID"] for line in out2.splitlines()]
        ok = check(rc == 0, "resumed on its state: exit 0 (%d)" % rc) and ok
        ok = check(set(first) | set(second) == set(want) and len(second) < len(want) + len(first),
                   "the two runs together delivered every record (%d before the stop, %d after)" % (
                       len(first), len(second))) and ok
        ok = check(not set(first) & set(second), "what the stopped run delivered is in its state: not read again") and ok
        if not ok:
            print(show(out1 + out2, err1 + err2))
    finally:
        peers.stop()


def scenario_drain_queue(a, work):
    """drain_queue on a queue fed by S3 notifications of two uploaded CloudTrail files: per-tag counts of
    every record, then it stops by itself (two empty polls) with exit 0 and the queue empty."""
    peers = peers_for(a, work)
    try:
        # s3rver sends the notifications and serves the objects (the gate's S3 is fauxqs's).
        r = subprocess.run(["node", os.path.join(PEERS_DIR, "seed.mjs"), "--sqs-endpoint", peers.gate,
                            "--s3-endpoint", peers.s3rver, "--files", "2", "--records", "3", "--routes", "s3",
                            "--bucket", "example-drain", "--queue-prefix", "drain-", "--drop-test-events"],
                           capture_output=True, text=True, env=peers.env, timeout=120)
        if not check(r.returncode == 0, "seed: two CloudTrail files uploaded, their notifications queued"):
            print(r.stderr[-2000:])
            return
        env = aws_env(peers, work, AWS_ENDPOINT_URL_SQS=peers.gate, AWS_ENDPOINT_URL_S3=peers.s3rver)
        rc, out, err = run(a.exe, [peers.gate + "/000000000000/drain-ct-s3-events", "us-east-1"], env=env)
        counts = dict(line.rsplit(" ", 1) for line in out.splitlines() if line.startswith("cloud.aws."))
        ok = check(rc == 0, "exit 0 (%d)" % rc)
        ok = check(sum(int(n) for n in counts.values()) == 6, "6 events counted by the sink (%s)" % counts) and ok
        ok = check(peers.depth("drain-ct-s3-events") == 0, "the queue is empty: every message deleted") and ok
        if not ok:
            print(show(out, err))
    finally:
        peers.stop()


def plain(a, work):
    stdin = open(a.stdin, "rb").read() if a.stdin else b""
    rc, out, err = run(a.exe, a.args, stdin=stdin)
    ok = check(rc == a.exit, "exit %d (%d)" % (a.exit, rc))
    for rx in a.stdout:
        ok = check(re.search(rx, out) is not None, "stdout matches %r" % rx) and ok
    for rx in a.stderr:
        ok = check(re.search(rx, err) is not None, "stderr matches %r" % rx) and ok
    if a.stdout_lines is not None:
        n = len(out.splitlines())
        ok = check(n == a.stdout_lines, "%d lines on stdout (%d)" % (a.stdout_lines, n)) and ok
    if not ok:
        print(show(out, err))


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe")
    ap.add_argument("--source-dir")
    ap.add_argument("--scenario")
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--stdin")
    ap.add_argument("--stdout", action="append", default=[])
    ap.add_argument("--stderr", action="append", default=[])
    ap.add_argument("--stdout-lines", type=int)
    ap.add_argument("--needs", action="append", default=[])
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--peers-dir", help="use the peers --start-peers started there")
    ap.add_argument("--start-peers", metavar="DIR", help="start peers for --peers-dir DIR, then exit")
    ap.add_argument("--stop-peers", metavar="DIR", help="stop the peers started there")
    a = ap.parse_args(argv)
    if a.start_peers:
        os.makedirs(a.start_peers, exist_ok=True)
        start_peers(a.start_peers)
        print("peers started: " + open(os.path.join(a.start_peers, "peers.json")).read())
        return 0
    if a.stop_peers:
        stop_peers(a.stop_peers)
        return 0
    if not a.exe or not a.source_dir:
        ap.error("--exe and --source-dir are required")
    a.args = rest
    a.exe = os.path.abspath(a.exe)
    for path in a.needs:
        if not os.path.exists(path):
            skip("%s is absent" % path)
    work = tempfile.mkdtemp(prefix="ctsqs-example-")
    try:
        if a.scenario:
            fn = globals().get("scenario_" + a.scenario)
            if fn is None:
                print("unknown scenario " + a.scenario)
                return 2
            fn(a, work)
        else:
            plain(a, work)
    finally:
        if a.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        return 1
    print("all checks held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
