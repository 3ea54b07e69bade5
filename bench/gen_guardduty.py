#!/usr/bin/env python3
"""Deterministic GuardDuty corpora for the decode benchmark (standard library only).

Findings follow the shapes of GuardDuty's documented finding types: EC2 port probes with many
probe details, network connections, API calls with remote IP details, DNS requests, Kubernetes
API calls and malware scans with lists of threats and scanned files; nested four to seven levels,
1 to 20 KB each (bigger and deeper than CloudTrail records).

  gen_guardduty.py --out DIR --files N --findings-per-file M [--seed S] [--big BYTES]

writes DIR/export/AWSLogs/<acct>/GuardDuty/<region>/YYYY/MM/DD/<uuid>.jsonl.gz (the export) and
DIR/firehose/guardduty/YYYY/MM/DD/HH/<name>.gz (the same findings as EventBridge events,
concatenated without newlines, as Firehose writes them). With --big, instead one export file of
at least BYTES uncompressed (for the memory bound).
"""
import argparse
import gzip
import json
import os
import random

TYPES = [
    ("Recon:EC2/PortProbeUnprotectedPort", "PORT_PROBE"),
    ("UnauthorizedAccess:EC2/SSHBruteForce", "NETWORK_CONNECTION"),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "AWS_API_CALL"),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "DNS_REQUEST"),
    ("Discovery:Kubernetes/SuccessfulAnonymousAccess", "KUBERNETES_API_CALL"),
    ("Execution:EC2/MaliciousFile", "MALWARE_SCAN"),
]


def uid(r):
    return "%08x-%04x-%04x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                                          r.getrandbits(16), r.getrandbits(48))


def ip(r):
    return "%d.%d.%d.%d" % (r.choice([198, 203, 192]), r.choice([51, 0]), r.randint(0, 255), r.randint(1, 254))


def remote(r):
    return {"ipAddressV4": ip(r), "organization": {"asn": str(r.randint(1000, 65000)), "asnOrg": "Example Net %d" % r.randint(1, 99),
            "isp": "Example ISP", "org": "Example Org"}, "country": {"countryName": r.choice(["Example", "Elsewhere"])},
            "city": {"cityName": "Town %d" % r.randint(1, 500)}, "geoLocation": {"lat": round(r.uniform(-60, 60), 4),
            "lon": round(r.uniform(-170, 170), 4)}}


def instance(r, acct):
    return {"resourceType": "Instance", "instanceDetails": {
        "instanceId": "i-%017x" % r.getrandbits(68), "instanceType": r.choice(["t3.medium", "m5.large", "c6g.xlarge"]),
        "launchTime": "2026-11-%02dT%02d:00:00.000Z" % (r.randint(1, 28), r.randint(0, 23)),
        "platform": None, "productCodes": [], "iamInstanceProfile": {"arn": "arn:aws:iam::%s:instance-profile/app" % acct, "id": "AIPA%016X" % r.getrandbits(64)},
        "networkInterfaces": [{"ipv6Addresses": [], "networkInterfaceId": "eni-%017x" % r.getrandbits(68),
                               "privateDnsName": "ip-10-0-%d-%d.ec2.internal" % (n, r.randint(1, 254)),
                               "privateIpAddress": "10.0.%d.%d" % (n, r.randint(1, 254)),
                               "privateIpAddresses": [{"privateDnsName": "ip-10-0-%d-9.ec2.internal" % n, "privateIpAddress": "10.0.%d.9" % n}],
                               "publicDnsName": "ec2-203-0-113-%d.compute-1.amazonaws.com" % n, "publicIp": "203.0.113.%d" % r.randint(1, 254),
                               "securityGroups": [{"groupId": "sg-%08x" % r.getrandbits(32), "groupName": "sg-%d" % k} for k in range(r.randint(1, 3))],
                               "subnetId": "subnet-%08x" % r.getrandbits(32), "vpcId": "vpc-%08x" % r.getrandbits(32)}
                              for n in range(r.randint(1, 3))],
        "outpostArn": None, "tags": [{"key": "k%d" % k, "value": "value %d" % r.randint(0, 9999)} for k in range(r.randint(0, 8))],
        "instanceState": "running", "availabilityZone": "us-east-1a", "imageId": "ami-%017x" % r.getrandbits(68),
        "imageDescription": "Example image"}}


def action(r, kind, acct):
    if kind == "PORT_PROBE":
        return {"actionType": kind, "portProbeAction": {"blocked": False, "portProbeDetails": [
            {"localPortDetails": {"port": r.choice([22, 80, 443, 3389, 5432]), "portName": "Unknown"},
             "localIpDetails": {"ipAddressV4": "10.0.0.%d" % r.randint(1, 254)}, "remoteIpDetails": remote(r)}
            for _ in range(r.randint(1, 25))]}}
    if kind == "NETWORK_CONNECTION":
        return {"actionType": kind, "networkConnectionAction": {"connectionDirection": "INBOUND", "blocked": False,
                "localPortDetails": {"port": 22, "portName": "SSH"}, "protocol": "TCP",
                "localIpDetails": {"ipAddressV4": "10.0.0.7"}, "remoteIpDetails": remote(r),
                "remotePortDetails": {"port": r.randint(1024, 65535), "portName": "Unknown"}}}
    if kind == "AWS_API_CALL":
        return {"actionType": kind, "awsApiCallAction": {"api": r.choice(["StopLogging", "DeleteTrail", "ListBuckets", "GetSecretValue"]),
                "serviceName": r.choice(["cloudtrail.amazonaws.com", "s3.amazonaws.com", "secretsmanager.amazonaws.com"]),
                "callerType": "Remote IP", "remoteIpDetails": remote(r), "errorCode": r.choice(["", "AccessDenied"]),
                "userAgent": "aws-cli/2.13.%d Python/3.11" % r.randint(0, 30),
                "affectedResources": {"AWS::CloudTrail::Trail": "trail-%d" % r.randint(1, 9)}}}
    if kind == "DNS_REQUEST":
        return {"actionType": kind, "dnsRequestAction": {"domain": "pool%d.example.net" % r.randint(1, 999), "protocol": "UDP",
                "blocked": False, "domainWithSuffix": "example.net"}}
    if kind == "KUBERNETES_API_CALL":
        return {"actionType": kind, "kubernetesApiCallAction": {"requestUri": "/api/v1/namespaces/default/secrets/s%d" % r.randint(1, 99),
                "verb": r.choice(["get", "list", "create"]), "sourceIps": [ip(r) for _ in range(r.randint(1, 4))],
                "userAgent": "kubectl/v1.28.%d" % r.randint(0, 9), "remoteIpDetails": remote(r), "statusCode": 200,
                "parameters": json.dumps({"kind": "Secret", "metadata": {"name": "s", "labels": {"a": "b"}}})}}
    return {"actionType": "MALWARE_SCAN"}


def finding(r, acct, region):
    ftype, kind = r.choice(TYPES)
    fid = "%032x" % r.getrandbits(128)
    f = {"schemaVersion": "2.0", "accountId": acct, "region": region, "partition": "aws", "id": fid,
         "arn": "arn:aws:guardduty:%s:%s:detector/%032x/finding/%s" % (region, acct, r.getrandbits(128), fid),
         "type": ftype, "resource": instance(r, acct),
         "service": {"serviceName": "guardduty", "detectorId": "%032x" % r.getrandbits(128), "action": action(r, kind, acct),
                     "resourceRole": r.choice(["TARGET", "ACTOR"]),
                     "additionalInfo": {"value": json.dumps({"threatListName": "ProofPoint", "sample": r.random() < 0.1}), "type": "default"},
                     "evidence": {"threatIntelligenceDetails": [{"threatListName": "ProofPoint", "threatNames": ["Name %d" % k for k in range(r.randint(1, 4))]}]},
                     "eventFirstSeen": "2026-11-28T10:%02d:00.000Z" % r.randint(0, 59),
                     "eventLastSeen": "2026-11-28T11:%02d:00.000Z" % r.randint(0, 59), "archived": False, "count": r.randint(1, 5000)},
         "severity": r.choice([2, 5, 5.3, 8, 8.9]), "createdAt": "2026-11-28T10:45:12.341Z", "updatedAt": "2026-11-28T11:55:03.118Z",
         "title": "Example finding of type %s." % ftype, "description": "Example description \"quoted\" with a \\ backslash and unicode \u00e9\u4e2d."}
    if kind == "MALWARE_SCAN":
        f["service"]["ebsVolumeScanDetails"] = {"scanId": "%032x" % r.getrandbits(128), "scanStartedAt": 1764327000000, "scanCompletedAt": 1764327600000,
            "triggerFindingId": "%032x" % r.getrandbits(128), "sources": ["GuardDuty"],
            "scanDetections": {"scannedItemCount": {"totalGb": r.randint(1, 500), "files": r.randint(100, 90000), "volumes": 1},
                               "threatDetectedByName": {"itemCount": 3, "uniqueThreatNameCount": 1, "shortened": False,
                                   "threatNames": [{"name": "EICAR-Test-File", "severity": "HIGH", "itemCount": 3,
                                                    "filePaths": [{"filePath": "/var/tmp/f%d" % k, "volumeArn": "arn:aws:ec2:us-east-1:%s:volume/vol-%017x" % (acct, r.getrandbits(68)),
                                                                   "hash": "%064x" % r.getrandbits(256), "fileName": "f%d" % k} for k in range(r.randint(1, 30))]}]}}}
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--findings-per-file", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big", type=int, default=0)
    a = ap.parse_args()
    r = random.Random(a.seed)
    acct, region = "111122223333", "us-east-1"
    if a.big:
        path = os.path.join(a.out, "export/AWSLogs/%s/GuardDuty/%s/2026/11/28/big.jsonl.gz" % (acct, region))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        n = 0
        with gzip.GzipFile(path, "wb", compresslevel=6, mtime=0) as z:
            while n < a.big:
                line = (json.dumps(finding(r, acct, region), separators=(",", ":")) + "\n").encode()
                z.write(line)
                n += len(line)
        print(path)
        return
    for i in range(a.files):
        fs = [finding(r, acct, region) for _ in range(a.findings_per_file)]
        name = uid(r)
        p = os.path.join(a.out, "export/AWSLogs/%s/GuardDuty/%s/2026/11/28/%s.jsonl.gz" % (acct, region, name))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(gzip.compress("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in fs).encode(), mtime=0))
        events = "".join(json.dumps({"version": "0", "id": uid(r), "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
                                     "account": acct, "time": "2026-11-28T11:00:00Z", "region": region, "resources": [],
                                     "detail": x}, separators=(",", ":")) for x in fs)
        p = os.path.join(a.out, "firehose/guardduty/2026/11/28/11/gd-stream-1-2026-11-28-11-%02d-00-%s.gz" % (i % 60, name))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(gzip.compress(events.encode(), mtime=0))


if __name__ == "__main__":
    main()
