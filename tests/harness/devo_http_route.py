"""The Devo HTTP route of the fault harness (tests/harness/fault_schedule.py): the faulty collectors
send to tests/integration/devo_http_receiver.py (Devo's HTTP ingestion, TLS with a harness CA)
through outputs.devo_http, while the receiver answers 5xx, 429 with Retry-After, resets (before or
after it recorded the batch) and slow answers, and may be killed (SIGKILL) and restarted.

Devo's HTTP answer is an application-level receipt, so this route has no "not covered" window:
every event id must reach the receiver or a later drain (I1, no exemption), every recorded line
must be one whole event (I2), and the receiver must see no framing violation (path, token, gzip,
line splitting). Chosen for a seed by its own generator, so the other schedules stay as they are.
"""
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RECEIVER = os.path.join(ROOT, "tests", "integration", "devo_http_receiver.py")
KIND = "devo-http"
DOMAIN = "harness_domain"
TOKEN = "harnessTOKEN0123456789abcdefABCD"
FAULTS = ["500", "503", "429 1", "429date 1", "reset", "reset-after", "slow 2"]


def chosen(n):
    """Whether seed n sends its faulty run to the Devo HTTP receiver (two seeds in five, less those with a local-output kind or the syslog receiver)."""
    return random.Random(n * 7919 + 2).random() < 0.4


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class DevoHttpReceiver:
    """One receiver per seed (own directory and port, kept across restarts); the certificates are
    made once per harness run."""

    def __init__(self, pki_dir):
        self.pki = pki_dir
        os.makedirs(pki_dir, exist_ok=True)
        q = lambda c: subprocess.run(c, shell=True, cwd=pki_dir, check=True, capture_output=True)
        ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        q("openssl req -x509 %s -keyout ca.key -out ca.pem -days 30 -subj '/CN=harness HTTP CA'" % ec)
        q("printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext")
        q("openssl req %s -keyout server.key -out server.csr -subj '/CN=localhost'" % ec)
        q("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 "
          "-extfile san.ext")
        self.proc = None
        self.mode = None

    def setup(self, work, n):
        """The receiver of seed n: a fault script and a life (up all along, killed once, or late)."""
        r = random.Random(n * 7919 + 3)
        self.dir = os.path.join(work, "devo-http-rx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = _free_port()
        self.mode = r.choice(["faults", "faults", "kill", "late"])
        script = [r.choice(FAULTS) for _ in range(r.randint(1, 12))]
        with open(os.path.join(self.dir, "faults.txt"), "w") as f:
            f.write("".join(x + "\n" for x in script))
        self.faults = script
        self.rng = r

    def output_config(self):
        """`ctsqs.outputs` of the faulty collectors: small batches, short timeouts."""
        return {"devo_http": {"endpoint": "https://localhost:%d" % self.port, "domain": DOMAIN, "token": TOKEN,
                              "hostname": "harness", "chain": os.path.join(self.pki, "ca.pem"),
                              "batch_bytes": "8KiB", "request_timeout": "1s", "connect_timeout": "1s",
                              "flush_timeout": "6s", "backoff_initial": "50ms", "backoff_max": "500ms",
                              "retry_after_max": "2s"}}

    def start(self):
        log = open(os.path.join(self.dir, "receiver.log"), "a")
        self.proc = subprocess.Popen(["python3", RECEIVER, "--port", str(self.port), "--cert",
                                      os.path.join(self.pki, "server.pem"), "--key", os.path.join(self.pki, "server.key"),
                                      "--domain", DOMAIN, "--token", TOKEN, "--dir", self.dir], stdout=log, stderr=log)
        log.close()
        until = time.monotonic() + 15
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError("the Devo HTTP receiver exited at start: " +
                                   open(os.path.join(self.dir, "receiver.log")).read()[-800:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the Devo HTTP receiver did not listen on port %d" % self.port)

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def begin(self):
        """Start the receiver (unless it starts late) and return the thread of its life."""
        if self.mode != "late":
            self.start()
        return threading.Thread(target=self._life, daemon=True)

    def _life(self):
        if self.mode == "late":
            time.sleep(self.rng.uniform(0.3, 3.0))
            self.start()
        elif self.mode == "kill":
            time.sleep(self.rng.uniform(0.05, 1.5))
            self.kill(signal.SIGKILL)
            time.sleep(self.rng.uniform(0.2, 2.0))
            self.start()

    def describe(self):
        return "devo http %s, faults %s" % (self.mode, ",".join(self.faults))

    def delivered(self, event_id, violate):
        """Event ids the receiver recorded; framing problems and torn lines are violations."""
        seen = set()
        v = os.path.join(self.dir, "violations.txt")
        if os.path.exists(v):
            for line in open(v, errors="replace"):
                violate("I2", "the Devo HTTP receiver saw: " + line.strip()[:160])
        ev = os.path.join(self.dir, "events.jsonl")
        if os.path.exists(ev):
            for line in open(ev, "rb").read().split(b"\n"):
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                    seen.add(event_id(json.loads(rec["line"])))
                    if not rec["tag"].startswith("cloud.aws."):
                        violate("I2", "the Devo HTTP receiver got tag %r" % rec["tag"])
                except (ValueError, KeyError):
                    violate("I2", "the Devo HTTP receiver got a torn line: %r" % line[:120])
        return seen
