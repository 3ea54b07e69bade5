#!/usr/bin/env python3
"""A fast local S3 + SQS for benchmarks (not a test peer: no SigV4 check, no faults).

Serves, from memory, the files under --root as one bucket (path-style GetObject with ETag,
ListObjectsV2 with prefix/delimiter/start-after/continuation, GetBucketLocation), and one SQS
queue (AWS JSON 1.0: ReceiveMessage answering at once, DeleteMessageBatch,
ChangeMessageVisibilityBatch, GetQueueAttributes) holding one S3 event notification per file.
Each object is one sendall() of bytes already in memory, so the server costs a few milliseconds
of CPU per run: bench/collector_bench.sh measures how much.

usage: fast_aws.py --root DIR --bucket NAME --port-file FILE [--copies N]
  writes the port to FILE once listening; POST /__reset refills the queue. --copies N serves
  each file N times under N keys (the 16-character id of a CloudTrail file name made distinct
  per copy): more work from the same corpus.
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import socket
import socketserver
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--bucket", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--copies", type=int, default=1)
a = ap.parse_args()


def copy_key(key, c):
    if c == 0:
        return key
    m = re.search(r"_([A-Za-z0-9]{16})(\.json(\.gz)?)$", key)
    if not m:
        return key + ".copy%d" % c
    tag = "c%d" % c
    return key[:m.start(1)] + m.group(1)[:16 - len(tag)] + tag + key[m.end(1):]

objects = {}  # key -> (bytes, etag)
for d, _, files in os.walk(a.root):
    for f in files:
        p = os.path.join(d, f)
        key = os.path.relpath(p, a.root).replace(os.sep, "/")
        data = open(p, "rb").read()
        for c in range(a.copies):
            objects[copy_key(key, c)] = (data, hashlib.md5(data).hexdigest())
keys = sorted(objects)

lock = threading.Condition()
queue = {}      # receipt handle or message id -> message
visible = []    # message ids in order
inflight = {}   # receipt -> message id


def fill():
    with lock:
        lock.notify_all()
        queue.clear()
        visible.clear()
        inflight.clear()
        for i, k in enumerate(keys):
            data, etag = objects[k]
            body = json.dumps({"Records": [{
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2024-03-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": a.bucket, "arn": "arn:aws:s3:::" + a.bucket},
                       "object": {"key": urllib.parse.quote(k), "size": len(data), "eTag": etag}}}]})
            mid = "m%06d" % i
            queue[mid] = {"MessageId": mid, "Body": body, "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
                          "count": 0}
            visible.append(mid)


fill()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        parts = u.path.lstrip("/").split("/", 1)
        if parts[0] != a.bucket:
            return self.send(404, b"<Error><Code>NoSuchBucket</Code></Error>")
        if len(parts) == 1 or parts[1] == "":
            if "location" in q:
                return self.send(200, b'<?xml version="1.0" encoding="UTF-8"?><LocationConstraint/>')
            return self.list(q)
        key = urllib.parse.unquote(parts[1])
        o = objects.get(key)
        if o is None:
            return self.send(404, b"<Error><Code>NoSuchKey</Code></Error>")
        self.send(200, o[0], "application/octet-stream", [("ETag", '"%s"' % o[1])])

    def list(self, q):
        prefix = q.get("prefix", [""])[0]
        delim = q.get("delimiter", [""])[0]
        after = q.get("continuation-token", q.get("start-after", [""]))[0]
        maxk = int(q.get("max-keys", ["1000"])[0])
        contents, prefixes, truncated, last = [], [], False, ""
        for k in keys:
            if not k.startswith(prefix) or k <= after:
                continue
            if delim:
                i = k.find(delim, len(prefix))
                if i >= 0:
                    cp = k[:i + len(delim)]
                    if cp <= after or (prefixes and prefixes[-1] == cp):
                        continue
                    if len(contents) + len(prefixes) >= maxk:
                        truncated = True
                        break
                    prefixes.append(cp)
                    last = cp + "\uffff"
                    continue
            if len(contents) + len(prefixes) >= maxk:
                truncated = True
                break
            contents.append(k)
            last = k
        x = ['<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>'
             '<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>'
             % (escape(a.bucket), escape(prefix), len(contents) + len(prefixes), maxk, "true" if truncated else "false")]
        if delim:
            x.append("<Delimiter>%s</Delimiter>" % escape(delim))
        if truncated:
            x.append("<NextContinuationToken>%s</NextContinuationToken>" % escape(last))
        for k in contents:
            data, etag = objects[k]
            x.append('<Contents><Key>%s</Key><LastModified>2024-03-01T01:00:00.000Z</LastModified>'
                     '<ETag>&quot;%s&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>'
                     % (escape(k), etag, len(data)))
        for p in prefixes:
            x.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(p))
        x.append("</ListBucketResult>")
        self.send(200, "".join(x).encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n) or b"{}")
        if self.path == "/__reset":
            fill()
            return self.send(200, b"{}", "application/json")
        op = self.headers.get("X-Amz-Target", "").split(".")[-1]
        out = {}
        with lock:
            if op == "ReceiveMessage":
                # A long poll while messages are out: it ends when one comes back or none is out
                # (then a drain's empty polls end at once).
                until = time.monotonic() + min(float(req.get("WaitTimeSeconds", 0)), 20)
                while not visible and inflight and time.monotonic() < until:
                    lock.wait(until - time.monotonic())
                msgs = []
                for _ in range(min(int(req.get("MaxNumberOfMessages", 1)), 10)):
                    if not visible:
                        break
                    mid = visible.pop(0)
                    m = queue[mid]
                    m["count"] += 1
                    rh = "%s-%d" % (mid, m["count"])
                    inflight[rh] = mid
                    msgs.append({"MessageId": mid, "ReceiptHandle": rh, "MD5OfBody": m["MD5OfBody"], "Body": m["Body"],
                                 "Attributes": {"ApproximateReceiveCount": str(m["count"]),
                                                "SentTimestamp": str(int(time.time() * 1000))}})
                out = {"Messages": msgs} if msgs else {}
            elif op == "DeleteMessageBatch":
                ok = []
                for e in req.get("Entries", []):
                    mid = inflight.pop(e["ReceiptHandle"], None)
                    if mid:
                        queue.pop(mid, None)
                    ok.append({"Id": e["Id"]})
                out = {"Successful": ok, "Failed": []}
                lock.notify_all()
            elif op == "ChangeMessageVisibilityBatch":
                ok = []
                for e in req.get("Entries", []):
                    if int(e.get("VisibilityTimeout", 1)) == 0 and e["ReceiptHandle"] in inflight:
                        visible.append(inflight.pop(e["ReceiptHandle"]))
                    ok.append({"Id": e["Id"]})
                out = {"Successful": ok, "Failed": []}
                lock.notify_all()
            elif op == "GetQueueAttributes":
                out = {"Attributes": {"ApproximateNumberOfMessages": str(len(visible)),
                                      "ApproximateNumberOfMessagesNotVisible": str(len(inflight)),
                                      "ApproximateNumberOfMessagesDelayed": "0", "VisibilityTimeout": "120"}}
            else:
                return self.send(400, json.dumps({"__type": "InvalidAction", "message": op}).encode(),
                                 "application/x-amz-json-1.0")
        self.send(200, json.dumps(out).encode(), "application/x-amz-json-1.0")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog (5) overflows when a collector opens dozens of connections at
    # once: the SYNs dropped then wait out TCP's 1 s retransmission, a stall that is the
    # server's, not the collector's.
    request_queue_size = 1024


srv = Server(("127.0.0.1", 0), Handler)
with open(a.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(a.port_file + ".tmp", a.port_file)
srv.serve_forever()
