#!/usr/bin/env python3
"""Writes ONE CloudTrail log file of about --bytes uncompressed JSON (gzip or plain), for the
bounded-memory check: `{"Records":[...]}` with invented records. Python stdlib only.

usage: gen_big_log.py OUT [--bytes N] [--plain]
"""
import argparse, gzip, json

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--bytes", type=int, default=1 << 30)
p.add_argument("--plain", action="store_true")
a = p.parse_args()

services = ["s3", "ec2", "iam", "sts", "kms", "lambda", "dynamodb", "ssm"]
def record(i):
    svc = services[i % len(services)]
    return {"eventVersion": "1.10",
            "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:%d" % i,
                             "arn": "arn:aws:sts::111122223333:assumed-role/Worker/s%d" % i,
                             "accountId": "111122223333",
                             "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/Worker"},
                                                "attributes": {"creationDate": "2026-11-28T10:00:00Z", "mfaAuthenticated": "false"}}},
            "eventTime": "2026-11-28T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
            "eventSource": svc + ".amazonaws.com", "eventName": "Describe%d" % (i % 97), "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.%d" % (i % 250), "userAgent": "aws-sdk-go-v2/1.30.0 os/linux",
            "requestParameters": {"maxResults": i % 1000, "filters": [{"name": "tag:env", "values": ["prod", "dev"]}]},
            "responseElements": None, "requestID": "req-%012d" % i, "eventID": "evt-%012d" % i,
            "readOnly": True, "resources": [{"ARN": "arn:aws:%s:us-east-1:111122223333:thing/%d" % (svc, i), "type": "AWS::Thing"}],
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": "111122223333",
            "eventCategory": "Management", "padding": "x" * (i % 512)}

opener = (lambda f: open(f, "wb")) if a.plain else (lambda f: gzip.open(f, "wb", compresslevel=1))
written = 0
n = 0
with opener(a.out) as f:
    head = b'{"Records":['
    f.write(head)
    written += len(head)
    batch = []
    while written < a.bytes:
        s = (b"," if n else b"") + json.dumps(record(n), separators=(",", ":")).encode()
        batch.append(s)
        written += len(s)
        n += 1
        if len(batch) >= 4096:
            f.write(b"".join(batch))
            batch = []
    f.write(b"".join(batch) + b"]}\n")
    written += 3
print("%s: %d records, %d bytes of JSON" % (a.out, n, written))
