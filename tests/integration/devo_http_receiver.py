#!/usr/bin/env python3
# A Devo HTTP ingestion receiver for the tests (stream mode over TLS): checks the request path,
# token, gzip framing and line splitting, records every event, and plays faults from a file.
#
# Usage: devo_http_receiver.py --port P --cert C --key K --domain D --token T --dir DIR [--count-only]
#   DIR/events.jsonl      one {"host","tag","line","req"} per event of a request answered 2xx
#                         (or recorded before a "reset-after")
#   DIR/requests.jsonl    one {"req","t","tag","events","bytes","status","fault"} per request
#   DIR/violations.txt    what a request got wrong (path, token, framing); tests expect none
#   DIR/faults.txt        read at each request: its first line is taken (and removed) as the
#                         fault for that request: ok | 500 | 503 | 429 [SECONDS] | 429date SECONDS
#                         | reset | reset-after | slow SECONDS | 400 | 401 | 413
# The token is compared, never printed.
import argparse
import json
import os
import socket
import ssl
import struct
import threading
import time
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--domain", required=True)
ap.add_argument("--token", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--max-bytes", type=int, default=32 * 1000 * 1000)
ap.add_argument("--count-only", action="store_true", help="check and count events, do not record them (benchmarks)")
args = ap.parse_args()

CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain(args.cert, args.key)
LOCK = threading.Lock()
COUNT = [0]


def path_of(name):
    return os.path.join(args.dir, name)


def append(name, text):
    with open(path_of(name), "a") as f:
        f.write(text)


def violation(text):
    with LOCK:
        append("violations.txt", text + "\n")


def take_fault():
    p = path_of("faults.txt")
    with LOCK:
        try:
            with open(p) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return "ok"
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            return "ok"
        first = lines.pop(0).strip()
        with open(p + ".tmp", "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(p + ".tmp", p)
        return first


def gunzip_members(body):
    """Decompress every gzip member (a body may hold several); raise on bad framing."""
    out = b""
    while body:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += d.decompress(body)
        if not d.eof:
            raise ValueError("truncated gzip member")
        body = d.unused_data
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        self.request.settimeout(60)
        self.request = CTX.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def reset(self):
        s = self.request
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        socket.socket.close(s)
        self.close_connection = True

    def do_GET(self):
        violation("GET " + self.path.split("/token!")[0] + ": stream mode takes POST only")
        self.answer(405)

    def do_POST(self):
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = self.path.split("/")
        # ['', 'stream', domain, 'token!T', host, tag]
        record = {"req": n, "t": time.time(), "bytes": len(body), "tag": None, "events": 0, "fault": None}

        def done(status, fault=None):
            record["status"], record["fault"] = status, fault
            with LOCK:
                append("requests.jsonl", json.dumps(record) + "\n")

        if len(parts) != 6 or parts[1] != "stream" or not parts[3].startswith("token!"):
            violation("request %d: path is not /stream/<domain>/token!<token>/<host>/<tag>" % n)
            done(404)
            return self.answer(404, b"not found")
        domain, tok, host, tag = unquote(parts[2]), unquote(parts[3][6:]), unquote(parts[4]), unquote(parts[5])
        record["tag"] = tag
        if tok != args.token or domain != args.domain:
            done(401)
            return self.answer(401, b"invalid token or domain")
        if len(body) > args.max_bytes:
            violation("request %d: %d bytes, over the limit" % (n, len(body)))
            done(413)
            return self.answer(413)
        if self.headers.get("Content-Encoding", "").lower() != "gzip":
            violation("request %d: no Content-Encoding: gzip" % n)
            done(400)
            return self.answer(400, b"expected gzip")
        try:
            text = gunzip_members(body).decode("utf-8")
        except Exception as e:
            violation("request %d: bad gzip or UTF-8: %s" % (n, e))
            done(400)
            return self.answer(400, b"bad gzip")
        if not text.endswith("\n"):
            violation("request %d: the body does not end with a line break" % n)
        lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        for i, line in enumerate(lines):
            if not line:
                violation("request %d: empty line %d" % (n, i))
            if "\r" in line:
                violation("request %d: carriage return in line %d" % (n, i))
        record["events"] = len(lines)

        def keep():
            if args.count_only:
                return
            with LOCK:
                with open(path_of("events.jsonl"), "a") as f:
                    for line in lines:
                        f.write(json.dumps({"host": host, "tag": tag, "line": line, "req": n}) + "\n")

        fault = take_fault()
        kind, _, arg = fault.partition(" ")
        if kind == "ok":
            keep()
            done(200)
            return self.answer(200)
        if kind in ("500", "503", "400", "401", "413"):
            done(int(kind), fault)
            return self.answer(int(kind), b"injected " + kind.encode())
        if kind == "429":
            done(429, fault)
            return self.answer(429, b"slow down", [("Retry-After", arg or "1")])
        if kind == "429date":
            done(429, fault)
            when = formatdate(time.time() + float(arg), usegmt=True)
            return self.answer(429, b"slow down", [("Retry-After", when)])
        if kind == "reset":
            done(0, fault)
            return self.reset()
        if kind == "reset-after":
            keep()
            done(0, fault)
            return self.reset()
        if kind == "slow":
            time.sleep(float(arg))
            keep()
            done(200, fault)
            try:
                return self.answer(200)
            except OSError:
                return None
        violation("unknown fault " + fault)
        done(500, fault)
        return self.answer(500)

    def finish(self):
        try:
            super().finish()
        except Exception:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


os.makedirs(args.dir, exist_ok=True)
Server(("127.0.0.1", args.port), Handler).serve_forever()
