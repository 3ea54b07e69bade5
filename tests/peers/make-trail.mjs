#!/usr/bin/env node
// make-trail.mjs: write a CloudTrail trail with log file validation on into an S3 endpoint, laid
// out and signed as CloudTrail does it, and tamper with it the ways an attacker would.
//
// usage: node make-trail.mjs generate [options]       write a trail; print its manifest (JSON)
//        node make-trail.mjs modify-log --key K       change one record of a log file (re-gzipped)
//        node make-trail.mjs regzip-log --key K       same content, other gzip bytes (still valid)
//        node make-trail.mjs delete --key K           delete a log file or a digest
//        node make-trail.mjs hide-log --digest K --key LOG   drop LOG from the digest's logFiles and
//                                                     re-upload the digest with its OLD signature
//        node make-trail.mjs strip-signature --digest K      re-upload a digest without its
//                                                     x-amz-meta-signature(-algorithm)
//        node make-trail.mjs move-digest --digest K [--seconds S]   move a digest (with its
//                                                     metadata) to the name S seconds earlier (default 1)
//        node make-trail.mjs inject-log --like LOG [--minutes M]   a new log file beside LOG, M
//                                                     minutes later (default 1), listed by no digest
//        node make-trail.mjs check-metadata           PutObject with user metadata, then GetObject
//                                                     and HeadObject must return it (exit 0/1)
// common: --s3-endpoint URL (default $GATE_ENDPOINT, else $S3_ENDPOINT)  --bucket NAME (default
//         cloudtrail-logs)  --region R (signing region, default us-east-1); credentials from
//         AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default test/test)
// generate:
//   --prefix P              trail key prefix (no leading/trailing "/")
//   --accounts A,B          accounts whose chains are written (default 111122223333)
//   --regions R1,R2         regions (default us-east-1); one digest chain per account and region
//   --home-region R         the trail's home region, in digest names and the ARN (default: first region)
//   --trail NAME            trail name (default ct-trail)
//   --trail-account ID      account owning the trail (default: first account; the management
//                           account of an organization trail)
//   --org-id o-xxxx         organization trail: keys under AWSLogs/<org-id>/<account>/
//   --start ISO             first digest hour (default 2026-11-02T00:00:00Z, floored to the hour);
//                           each chain's digests end at start + (h+1)h + a per-chain offset < 1h
//   --hours N               digest hours per chain (default 3)
//   --files-per-hour N      log files per hour (default 2)  --records N  records per file (default 5)
//   --rotate-at K           digests of hours >= K are signed with a second key of the region
//   --gap H:L               no digests for hours H..H+L-1 (validation off); the digest of hour H+L
//                           restarts the chain (previousDigest* null)
//   --gap-logs              log files are still delivered during the gap (covered by no digest)
//   --empty-hours H,H       hours whose digest lists no log file (no log delivered)
//   --backfill-hours H,H    the last log file of these hours is listed not by the hour's digest but
//                           by a backfill digest (same name + "_backfill", previousDigest* null,
//                           x-amz-meta-backfill-generation-timestamp two hours after its end)
//   --insight-files-per-hour N   Insights files (CloudTrail-Insight/) and their own digest chain
//                           (CloudTrail-Insight-Digest/, ..._CloudTrail-Insight-Digest_...)
//   --log-source DIR        take the records of the log files from the *.json.gz below DIR
//                           (e.g. a corpus), cycling, instead of synthetic ones
//   --seed N                PRNG seed (default 42): same options + same keys = same bytes
//   --keys-dir DIR          private keys (PEM) kept here and reused when present (region-n.pem)
//   --keys-file FILE        the gate's GATE_CLOUDTRAIL_KEYS file, merged by fingerprint
//                           (default $GATE_CLOUDTRAIL_KEYS)
//   --trails-file FILE      the gate's GATE_CLOUDTRAIL_TRAILS file (DescribeTrails answer and
//                           organization id), merged by trail ARN (default $GATE_CLOUDTRAIL_TRAILS)
//   --concurrency N         uploads in flight (default 16)   --out FILE  also write the manifest
// Manifest: {bucket, prefix, trail, trail_arn, home_region, organization_id, accounts, regions,
//   start, end, keys:[{fingerprint, region, valid_from, valid_to}],
//   chains:[{account, region, kind, digests:[key...]}],
//   objects:[{key, kind: log|insight|digest|insight-digest, size, sha256 (uncompressed), account,
//   region, time}], digests:[{key, kind, account, region, start, end, fingerprint, signature,
//   previous, log_files:[key...]}], gaps:[{account, region, from, to}],
//   uncovered:[key...] (log files delivered in a gap)}
// Exit 0, 1 on an S3 failure, 2 on bad arguments.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { parseArgs } from "node:util";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand,
} from "@aws-sdk/client-s3";

// The SDK's notice that its future releases need a newer Node is noise in test output.
process.removeAllListeners("warning");
process.on("warning", (w) => { if (!/NodeVersionSupport/.test(`${w.name} ${w.message}`)) console.error(`${w.name}: ${w.message}`); });
const env = process.env;
const die = (msg) => { console.error(`make-trail: ${msg}`); process.exit(2); };
const COMMANDS = ["generate", "modify-log", "regzip-log", "delete", "hide-log", "strip-signature", "move-digest", "inject-log", "check-metadata"];
const command = process.argv[2];
if (command === "--help" || command === "-h" || command === undefined) {
  const src = fs.readFileSync(new URL(import.meta.url), "utf8").split("\n");
  console.log(src.slice(1, src.findIndex((l) => l.startsWith("import"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
  process.exit(command === undefined ? 2 : 0);
}
if (!COMMANDS.includes(command)) die(`unknown command "${command}" (known: ${COMMANDS.join(", ")})`);
let o;
try {
  o = parseArgs({
    args: process.argv.slice(3),
    options: {
      "s3-endpoint": { type: "string" }, bucket: { type: "string" }, region: { type: "string" },
      prefix: { type: "string" }, accounts: { type: "string" }, regions: { type: "string" },
      "home-region": { type: "string" }, trail: { type: "string" }, "trail-account": { type: "string" },
      "org-id": { type: "string" }, start: { type: "string" }, hours: { type: "string" },
      "files-per-hour": { type: "string" }, records: { type: "string" }, "rotate-at": { type: "string" },
      gap: { type: "string" }, "gap-logs": { type: "boolean" }, "empty-hours": { type: "string" }, "backfill-hours": { type: "string" },
      "insight-files-per-hour": { type: "string" }, "log-source": { type: "string" }, seed: { type: "string" },
      "keys-dir": { type: "string" }, "keys-file": { type: "string" }, "trails-file": { type: "string" },
      concurrency: { type: "string" }, out: { type: "string" },
      key: { type: "string" }, digest: { type: "string" }, like: { type: "string" }, minutes: { type: "string" }, seconds: { type: "string" },
    },
  }).values;
} catch (e) { die(e.message); }
const int = (name, dflt, min = 0) => {
  const v = o[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) die(`--${name} must be an integer >= ${min}, got "${v}"`);
  return n;
};
const endpoint = o["s3-endpoint"] ?? env.GATE_ENDPOINT ?? env.S3_ENDPOINT;
if (!endpoint) die("--s3-endpoint is required (or GATE_ENDPOINT / S3_ENDPOINT)");
const bucket = o.bucket ?? "cloudtrail-logs";
const s3 = new S3Client({
  region: o.region ?? "us-east-1", endpoint, forcePathStyle: true, maxAttempts: 3,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? "test", secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "test" },
  requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED",
});

// ---------------------------------------------------------------- helpers
let state = int("seed", 42) >>> 0;
const rnd = () => {  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const ri = (n) => Math.floor(rnd() * n);
const pick = (xs) => xs[ri(xs.length)];
const hex = (n) => Array.from({ length: n }, () => ri(16).toString(16)).join("");
const alnum = (n) => Array.from({ length: n }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[ri(62)]).join("");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`;
const sha256 = (b) => crypto.createHash("sha256").update(b).digest("hex");
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const ymd = (ms) => iso(ms).slice(0, 10).replace(/-/g, "/");
const stampMin = (ms) => iso(ms).replace(/[-:]/g, "").slice(0, 13) + "Z";    // 20261102T0105Z
const stampSec = (ms) => iso(ms).replace(/[-:]/g, "");                        // 20261102T010531Z
const gzip = (buf) => zlib.gzipSync(buf);   // Node writes mtime 0: same input, same bytes

async function put(key, body, metadata) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
}
async function get(key) {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: Buffer.from(await r.Body.transformToByteArray()), metadata: r.Metadata ?? {} };
}
async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) { const it = items[i++]; await fn(it); }
  }));
}
const print = (obj) => console.log(JSON.stringify(obj));

// ---------------------------------------------------------------- records
const SERVICES = [
  ["s3.amazonaws.com", ["GetObject", "PutObject", "ListObjects", "HeadObject"], true],
  ["kms.amazonaws.com", ["Decrypt", "GenerateDataKey", "Encrypt"], true],
  ["sts.amazonaws.com", ["AssumeRole", "GetCallerIdentity", "AssumeRoleWithWebIdentity"], false],
  ["ec2.amazonaws.com", ["DescribeInstances", "RunInstances", "DescribeSecurityGroups", "CreateTags"], false],
  ["iam.amazonaws.com", ["GetRole", "ListRoles", "AttachRolePolicy", "CreateAccessKey"], false],
  ["lambda.amazonaws.com", ["Invoke", "ListFunctions20150331", "GetFunction20150331v2"], false],
  ["signin.amazonaws.com", ["ConsoleLogin"], false],
];
function record(account, region, timeMs) {
  const [source, names, data] = pick(SERVICES);
  const name = pick(names);
  const role = pick(["Admin", "ReadOnly", "ci-deployer", "lambda-exec", "AWSReservedSSO_PowerUser_1a2b3c"]);
  const principal = `AROA${alnum(17).toUpperCase()}`;
  const r = {
    eventVersion: "1.09",
    userIdentity: {
      type: "AssumedRole", principalId: `${principal}:session-${alnum(6)}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/session-${alnum(6)}`, accountId: account,
      accessKeyId: `ASIA${alnum(16).toUpperCase()}`,
      sessionContext: {
        sessionIssuer: { type: "Role", principalId: principal, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
        attributes: { creationDate: iso(timeMs - 600000 - ri(3000000)), mfaAuthenticated: "false" },
      },
    },
    eventTime: iso(timeMs), eventSource: source, eventName: name, awsRegion: region,
    sourceIPAddress: `${10 + ri(200)}.${ri(256)}.${ri(256)}.${ri(256)}`,
    userAgent: pick(["aws-cli/2.15.30 md/Botocore#1.34.69 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8",
      "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.12.1 exec-env/AWS_Lambda_python3.12",
      "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.1",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36"]),
    requestParameters: data
      ? { bucketName: `data-${alnum(6).toLowerCase()}`, key: `prefix/${alnum(10)}/object-${ri(100000)}.parquet`, Host: "s3.amazonaws.com" }
      : { roleArn: `arn:aws:iam::${account}:role/${role}`, maxResults: 50 + ri(50) },
    responseElements: null,
    requestID: uuid(), eventID: uuid(), readOnly: /^(Get|List|Describe|Head)/.test(name),
    eventType: "AwsApiCall", managementEvent: !data, recipientAccountId: account,
    eventCategory: data ? "Data" : "Management",
    tlsDetails: { tlsVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", clientProvidedHostHeader: `${source.split(".")[0]}.${region}.amazonaws.com` },
  };
  if (ri(25) === 0) { r.errorCode = "AccessDenied"; r.errorMessage = `User is not authorized to perform: ${name}`; }
  return r;
}
function insightRecord(account, region, timeMs) {
  return {
    eventVersion: "1.08", eventTime: iso(timeMs), awsRegion: region, eventID: uuid(),
    eventType: "AwsCloudTrailInsight", recipientAccountId: account, sharedEventID: uuid(),
    insightDetails: {
      state: pick(["Start", "End"]), eventSource: "ec2.amazonaws.com", eventName: "RunInstances",
      insightType: "ApiCallRateInsight",
      insightContext: { statistics: { baseline: { average: 0.01 }, insight: { average: 2.5 }, insightDuration: 1 } },
    },
    eventCategory: "Insight",
  };
}
let sourceRecords = null;   // records taken from --log-source files, cycled
let sourceIndex = 0;
function loadSource(dir) {
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(".json.gz") ? [path.join(d, e.name)] : []));
  const files = walk(dir).filter((f) => !f.includes("Digest"));
  if (!files.length) die(`--log-source ${dir}: no .json.gz file below it`);
  sourceRecords = files.slice(0, 200).flatMap((f) => JSON.parse(zlib.gunzipSync(fs.readFileSync(f))).Records ?? []);
  if (!sourceRecords.length) die(`--log-source ${dir}: no record in its files`);
}
function records(kind, account, region, deliveredMs, n) {
  const times = Array.from({ length: n }, () => deliveredMs - 1000 - ri(300000)).sort((a, b) => a - b);
  return times.map((t) => {
    if (kind === "insight") return insightRecord(account, region, t);
    if (!sourceRecords) return record(account, region, t);
    const r = { ...sourceRecords[sourceIndex++ % sourceRecords.length] };
    return { ...r, eventTime: iso(t), awsRegion: region, recipientAccountId: account };
  });
}

// ---------------------------------------------------------------- keys
function regionKeys(region, count, keysDir) {
  const keys = [];
  for (let n = 1; n <= count; n++) {
    const file = keysDir ? path.join(keysDir, `${region}-${n}.pem`) : null;
    let priv;
    if (file && fs.existsSync(file)) priv = crypto.createPrivateKey(fs.readFileSync(file));
    else {
      priv = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
      if (file) { fs.mkdirSync(keysDir, { recursive: true }); fs.writeFileSync(file, priv.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 }); }
    }
    const der = crypto.createPublicKey(priv).export({ type: "pkcs1", format: "der" });
    // CloudTrail's fingerprint is the MD5 of the PKCS#1 DER public key (checked against the
    // ListPublicKeys example of the AWS CLI documentation).
    keys.push({ priv, der, fingerprint: crypto.createHash("md5").update(der).digest("hex") });
  }
  return keys;
}
function mergeJsonFile(file, fn) {
  let cur;
  try { cur = JSON.parse(fs.readFileSync(file, "utf8")); } catch { cur = undefined; }
  const next = fn(cur);
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(next, null, 1));
  fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------- generate
async function generate() {
  const accounts = (o.accounts ?? "111122223333").split(",").filter(Boolean);
  const regions = (o.regions ?? "us-east-1").split(",").filter(Boolean);
  for (const a of accounts) if (!/^\d{12}$/.test(a)) die(`--accounts: "${a}" is not a 12-digit account id`);
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) die(`--regions: "${r}" is not a region name`);
  const homeRegion = o["home-region"] ?? regions[0];
  const trail = o.trail ?? "ct-trail";
  if (!/^[A-Za-z0-9._-]{3,128}$/.test(trail)) die(`--trail: "${trail}" is not a trail name`);
  const trailAccount = o["trail-account"] ?? accounts[0];
  const org = o["org-id"] ?? null;
  if (org !== null && !/^o-[a-z0-9]{10,32}$/.test(org)) die(`--org-id: "${org}" is not an organization id (o- and 10..32 [a-z0-9])`);
  const prefix = (o.prefix ?? "").replace(/^\/+|\/+$/g, "");
  const startMs = Date.parse(o.start ?? "2026-11-02T00:00:00Z");
  if (Number.isNaN(startMs)) die(`--start: "${o.start}" is not an ISO time`);
  const start = Math.floor(startMs / 3600000) * 3600000;
  const hours = int("hours", 3, 1);
  const filesPerHour = int("files-per-hour", 2);
  const nRecords = int("records", 5, 1);
  const rotateAt = o["rotate-at"] === undefined ? null : int("rotate-at", 0, 1);
  let gap = null;
  if (o.gap !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(o.gap);
    if (!m || Number(m[2]) < 1 || Number(m[1]) + Number(m[2]) >= hours) die(`--gap must be H:L with L >= 1 and H+L < --hours, got "${o.gap}"`);
    gap = { from: Number(m[1]), len: Number(m[2]) };
  }
  const empty = new Set((o["empty-hours"] ?? "").split(",").filter(Boolean).map((h) => {
    const n = Number(h);
    if (!Number.isInteger(n) || n < 0 || n >= hours) die(`--empty-hours: "${h}" is not an hour index below --hours`);
    return n;
  }));
  const backfill = new Set((o["backfill-hours"] ?? "").split(",").filter(Boolean).map((h) => {
    const n = Number(h);
    if (!Number.isInteger(n) || n < 0 || n >= hours || empty.has(n)) die(`--backfill-hours: "${h}" is not a non-empty hour index below --hours`);
    return n;
  }));
  const insightsPerHour = int("insight-files-per-hour", 0);
  const concurrency = int("concurrency", 16, 1);
  if (o["log-source"]) loadSource(o["log-source"]);
  const keysFile = o["keys-file"] ?? env.GATE_CLOUDTRAIL_KEYS;
  const trailsFile = o["trails-file"] ?? env.GATE_CLOUDTRAIL_TRAILS;
  const trailArn = `arn:aws:cloudtrail:${homeRegion}:${trailAccount}:trail/${trail}`;
  const base = (account) => `${prefix ? prefix + "/" : ""}AWSLogs/${org ? org + "/" : ""}${account}`;

  const keyCount = rotateAt === null ? 1 : 2;
  const keys = Object.fromEntries(regions.map((r) => [r, regionKeys(r, keyCount, o["keys-dir"])]));
  const keyValidity = (n) => n === 0
    ? { from: start - 30 * 86400000, to: rotateAt === null ? start + 365 * 86400000 : start + (rotateAt + 1) * 3600000 + 3600000 }
    : { from: start + rotateAt * 3600000, to: start + 365 * 86400000 };

  const uploads = [];   // [key, body, metadata] in write order: logs before the digest listing them
  const manifest = {
    bucket, prefix, trail, trail_arn: trailArn, home_region: homeRegion, organization_id: org, accounts, regions,
    start: iso(start), end: null, keys: [], chains: [], objects: [], digests: [], gaps: [], uncovered: [],
  };
  for (const r of regions) keys[r].forEach((k, n) => {
    const v = keyValidity(n);
    manifest.keys.push({ fingerprint: k.fingerprint, region: r, valid_from: iso(v.from), valid_to: iso(v.to) });
  });
  let lastEnd = 0;
  const kinds = [["CloudTrail", "log", "CloudTrail-Digest", "digest", filesPerHour]];
  if (insightsPerHour > 0) kinds.push(["CloudTrail-Insight", "insight", "CloudTrail-Insight-Digest", "insight-digest", insightsPerHour]);
  for (const account of accounts) for (const region of regions) for (const [logDir, logKind, digestDir, digestKind, perHour] of kinds) {
    const offset = (60 + ri(3400)) * 1000;   // digests end at HH:mm:ss, the same minute each hour
    const chain = { account, region, kind: digestKind, digests: [] };
    manifest.chains.push(chain);
    let prev = null;   // {key, sha256, signature} of the previous digest of the chain
    let gapFrom = null;
    for (let h = 0; h < hours; h++) {
      const from = start + h * 3600000 + offset, to = from + 3600000;
      const inGap = gap && h >= gap.from && h < gap.from + gap.len;
      const nFiles = empty.has(h) || (inGap && !o["gap-logs"]) ? 0 : perHour;
      const logFiles = [];
      for (let f = 0; f < nFiles; f++) {
        const delivered = from + Math.floor(((f + 0.2 + 0.6 * rnd()) * 3600000) / nFiles);
        const recs = records(logKind, account, region, delivered, nRecords);
        const raw = Buffer.from(JSON.stringify({ Records: recs }));
        const key = `${base(account)}/${logDir}/${region}/${ymd(delivered)}/${account}_${logDir}_${region}_${stampMin(delivered)}_${alnum(16)}.json.gz`;
        const body = gzip(raw);
        uploads.push([key, body, undefined]);
        manifest.objects.push({ key, kind: logKind, size: body.length, sha256: sha256(raw), account, region, time: iso(delivered) });
        if (inGap) manifest.uncovered.push(key);
        logFiles.push({ s3Bucket: bucket, s3Object: key, hashValue: sha256(raw), hashAlgorithm: "SHA-256",
          newestEventTime: recs[recs.length - 1].eventTime, oldestEventTime: recs[0].eventTime });
      }
      if (inGap) {
        if (gapFrom === null) gapFrom = from;
        prev = null;
        continue;
      }
      if (gapFrom !== null) { manifest.gaps.push({ account, region, kind: digestKind, from: iso(gapFrom), to: iso(from) }); gapFrom = null; }
      const key = `${base(account)}/${digestDir}/${region}/${ymd(to)}/${account}_${digestDir}_${region}_${trail}_${homeRegion}_${stampSec(to)}.json.gz`;
      const k = keys[region][rotateAt !== null && h >= rotateAt ? 1 : 0];
      const late = backfill.has(h) && logKind === "log" && logFiles.length ? [logFiles.pop()] : [];
      const newest = logFiles.map((l) => l.newestEventTime).sort().pop() ?? null;
      const oldest = logFiles.map((l) => l.oldestEventTime).sort()[0] ?? null;
      const digest = {
        awsAccountId: account, digestStartTime: iso(from), digestEndTime: iso(to), digestS3Bucket: bucket,
        digestS3Object: key, digestPublicKeyFingerprint: k.fingerprint, digestSignatureAlgorithm: "SHA256withRSA",
        newestEventTime: newest, oldestEventTime: oldest,
        previousDigestS3Bucket: prev ? bucket : null, previousDigestS3Object: prev ? prev.key : null,
        previousDigestHashValue: prev ? prev.sha256 : null, previousDigestHashAlgorithm: prev ? "SHA-256" : null,
        previousDigestSignature: prev ? prev.signature : null,
        logFiles,
      };
      const raw = Buffer.from(JSON.stringify(digest));
      const toSign = `${digest.digestEndTime}\n${bucket}/${key}\n${sha256(raw)}\n${prev ? prev.signature : "null"}`;
      const signature = crypto.sign("sha256", Buffer.from(toSign), k.priv).toString("hex");
      const body = gzip(raw);
      uploads.push([key, body, { signature, "signature-algorithm": "SHA256withRSA" }]);
      manifest.objects.push({ key, kind: digestKind, size: body.length, sha256: sha256(raw), account, region, time: iso(to) });
      manifest.digests.push({ key, kind: digestKind, account, region, start: iso(from), end: iso(to), fingerprint: k.fingerprint,
        signature, previous: prev ? prev.key : null, log_files: logFiles.map((l) => l.s3Object) });
      chain.digests.push(key);
      prev = { key, sha256: sha256(raw), signature };
      if (late.length) {   // a backfill digest: the hour's late log file, in a chain of its own
        const bkey = key.replace(/\.json\.gz$/, "_backfill.json.gz");
        const b = { ...digest, digestS3Object: bkey, newestEventTime: late[0].newestEventTime, oldestEventTime: late[0].oldestEventTime,
          previousDigestS3Bucket: null, previousDigestS3Object: null, previousDigestHashValue: null,
          previousDigestHashAlgorithm: null, previousDigestSignature: null, logFiles: late };
        const braw = Buffer.from(JSON.stringify(b));
        const bsig = crypto.sign("sha256", Buffer.from(`${b.digestEndTime}\n${bucket}/${bkey}\n${sha256(braw)}\nnull`), k.priv).toString("hex");
        const generated = iso(to + 2 * 3600000);
        uploads.push([bkey, gzip(braw), { signature: bsig, "signature-algorithm": "SHA256withRSA", "backfill-generation-timestamp": generated }]);
        manifest.objects.push({ key: bkey, kind: digestKind, size: gzip(braw).length, sha256: sha256(braw), account, region, time: iso(to), backfill: true });
        manifest.digests.push({ key: bkey, kind: digestKind, backfill: true, generated, account, region, start: iso(from), end: iso(to),
          fingerprint: k.fingerprint, signature: bsig, previous: null, log_files: [late[0].s3Object] });
      }
      lastEnd = Math.max(lastEnd, to);
    }
  }
  manifest.end = iso(lastEnd);

  if (keysFile) mergeJsonFile(keysFile, (cur) => {
    const list = Array.isArray(cur) ? cur : [];
    const have = new Set(list.map((k) => k.Fingerprint));
    for (const r of regions) keys[r].forEach((k, n) => {
      if (have.has(k.fingerprint)) return;
      const v = keyValidity(n);
      list.push({ Value: k.der.toString("base64"), ValidityStartTime: iso(v.from), ValidityEndTime: iso(v.to), Fingerprint: k.fingerprint, Region: r });
    });
    return list;
  });
  if (trailsFile) mergeJsonFile(trailsFile, (cur) => {
    const doc = cur && Array.isArray(cur.trailList) ? cur : { trailList: [] };
    doc.trailList = doc.trailList.filter((t) => t.TrailARN !== trailArn);
    doc.trailList.push({
      Name: trail, S3BucketName: bucket, ...(prefix ? { S3KeyPrefix: prefix } : {}), IncludeGlobalServiceEvents: true,
      IsMultiRegionTrail: regions.length > 1, HomeRegion: homeRegion, TrailARN: trailArn, LogFileValidationEnabled: true,
      HasCustomEventSelectors: false, HasInsightSelectors: insightsPerHour > 0, IsOrganizationTrail: org !== null,
    });
    if (org) doc.organization = { Id: org, MasterAccountId: trailAccount };
    return doc;
  });

  try { await s3.send(new CreateBucketCommand({ Bucket: bucket })); } catch (e) {
    if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(e.name)) throw e;
  }
  // Logs first, then digests, as CloudTrail delivers them.
  const logsFirst = [...uploads.filter((u) => !u[2]), ...uploads.filter((u) => u[2])];
  await pool(logsFirst, concurrency, ([key, body, md]) => put(key, body, md));
  const text = JSON.stringify(manifest);
  if (o.out) fs.writeFileSync(o.out, text + "\n");
  console.log(text);
}

// ---------------------------------------------------------------- tampering
const need = (name) => o[name] ?? die(`${command}: --${name} is required`);
async function modifyLog() {
  const key = need("key");
  const { body } = await get(key);
  const raw = zlib.gunzipSync(body);
  let changed;
  try {
    const doc = JSON.parse(raw);
    const r = doc.Records[0];
    r.sourceIPAddress = "203.0.113.66";   // an attacker's edit: where the call came from
    changed = Buffer.from(JSON.stringify(doc));
  } catch { changed = Buffer.concat([raw, Buffer.from(" ")]); }
  if (changed.equals(raw)) changed = Buffer.concat([raw, Buffer.from(" ")]);
  await put(key, gzip(changed));
  print({ action: "modify-log", key, old_sha256: sha256(raw), new_sha256: sha256(changed) });
}
async function regzipLog() {
  const key = need("key");
  const { body } = await get(key);
  const raw = zlib.gunzipSync(body);
  // Other compression level and an mtime in the header: other bytes, same uncompressed content.
  let again = zlib.gzipSync(raw, { level: 1 });
  again.writeUInt32LE(1700000000, 4);
  if (again.equals(body)) again = zlib.gzipSync(raw, { level: 9, memLevel: 9 });
  await put(key, again);
  print({ action: "regzip-log", key, sha256: sha256(raw), old_size: body.length, new_size: again.length, bytes_differ: !again.equals(body) });
}
async function del() {
  const key = need("key");
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  print({ action: "delete", key });
}
async function hideLog() {
  const key = need("digest"), log = need("key");
  const { body, metadata } = await get(key);
  const doc = JSON.parse(zlib.gunzipSync(body));
  const before = doc.logFiles.length;
  doc.logFiles = doc.logFiles.filter((l) => l.s3Object !== log);
  if (doc.logFiles.length === before) { console.error(`make-trail: hide-log: ${log} is not listed by ${key}`); process.exit(1); }
  await put(key, gzip(Buffer.from(JSON.stringify(doc))), metadata);
  print({ action: "hide-log", digest: key, key: log, signature_kept: metadata.signature ?? null });
}
async function stripSignature() {
  const key = need("digest");
  const { body } = await get(key);
  await put(key, body);
  print({ action: "strip-signature", digest: key });
}
async function moveDigest() {
  const key = need("digest");
  const m = /^(.*\/)(\d{4}\/\d{2}\/\d{2}\/)(.*_)(\d{8}T\d{6}Z)((?:_backfill)?\.json\.gz)$/.exec(key);
  if (!m) die(`move-digest: --digest "${key}" is not a digest key`);
  const [, dir, , name, stamp, tail] = m;
  const t = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`)
    - int("seconds", 1) * 1000;
  const to = `${dir}${ymd(t)}/${name}${stampSec(t)}${tail}`;
  const { body, metadata } = await get(key);
  await put(to, body, metadata);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  print({ action: "move-digest", digest: key, to });
}
async function injectLog() {
  const like = need("like");
  const m = /^(.*\/)(\d{12})_(CloudTrail(?:-Insight)?)_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json\.gz$/.exec(like);
  if (!m) die(`inject-log: --like "${like}" is not a CloudTrail log file key`);
  const [, dir, account, kind, region, stamp] = m;
  const t = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:00Z`) + int("minutes", 1) * 60000;
  const folder = dir.replace(/\d{4}\/\d{2}\/\d{2}\/$/, ymd(t) + "/");
  const key = `${folder}${account}_${kind}_${region}_${stampMin(t)}_${alnum(16)}.json.gz`;
  const raw = Buffer.from(JSON.stringify({ Records: records(kind === "CloudTrail" ? "log" : "insight", account, region, t, 3) }));
  await put(key, gzip(raw));
  print({ action: "inject-log", key, sha256: sha256(raw), time: iso(t) });
}
async function checkMetadata() {
  const key = `make-trail-metadata-check/${alnum(8)}.json.gz`;
  const md = { signature: hex(512), "signature-algorithm": "SHA256withRSA" };
  try { await s3.send(new CreateBucketCommand({ Bucket: bucket })); } catch (e) {
    if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(e.name)) throw e;
  }
  await put(key, gzip(Buffer.from("{}")), md);
  const g = (await get(key)).metadata;
  const h = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  const ok = (x) => x.signature === md.signature && x["signature-algorithm"] === md["signature-algorithm"];
  print({ action: "check-metadata", endpoint, get_object: ok(g), head_object: ok(h), get_metadata: g, head_metadata: h });
  process.exit(ok(g) && ok(h) ? 0 : 1);
}

const run = { generate, "modify-log": modifyLog, "regzip-log": regzipLog, delete: del, "hide-log": hideLog,
  "strip-signature": stripSignature, "move-digest": moveDigest, "inject-log": injectLog, "check-metadata": checkMetadata }[command];
try {
  await run();
} catch (e) {
  console.error(`make-trail: ${command}: ${e.name}: ${e.message}`);
  process.exit(1);
}
