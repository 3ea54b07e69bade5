"""Shared pieces of the integrity tests and benchmark: the peers (fauxqs's S3 behind the SigV4 gate,
which answers CloudTrail ListPublicKeys/DescribeTrails and Organizations DescribeOrganization from
files), make-trail.mjs, `aws cloudtrail validate-logs` and `ctsqs verify` run against them, their
verdicts in one normalised JSON-lines form, and the file-for-file comparison.

Normalised verdicts (the shapes of `ctsqs verify --report`):
  {"type":"digest","uri":"s3://b/k","status":"valid|invalid|missing","reason":"..."}
  {"type":"log","uri":"s3://b/k","status":"valid|invalid|missing","reason":"...","digest":"s3://b/k"}
  {"type":"gap","account":"...","region":"...","from":"ISO","to":"ISO"}
  {"type":"unlisted","uri":"s3://b/k"}
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS_DIR = os.path.join(ROOT, "tests", "peers")
MAKE_TRAIL = os.path.join(PEERS_DIR, "make-trail.mjs")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Peers:
    """fauxqs (S3 with user metadata, listings by Marker) and the gate in front of it, on free ports,
    with the gate's CloudTrail key and trail files in the run directory."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.keys_file = os.path.join(run_dir, "ct-keys.json")
        self.trails_file = os.path.join(run_dir, "ct-trails.json")
        fq, gate = free_port(), free_port()
        self.env = dict(os.environ, FAUXQS_PORT=str(fq), GATE_PORT=str(gate), S3RVER_PORT=str(free_port()),
                        PEERS="fauxqs gate", PEERS_RUN_DIR=run_dir,
                        GATE_S3_UPSTREAM="http://127.0.0.1:%d" % fq,
                        GATE_CLOUDTRAIL_KEYS=self.keys_file, GATE_CLOUDTRAIL_TRAILS=self.trails_file)
        for k in ("GATE_EXTERNAL_ID", "GATE_FAULTS", "GATE_STS_TTL_S"):
            self.env.pop(k, None)
        r = subprocess.run([os.path.join(PEERS_DIR, "start-peers.sh")], env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("peers did not start: " + (r.stdout + r.stderr)[-2000:])
        self.gate = "http://127.0.0.1:%d" % gate
        self.fauxqs = "http://127.0.0.1:%d" % fq

    def stop(self):
        subprocess.run([os.path.join(PEERS_DIR, "stop-peers.sh")], env=self.env, capture_output=True)

    def faults(self, rules):
        """POST /__gate/faults (rules: a list of fault dicts); [] clears them."""
        import urllib.request
        method = "POST" if rules else "DELETE"
        req = urllib.request.Request(self.gate + "/__gate/faults", data=json.dumps(rules).encode() if rules else None,
                                     method=method, headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def stats(self):
        import urllib.request
        return json.loads(urllib.request.urlopen(self.gate + "/__gate/stats", timeout=10).read())


def make_trail(peers, command, *args, keys_dir=None):
    """Runs make-trail.mjs COMMAND against the gate; returns its JSON answer."""
    cmd = ["node", MAKE_TRAIL, command, "--s3-endpoint", peers.gate] + list(args)
    if command == "generate":
        cmd += ["--keys-file", peers.keys_file, "--trails-file", peers.trails_file]
        if keys_dir:
            cmd += ["--keys-dir", keys_dir]
    r = subprocess.run(cmd, env=dict(peers.env, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test"),
                       capture_output=True, text=True)
    if r.returncode != 0 and not (command == "check-metadata" and r.returncode == 1 and r.stdout.strip()):
        raise RuntimeError("make-trail %s failed (%d): %s" % (command, r.returncode, r.stderr[-2000:]))
    return json.loads(r.stdout)


# ---------------------------------------------------------------- checks, peers scripts, ctsqs runs

FAILED = []  # what check() found false, for the test's exit status


def check(cond, what):
    """Prints `ok` or `FAILED` and `what`; a failure is kept in FAILED."""
    print(("ok     " if cond else "FAILED ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def finish(peers, work):
    """Stops the peers, removes `work` unless a check failed (then says where it is kept), prints
    the tally; returns the test's exit status (1 when a check failed)."""
    peers.stop()
    if FAILED:
        print("work directory kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("%d checks failed" % len(FAILED) if FAILED else "all checks held")
    return 1 if FAILED else 0


def node(peers, script, *args):
    """Runs tests/peers/SCRIPT with the peers' environment; returns its JSON answer."""
    r = subprocess.run(["node", os.path.join(PEERS_DIR, script)] + list(args), env=peers.env,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (script, r.stderr[-1500:]))
    return json.loads(r.stdout)


def env_for(peers, dynamodb=False):
    """The environment of a ctsqs run: no AWS_* of the caller's, CloudTrail (and with `dynamodb`,
    DynamoDB) through the gate, no instance metadata."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL_CLOUDTRAIL=peers.gate, AWS_EC2_METADATA_DISABLED="true")
    if dynamodb:
        env.update(AWS_ENDPOINT_URL_DYNAMODB=peers.gate)
    return env


def events_in(out):
    """Every event line of the files under the output directory OUT, parsed, in file-name order."""
    events = []
    for fn in sorted(glob.glob(os.path.join(out, "**", "*"), recursive=True)):
        if os.path.isfile(fn):
            with open(fn) as f:
                events += [json.loads(line) for line in f if line.strip()]
    return events


def integrity_events(events):
    """The collector's integrity events (tag cloud.aws.cloudtrail.integrity) among `events`."""
    return [e for e in events if e.get("tag") == "cloud.aws.cloudtrail.integrity"]


# ---------------------------------------------------------------- aws cloudtrail validate-logs

def find_aws(explicit=None):
    """The aws CLI to use and its version text, or (None, why)."""
    aws = explicit or shutil.which("aws")
    if not aws:
        return None, "no aws CLI on PATH"
    try:
        r = subprocess.run([aws, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "%s --version failed: %s" % (aws, e)
    if r.returncode != 0:
        return None, "%s --version failed: %s" % (aws, (r.stdout + r.stderr).strip()[-300:])
    return aws, (r.stdout + r.stderr).strip()


def write_endpoint_rulesets(data_dir, gate):
    """Endpoint rule sets that send S3 (path style), CloudTrail and Organizations to the gate, for
    AWS_DATA_PATH. validate-logs's --endpoint-url moves only its CloudTrail client, and
    AWS_ENDPOINT_URL needs botocore >= 1.31 / aws-cli >= 2.13; Debian 12's awscli 2.9.19 and
    pip's 1.x both resolve endpoints with these rule sets, which a data path overrides."""
    def ruleset(service, bucket):
        params = {"Region": {"builtIn": "AWS::Region", "required": False, "documentation": "", "type": "String"}}
        auth = {"authSchemes": [{"name": "sigv4", "signingName": service, "signingRegion": "us-east-1",
                                 "disableDoubleEncoding": True}]}
        rules = []
        if bucket:   # S3 operations lost {Bucket} from their paths: the rule set puts it back
            params["Bucket"] = {"required": False, "documentation": "", "type": "String"}
            rules.append({"conditions": [{"fn": "isSet", "argv": [{"ref": "Bucket"}]}], "type": "endpoint",
                          "endpoint": {"url": gate + "/{Bucket}", "properties": auth, "headers": {}}})
        rules.append({"conditions": [], "type": "endpoint", "endpoint": {"url": gate, "properties": auth, "headers": {}}})
        return {"version": "1.0", "parameters": params, "rules": rules}
    for service, version, bucket in (("s3", "2006-03-01", True), ("cloudtrail", "2013-11-01", False),
                                     ("organizations", "2016-11-28", False)):
        d = os.path.join(data_dir, service, version)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "endpoint-rule-set-1.json"), "w") as f:
            json.dump(ruleset(service, bucket), f)
    return data_dir


def aws_env(peers, home):
    """Environment of the aws CLI: the gate for every service (AWS_ENDPOINT_URL and, for CLIs that
    ignore it, endpoint rule sets on AWS_DATA_PATH), test credentials, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    cfg = os.path.join(home, "aws-config")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n")
    data = os.path.join(home, "aws-data")
    if not os.path.isdir(data):
        write_endpoint_rulesets(data, peers.gate)
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_ENDPOINT_URL=peers.gate,
               AWS_DATA_PATH=data, AWS_CONFIG_FILE=cfg, AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "no-credentials"),
               AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="3", PYTHONUNBUFFERED="1")
    return env


def probe_aws(aws, peers, home, bucket):
    """None when the CLI reaches the gate for S3 and CloudTrail, else why not."""
    env = aws_env(peers, home)
    for args in (["s3api", "list-objects", "--bucket", bucket, "--max-items", "1"], ["cloudtrail", "list-public-keys"]):
        try:
            r = subprocess.run([aws] + args, env=env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return "`aws %s` timed out" % " ".join(args[:2])
        if r.returncode != 0:
            return "`aws %s` did not reach the emulators: %s" % (" ".join(args[:2]), (r.stdout + r.stderr).strip()[-400:])
    return None


def validate_logs_args(manifest, account, region, start, end):
    """validate-logs arguments for one account's chain in one region. An organization trail is
    found by DescribeTrails (its organization id by DescribeOrganization); a plain trail is given
    its bucket and prefix, so one fixture may hold several accounts' trails."""
    arn = "arn:aws:cloudtrail:%s:%s:trail/%s" % (
        manifest["home_region"], manifest["trail_arn"].split(":")[4] if manifest["organization_id"] else account,
        manifest["trail"])
    args = ["cloudtrail", "validate-logs", "--region", region, "--trail-arn", arn,
            "--start-time", start, "--end-time", end, "--verbose"]
    if manifest["organization_id"]:
        args += ["--account-id", account]
    else:
        args += ["--s3-bucket", manifest["bucket"]]
        if manifest["prefix"]:
            args += ["--s3-prefix", manifest["prefix"]]
    return args


LINE_DIGEST = re.compile(r"^(\(backfill\) )?Digest file\t(s3://[^\t]+)\t(valid|INVALID: (.*))$")
LINE_LOG = re.compile(r"^Log file\t(s3://[^\t]+)\t(valid|INVALID: (.*))$")
LINE_GAP = re.compile(r"^(\(backfill\) )?No log files were delivered by CloudTrail between (\S+) and (\S+)$")


def normalise_validate_logs(text, account, region):
    """validate-logs --verbose output (stdout and stderr in one unbuffered stream, so in order) ->
    normalised verdicts. A log line belongs to the last digest printed valid before it."""
    out, digest = [], None
    for line in text.splitlines():
        m = LINE_DIGEST.match(line)
        if m:
            uri, ok, reason = m.group(2), m.group(3) == "valid", m.group(4)
            v = {"type": "digest", "uri": uri, "status": "valid" if ok else ("missing" if reason == "not found" else "invalid")}
            if not ok:
                v["reason"] = reason
            if m.group(1):
                v["backfill"] = True
            digest = uri if ok else digest
            out.append(v)
            continue
        m = LINE_LOG.match(line)
        if m:
            uri, ok, reason = m.group(1), m.group(2) == "valid", m.group(3)
            v = {"type": "log", "uri": uri, "status": "valid" if ok else ("missing" if reason == "not found" else "invalid")}
            if not ok:
                v["reason"] = reason
            v["digest"] = digest
            out.append(v)
            continue
        m = LINE_GAP.match(line)
        if m:
            # validate-logs prints the older digest's end first, then the restart digest's start.
            # A backfill "gap" is validate-logs walking backfill digests as if chained (each has
            # previousDigest* null): marked, and left out of the comparisons.
            g = {"type": "gap", "account": account, "region": region, "from": m.group(2), "to": m.group(3)}
            if m.group(1):
                g["backfill"] = True
            out.append(g)
    return out


def run_validate_logs(aws, peers, home, manifest, account, region, start, end):
    """Runs validate-logs for one chain; returns (exit code, verdicts, raw output)."""
    r = subprocess.run([aws] + validate_logs_args(manifest, account, region, start, end), env=aws_env(peers, home),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    return r.returncode, normalise_validate_logs(r.stdout, account, region), r.stdout


# ---------------------------------------------------------------- ctsqs verify

def ctsqs_config(peers, path):
    cfg = {"inputs": {"sqs_collector": {
        "id": "verify-reference", "services": {"aws_sqs_cloudtrail": {}}, "region": "us-east-1",
        "credentials": {"aws_access_key_id": "test", "aws_secret_access_key": "test"}}},
        "ctsqs": {"heartbeat": {"enabled": False},
                  "endpoints": {"sqs": peers.gate, "s3": peers.gate, "sts": peers.gate, "s3_force_path_style": True}}}
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def run_ctsqs_verify(ctsqs, peers, work, manifest, start, end, extra=()):
    """Runs `ctsqs verify ... --report FILE` on the manifest's bucket; returns (exit code, verdicts,
    stderr). CloudTrail is reached through AWS_ENDPOINT_URL_CLOUDTRAIL."""
    cfg = ctsqs_config(peers, os.path.join(work, "verify-collector.json"))
    report = os.path.join(work, "verify-report-%s.jsonl" % manifest["bucket"])
    cmd = [ctsqs, "verify", "--config", cfg, "--bucket", manifest["bucket"], "--since", start, "--until", end,
           "--report", report, "-q"]
    if manifest["prefix"]:
        cmd += ["--prefix", manifest["prefix"]]
    cmd += list(extra)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL_CLOUDTRAIL=peers.gate, AWS_EC2_METADATA_DISABLED="true")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    verdicts = []
    if os.path.exists(report):
        with open(report) as f:
            verdicts = [json.loads(line) for line in f if line.strip()]
    return r.returncode, verdicts, r.stderr


def is_insights(uri):
    return "/CloudTrail-Insight/" in uri or "/CloudTrail-Insight-Digest/" in uri


def compare(reference, ours, extra_ok=(), ref_name="validate-logs"):
    """File-for-file agreement of validate-logs (reference) and ctsqs verify (ours). Every digest
    and log file validate-logs judged must have the same status in ours, every gap it reported the
    same bounds (backfill "gaps" aside). Ours may say more where validate-logs cannot: unlisted
    files, Insights files, and the URIs in extra_ok (backfill digests and their files for a CLI
    older than backfill digests). Returns a list of differences (empty when they agree)."""
    diffs = []
    key = lambda v: (v["type"], v.get("uri") or "%s/%s/%s/%s" % (v.get("account"), v.get("region"), v.get("from"), v.get("to")))
    ref = {key(v): v for v in reference if not (v["type"] == "gap" and v.get("backfill"))}
    got = {key(v): v for v in ours}
    for k, v in sorted(ref.items()):
        g = got.get(k)
        if g is None:
            diffs.append("%s %s %s: %s; ctsqs: not reported" % (ref_name, k[0], k[1], v.get("status", "")))
        elif v.get("status") != g.get("status"):
            diffs.append("%s %s: %s %s (%s), ctsqs %s (%s)" % (
                k[0], k[1], ref_name, v.get("status"), v.get("reason", ""), g.get("status"), g.get("reason", "")))
        elif v.get("digest") and g.get("digest") != v["digest"]:
            diffs.append("log %s: %s checked it against %s, ctsqs against %s" % (k[1], ref_name, v["digest"], g.get("digest")))
    for k, g in sorted(got.items()):
        if k in ref or g["type"] == "unlisted" or is_insights(k[1]) or k[1] in extra_ok:
            continue
        diffs.append("ctsqs %s %s: %s; %s: not reported" % (k[0], k[1], g.get("status", ""), ref_name))
    return diffs
