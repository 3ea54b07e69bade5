#!/usr/bin/env python3
# Stand-ins for the AWS credential endpoints a collector meets on EC2, ECS and EKS, for the
# credentials-chain integration tests: EC2 IMDSv2 (PUT token, then role and credentials with
# the token), ECS container credentials (Authorization checked) and STS
# AssumeRoleWithWebIdentity (token checked). Every request is logged as one line. MODE
# "imdsv1" makes the metadata endpoint IMDSv1-only: the token PUT is refused (403) and the
# metadata is served without a token.
# Usage: fake_credential_endpoints.py PORT LOGFILE ACCESS_KEY SECRET TOKEN ECS_AUTH WEB_TOKEN [MODE]
import datetime
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG, AKID, SECRET, TOKEN, ECS_AUTH, WEB_TOKEN = sys.argv[1:8]
IMDS_V1_ONLY = sys.argv[8:9] == ["imdsv1"]
IMDS_TOKEN = "imds-session-token-1"


def expiration():
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def creds_json():
    return json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": AKID, "SecretAccessKey": SECRET,
                       "Token": TOKEN, "Expiration": expiration()})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log(self, what):
        with open(LOG, "a") as f:
            f.write(what + "\n")

    def do_PUT(self):
        self.log(f"PUT {self.path} ttl={self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')}")
        if IMDS_V1_ONLY:
            return self.reply(403, "")
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, IMDS_TOKEN)
        return self.reply(400, "bad token request")

    def do_GET(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        self.log(f"GET {self.path} token={'yes' if tok == IMDS_TOKEN else 'no'}")
        if self.path.startswith("/latest/meta-data/"):
            if tok != IMDS_TOKEN and not IMDS_V1_ONLY:
                return self.reply(401, "")
            if self.path == "/latest/meta-data/iam/security-credentials/":
                return self.reply(200, "ctsqs-instance-role")
            if self.path == "/latest/meta-data/iam/security-credentials/ctsqs-instance-role":
                return self.reply(200, creds_json(), "application/json")
            return self.reply(404, "")
        if self.path == "/ecs/credentials":
            if self.headers.get("Authorization") != ECS_AUTH:
                return self.reply(403, '{"message":"bad token"}', "application/json")
            return self.reply(200, creds_json(), "application/json")
        return self.reply(404, "")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        p = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
        self.log(f"POST {p.get('Action')} signed={'yes' if self.headers.get('Authorization') else 'no'}")
        if p.get("Action") != "AssumeRoleWithWebIdentity":
            return self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>")
        if p.get("WebIdentityToken") != WEB_TOKEN:
            return self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                                   "<Message>Couldn't verify the token</Message></Error><RequestId>w1</RequestId></ErrorResponse>")
        role = p.get("RoleArn", "")
        xml = (f"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
               f"<AccessKeyId>{AKID}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>"
               f"<SessionToken>{TOKEN}</SessionToken><Expiration>{expiration()}</Expiration></Credentials>"
               f"<AssumedRoleUser><Arn>{role}</Arn><AssumedRoleId>AROAWEB:{p.get('RoleSessionName')}</AssumedRoleId>"
               f"</AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
        return self.reply(200, xml, "text/xml")


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
