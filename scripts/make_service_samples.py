#!/usr/bin/env python3
"""Writes the example GuardDuty and Firehose objects under examples/logs (deterministic bytes).

Invented data in the shapes AWS documents (documentation account 111122223333, documentation IP
ranges): a GuardDuty export (JSON lines, gzip), CloudTrail delivered by a CloudWatch Logs
subscription through Kinesis Data Firehose (gzip members of CloudWatch Logs messages, one a
CONTROL_MESSAGE), and GuardDuty findings delivered by EventBridge through Firehose (EventBridge
events concatenated without newlines).   usage: scripts/make_service_samples.py [ROOT]
"""
import gzip
import json
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "logs")
ACCOUNT, REGION = "111122223333", "us-east-1"


def gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def write(rel: str, data: bytes) -> None:
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{rel}: {len(data)} bytes")


def finding(n: int, ftype: str, severity: float, action: dict, resource: dict, title: str) -> dict:
    fid = f"{n:02d}c2b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8"
    return {
        "schemaVersion": "2.0", "accountId": ACCOUNT, "region": REGION, "partition": "aws", "id": fid,
        "arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/{fid}",
        "type": ftype, "resource": resource,
        "service": {"serviceName": "guardduty", "detectorId": "12abc34d567e8fa901bc2d34e56789f0", "action": action,
                    "resourceRole": "TARGET", "additionalInfo": {"value": "{}", "type": "default"},
                    "eventFirstSeen": "2026-11-28T10:41:07.000Z", "eventLastSeen": "2026-11-28T10:52:13.000Z",
                    "archived": False, "count": n + 1},
        "severity": severity, "createdAt": "2026-11-28T10:45:12.341Z", "updatedAt": "2026-11-28T10:55:03.118Z",
        "title": title, "description": title + " (example finding written by the ctsqs project)",
    }


instance = {"resourceType": "Instance", "instanceDetails": {
    "instanceId": "i-0a1b2c3d4e5f60718", "instanceType": "t3.medium", "launchTime": "2026-11-20T08:00:00.000Z",
    "networkInterfaces": [{"networkInterfaceId": "eni-0123456789abcdef0", "privateIpAddress": "10.0.1.25",
                           "publicIp": "203.0.113.25", "securityGroups": [{"groupId": "sg-0a1b2c3d", "groupName": "web"}]}],
    "tags": [{"key": "Name", "value": "web-1"}], "instanceState": "running", "availabilityZone": "us-east-1a"}}
access_key = {"resourceType": "AccessKey", "accessKeyDetails": {
    "accessKeyId": "ASIAEXAMPLEEXAMPLE01", "principalId": "AROAEXAMPLEROLEID0001:i-0a1b2c3d4e5f60718",
    "userName": "web-role", "userType": "AssumedRole"}}
findings = [
    finding(1, "Recon:EC2/PortProbeUnprotectedPort", 2.0,
            {"actionType": "PORT_PROBE", "portProbeAction": {"blocked": False, "portProbeDetails": [
                {"localPortDetails": {"port": 22, "portName": "SSH"},
                 "remoteIpDetails": {"ipAddressV4": "198.51.100.7", "country": {"countryName": "Example"}}}]}},
            instance, "Unprotected port on EC2 instance i-0a1b2c3d4e5f60718 is being probed."),
    finding(2, "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 8.0,
            {"actionType": "AWS_API_CALL", "awsApiCallAction": {
                "api": "StopLogging", "serviceName": "cloudtrail.amazonaws.com", "callerType": "Remote IP",
                "remoteIpDetails": {"ipAddressV4": "198.51.100.66", "organization": {"asnOrg": "Example Hosting"}},
                "affectedResources": {"AWS::CloudTrail::Trail": "org-trail"}}},
            access_key, "Credentials for instance role web-role used from a remote AWS account."),
    finding(3, "CryptoCurrency:EC2/BitcoinTool.B!DNS", 8.0,
            {"actionType": "DNS_REQUEST", "dnsRequestAction": {"domain": "pool.example.net", "protocol": "UDP", "blocked": False}},
            instance, "EC2 instance i-0a1b2c3d4e5f60718 is querying a domain name associated with mining."),
]
write(f"AWSLogs/{ACCOUNT}/GuardDuty/{REGION}/2026/11/28/7e2b5c1d-93a4-4f6e-b8d0-1c2d3e4f5a6b.jsonl.gz",
      gz("".join(json.dumps(f, separators=(",", ":")) + "\n" for f in findings)))

events = [{"version": "0", "id": f"e{n}f0a1b2-c3d4-e5f6-a7b8-c9d0e1f2a3b4", "detail-type": "GuardDuty Finding",
           "source": "aws.guardduty", "account": ACCOUNT, "time": "2026-11-28T10:55:03Z", "region": REGION,
           "resources": [], "detail": f} for n, f in enumerate(findings[1:], 1)]
write("firehose/guardduty/2026/11/28/11/ctsqs-guardduty-1-2026-11-28-11-00-00-4b9e2f1a-8c7d-4e6f-a5b4-3c2d1e0f9a8b.gz",
      gz("".join(json.dumps(e, separators=(",", ":")) for e in events)))


def ct(n: int, source: str, name: str, params, extra=None) -> dict:
    r = {"eventVersion": "1.09", "userIdentity": {
        "type": "AssumedRole", "principalId": "AROAEXAMPLEROLEID0001:i-0a1b2c3d4e5f60718",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/web-role/i-0a1b2c3d4e5f60718", "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEEXAMPLE01",
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID0001",
                                             "arn": f"arn:aws:iam::{ACCOUNT}:role/web-role", "accountId": ACCOUNT,
                                             "userName": "web-role"},
                           "attributes": {"creationDate": "2026-11-28T10:30:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": f"2026-11-28T10:5{n}:00Z", "eventSource": source, "eventName": name, "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.66", "userAgent": "aws-cli/2.13.0", "requestParameters": params,
        "responseElements": None, "requestID": f"{n}1111111-2222-3333-4444-555555555555",
        "eventID": f"{n}aaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "readOnly": False, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management"}
    r.update(extra or {})
    return r


def cwl(n: int, records, mtype="DATA_MESSAGE") -> str:
    msg = {"messageType": mtype, "owner": ACCOUNT if mtype == "DATA_MESSAGE" else "CloudwatchLogs",
           "logGroup": "aws-cloudtrail-logs-111122223333" if mtype == "DATA_MESSAGE" else "",
           "logStream": f"{ACCOUNT}_CloudTrail_{REGION}" if mtype == "DATA_MESSAGE" else "",
           "subscriptionFilters": ["cloudtrail-to-firehose"] if mtype == "DATA_MESSAGE" else [],
           "logEvents": [{"id": f"3767{n}{i:02d}000000000000000000000000000000000000000000000",
                          "timestamp": 1764327000000 + i,
                          "message": r if isinstance(r, str) else json.dumps(r, separators=(",", ":"))}
                         for i, r in enumerate(records)]}
    return json.dumps(msg, separators=(",", ":"))


control = cwl(0, ["CWL CONTROL MESSAGE: Checking health of destination Firehose."], "CONTROL_MESSAGE")
first = cwl(1, [ct(1, "cloudtrail.amazonaws.com", "StopLogging", {"name": "org-trail"}),
                ct(2, "iam.amazonaws.com", "AttachRolePolicy",
                   {"roleName": "web-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                ct(3, "s3.amazonaws.com", "PutBucketPolicy",
                   {"bucketName": "example-logs", "Host": "example-logs.s3.amazonaws.com", "policy": "{}"},
                   {"resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::example-logs"}]})])
second = cwl(2, [ct(4, "guardduty.amazonaws.com", "DeleteDetector", {"detectorId": "12abc34d567e8fa901bc2d34e56789f0"})])
# Firehose appends one gzip member per delivery batch: the CONTROL_MESSAGE alone, then the rest.
write("firehose/cloudtrail/2026/11/28/11/ctsqs-cloudtrail-1-2026-11-28-11-00-00-9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a.gz",
      gz(control) + gz(first + second))
