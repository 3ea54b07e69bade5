#!/usr/bin/env node
// seed.mjs: seed the CloudTrail -> S3 -> SQS flow on the loopback peers with the AWS SDK for JavaScript v3.
//
// Creates
//   bucket  cloudtrail-logs (--bucket)           on the S3 endpoint (s3rver-notify by default)
//   queue   ct-s3-events      <- S3 event notifications (QueueConfiguration, prefix AWSLogs/, suffix .json.gz)
//   queue   ct-sns-events     <- SNS topic ct-s3-topic (TopicConfiguration): the SNS envelope around the S3 event
//   queue   ct-native-events  <- SNS topic ct-native-topic: CloudTrail's own notification
//                                {"s3Bucket": ..., "s3ObjectKey": [...]} in an SNS envelope
//   queue   ct-dlq            dead-letter queue: RedrivePolicy target of the three queues
// then uploads CloudTrail files (the given .json.gz/.json files, or --files synthetic ones) under
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz,
// publishes CloudTrail's own notification for each, waits until every queue holds the
// notifications, and prints a JSON summary on stdout (exit 0 when every queue got them, 1 when
// not, 2 on bad arguments).
//
// usage: node seed.mjs [options] [FILE|DIR ...]
//   FILE|DIR                 files to upload (DIR: every *.json(.gz), *.jsonl(.gz) and *.gz below it,
//                            sorted). A path containing "AWSLogs/" or "firehose/" keeps its key from
//                            there; other files get a CloudTrail key built from --account/--region
//                            and a fixed date. Plain .json/.jsonl files are gzipped (key + ".gz").
//   --notify-prefix P        key prefix rule of the S3 notifications (default AWSLogs/; "" none)
//   --notify-suffix S        key suffix rule of the S3 -> SQS notification (default .json.gz; "" none)
//   --sqs-endpoint URL       SQS and SNS (default $GATE_ENDPOINT, else $FAUXQS_ENDPOINT, else http://127.0.0.1:4566)
//   --s3-endpoint URL        S3 (default $GATE_ENDPOINT, else $S3_ENDPOINT, else http://127.0.0.1:4568)
//   --region R               (default $AWS_REGION or us-east-1)
//   --key AKID --secret S    credentials (default $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY or test/test)
//   --bucket NAME            (default cloudtrail-logs)
//   --account ID             account id in the key layout (default 123456789012)
//   --files N --records M    N synthetic CloudTrail files of M records each, besides the given
//                            files (default: 3 files when no FILE is given, else 0; M default 5)
//   --name-suffix S          inserted before ".json.gz" in synthetic keys, e.g. " a+b" to
//                            exercise URL-encoded keys in S3 event notifications
//   --queue-prefix P         prefix for every queue and topic name (default none)
//   --max-receive-count N    redrive maxReceiveCount of the three queues (default 3)
//   --visibility-timeout S   queue VisibilityTimeout in seconds (default 30)
//   --routes LIST            comma list of s3,sns,native: which notifications to configure
//                            (default s3,sns,native)
//   --raw-delivery           subscribe the SNS queues with RawMessageDelivery=true: the queues then
//                            receive the published message itself, without the SNS envelope
//   --manual-notify          do not configure S3 notifications: send hand-made S3 event records
//                            (same format as S3's) to ct-s3-events / ct-s3-topic instead
//   --drop-test-events       wait for the s3:TestEvent messages S3 sends when notifications are
//                            configured and purge them before uploading
//   --seed N                 random seed for synthetic files (default 42)
//   --wait-s S               how long to wait for the notifications (default 15)
//   --out FILE               also write the JSON summary to FILE
// Summary: {notification_mode, bucket, region, account, objects:[{key,size,etag,records}],
//           queues:{name:{url,arn,messages,expected}}, topics:{name:arn}, endpoints:{sqs,s3}}
// "messages" is ApproximateNumberOfMessages after the wait; "expected" counts the s3:TestEvent
// messages too unless --drop-test-events.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, PutBucketNotificationConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
} from "@aws-sdk/client-s3";
import {
  SQSClient, CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, PurgeQueueCommand,
} from "@aws-sdk/client-sqs";
import { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand } from "@aws-sdk/client-sns";

const env = process.env;
const die = (msg) => { console.error(`seed: ${msg}`); process.exit(2); };
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      "sqs-endpoint": { type: "string" }, "s3-endpoint": { type: "string" }, region: { type: "string" },
      key: { type: "string" }, secret: { type: "string" }, bucket: { type: "string" }, account: { type: "string" },
      files: { type: "string" }, records: { type: "string" }, "name-suffix": { type: "string" }, "notify-prefix": { type: "string" }, "notify-suffix": { type: "string" },
      "queue-prefix": { type: "string" }, "max-receive-count": { type: "string" },
      "visibility-timeout": { type: "string" }, routes: { type: "string" },
      "manual-notify": { type: "boolean" }, "raw-delivery": { type: "boolean" }, "drop-test-events": { type: "boolean" },
      seed: { type: "string" }, "wait-s": { type: "string" }, out: { type: "string" }, help: { type: "boolean" },
    },
  });
} catch (e) { die(e.message); }
const o = parsed.values;
if (o.help) {
  const src = fs.readFileSync(new URL(import.meta.url), "utf8").split("\n");
  console.log(src.slice(1, src.findIndex((l) => l.startsWith("import"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
  process.exit(0);
}
const int = (name, v, dflt) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) die(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
};
const a = {
  sqs: o["sqs-endpoint"] ?? env.GATE_ENDPOINT ?? env.FAUXQS_ENDPOINT ?? "http://127.0.0.1:4566",
  s3: o["s3-endpoint"] ?? env.GATE_ENDPOINT ?? env.S3_ENDPOINT ?? "http://127.0.0.1:4568",
  region: o.region ?? env.AWS_REGION ?? "us-east-1",
  key: o.key ?? env.AWS_ACCESS_KEY_ID ?? "test",
  secret: o.secret ?? env.AWS_SECRET_ACCESS_KEY ?? "test",
  bucket: o.bucket ?? "cloudtrail-logs",
  account: o.account ?? "123456789012",
  files: int("files", o.files, parsed.positionals.length ? 0 : 3),
  records: int("records", o.records, 5),
  nameSuffix: o["name-suffix"] ?? "",
  notifyPrefix: o["notify-prefix"] ?? "AWSLogs/", notifySuffix: o["notify-suffix"] ?? ".json.gz",
  prefix: o["queue-prefix"] ?? "",
  maxReceive: int("max-receive-count", o["max-receive-count"], 3),
  visibility: int("visibility-timeout", o["visibility-timeout"], 30),
  routes: new Set((o.routes ?? "s3,sns,native").split(",").filter(Boolean)),
  manual: !!o["manual-notify"],
  raw: !!o["raw-delivery"],
  dropTest: !!o["drop-test-events"],
  seed: int("seed", o.seed, 42),
  waitS: int("wait-s", o["wait-s"], 15),
};
for (const r of a.routes) if (!["s3", "sns", "native"].includes(r)) die(`--routes: unknown route "${r}" (known: s3, sns, native)`);

// Deterministic PRNG (mulberry32) so a seed gives the same synthetic files.
let state = a.seed >>> 0;
const rnd = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;

const common = {
  region: a.region,
  credentials: { accessKeyId: a.key, secretAccessKey: a.secret },
  maxAttempts: 3,
};
const sqs = new SQSClient({ ...common, endpoint: a.sqs });
const sns = new SNSClient({ ...common, endpoint: a.sqs });
// Path-style (loopback has no <bucket>.host DNS); checksums only when required, because the
// emulators predate the SDK's default CRC32 trailers.
const s3 = new S3Client({
  ...common, endpoint: a.s3, forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED",
});

async function queue(name, redriveArn) {
  const attrs = { VisibilityTimeout: String(a.visibility) };
  if (redriveArn) attrs.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: redriveArn, maxReceiveCount: String(a.maxReceive) });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: a.prefix + name, Attributes: attrs }));
  const got = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  return { url: QueueUrl, arn: got.Attributes.QueueArn };
}
const depth = async (url) => {
  const got = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
  return parseInt(got.Attributes.ApproximateNumberOfMessages, 10);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- queues, topics, bucket
const dlq = await queue("ct-dlq");
const queues = { "ct-dlq": dlq };
if (a.routes.has("s3")) queues["ct-s3-events"] = await queue("ct-s3-events", dlq.arn);
if (a.routes.has("sns")) queues["ct-sns-events"] = await queue("ct-sns-events", dlq.arn);
if (a.routes.has("native")) queues["ct-native-events"] = await queue("ct-native-events", dlq.arn);
const topics = {};
async function topic(name, q) {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: a.prefix + name }));
  const Attributes = a.raw ? { RawMessageDelivery: "true" } : undefined;
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: q.arn, Attributes }));
  topics[name] = TopicArn;
  return TopicArn;
}
if (a.routes.has("sns")) await topic("ct-s3-topic", queues["ct-sns-events"]);
if (a.routes.has("native")) await topic("ct-native-topic", queues["ct-native-events"]);

try {
  await s3.send(new CreateBucketCommand({ Bucket: a.bucket }));
} catch (e) {
  if (!["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(e.name)) throw e;
}

let mode = a.routes.has("s3") || a.routes.has("sns") ? "manual" : "none";
if (!a.manual && mode !== "none") {
  const cfg = {};
  if (a.routes.has("s3")) cfg.QueueConfigurations = [{
    Id: "ct-to-sqs", QueueArn: queues["ct-s3-events"].arn, Events: ["s3:ObjectCreated:*"],
    Filter: { Key: { FilterRules: [
      ...(a.notifyPrefix ? [{ Name: "prefix", Value: a.notifyPrefix }] : []),
      ...(a.notifySuffix ? [{ Name: "suffix", Value: a.notifySuffix }] : [])] } },
  }];
  if (a.routes.has("sns")) cfg.TopicConfigurations = [{
    Id: "ct-to-sns", TopicArn: topics["ct-s3-topic"], Events: ["s3:ObjectCreated:*"],
    Filter: { Key: { FilterRules: a.notifyPrefix ? [{ Name: "prefix", Value: a.notifyPrefix }] : [] } },
  }];
  try {
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: a.bucket, NotificationConfiguration: cfg }));
    const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: a.bucket }));
    if ((got.QueueConfigurations?.length ?? 0) + (got.TopicConfigurations?.length ?? 0) > 0) mode = "s3";
    else console.error("seed: the S3 endpoint accepted but did not keep the notification configuration; sending notifications by hand");
  } catch (e) {
    console.error(`seed: PutBucketNotificationConfiguration failed (${e.name}: ${e.message}); sending notifications by hand`);
  }
}
// S3 sends one s3:TestEvent per destination when the configuration is set.
const testEvents = {};
if (mode === "s3") for (const n of ["ct-s3-events", "ct-sns-events"]) if (queues[n]) testEvents[n] = 1;
if (a.dropTest && mode === "s3") {
  const deadline = Date.now() + a.waitS * 1000;
  for (const n of Object.keys(testEvents)) {
    while (Date.now() < deadline && (await depth(queues[n].url)) < 1) await sleep(100);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queues[n].url }));
    testEvents[n] = 0;
  }
}

// ---------------------------------------------------------------- CloudTrail files
function ctRecord(t) {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "IAMUser", principalId: "AIDA" + hex(17).toUpperCase(), arn: `arn:aws:iam::${a.account}:user/alice`,
      accountId: a.account, userName: "alice" },
    eventTime: t.toISOString().replace(/\.\d{3}Z$/, "Z"),
    eventSource: pick(["signin.amazonaws.com", "s3.amazonaws.com", "iam.amazonaws.com"]),
    eventName: pick(["ConsoleLogin", "GetObject", "CreateUser", "AssumeRole"]), awsRegion: a.region,
    sourceIPAddress: `198.51.100.${1 + Math.floor(rnd() * 253)}`, userAgent: "aws-cli/2.9.19",
    requestParameters: null, responseElements: null, requestID: uuid(), eventID: uuid(),
    readOnly: rnd() < 0.5, eventType: "AwsApiCall", managementEvent: true, recipientAccountId: a.account,
    eventCategory: "Management",
  };
}
const pad = (n) => String(n).padStart(2, "0");
const keyFor = (t, suffix) => {
  const day = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}`;
  const stamp = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}T${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}Z`;
  return `AWSLogs/${a.account}/CloudTrail/${a.region}/${day}/${a.account}_CloudTrail_${a.region}_${stamp}_${hex(16)}${suffix}.json.gz`;
};

const uploads = []; // {key, body, records}
function walk(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e), out);
  else if (/\.jsonl?(\.gz)?$|\.gz$/.test(p)) out.push(p);
}
const given = [];
for (const p of parsed.positionals) {
  if (!fs.existsSync(p)) die(`no such file or directory: ${p}`);
  walk(p, given);
}
const base = Date.UTC(2024, 0, 15, 12, 0, 0);
given.forEach((file, i) => {
  let body = fs.readFileSync(file);
  const gz = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
  if (!gz) body = zlib.gzipSync(body);
  let records = null;
  try { records = JSON.parse(zlib.gunzipSync(body).toString("utf8")).Records?.length ?? null; } catch { records = null; }
  const at = Math.max(file.lastIndexOf("AWSLogs/"), file.lastIndexOf("firehose/"));
  const key = at >= 0 ? file.slice(at).replace(/\.(jsonl?)$/, ".$1.gz") : keyFor(new Date(base + i * 60000), "");
  uploads.push({ key, body, records });
});
for (let i = 0; i < a.files; i++) {
  const t = new Date(base + 5 * 60000 * i);
  const recs = Array.from({ length: a.records }, (_, j) => ctRecord(new Date(t.getTime() + j * 1000)));
  uploads.push({ key: keyFor(t, a.nameSuffix), body: zlib.gzipSync(Buffer.from(JSON.stringify({ Records: recs }))), records: a.records });
}

// S3's own URL encoding of keys in event records ('/' kept, space -> '+').
const encodeKey = (k) => encodeURIComponent(k).replace(/%2F/g, "/").replace(/%20/g, "+")
  .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const s3Event = (key, size, etag, configId) => JSON.stringify({ Records: [{
  eventVersion: "2.1", eventSource: "aws:s3", awsRegion: a.region, eventTime: new Date().toISOString(),
  eventName: "ObjectCreated:Put", userIdentity: { principalId: "AWS:AIDAPEERSKITEXAMPLE" },
  requestParameters: { sourceIPAddress: "127.0.0.1" },
  responseElements: { "x-amz-request-id": hex(16).toUpperCase(), "x-amz-id-2": "seed" },
  s3: { s3SchemaVersion: "1.0", configurationId: configId,
    bucket: { name: a.bucket, ownerIdentity: { principalId: "A3PEERSKITEXAMPLE" }, arn: `arn:aws:s3:::${a.bucket}` },
    object: { key: encodeKey(key), size, eTag: etag, sequencer: Date.now().toString(16).toUpperCase() } } }] });

// Which keys the notification filters pass (the same rules for notifications sent by hand).
const toQueue = (k) => k.startsWith(a.notifyPrefix) && k.endsWith(a.notifySuffix);
const toTopic = (k) => k.startsWith(a.notifyPrefix);
const objects = [];
for (const u of uploads) {
  const put = await s3.send(new PutObjectCommand({ Bucket: a.bucket, Key: u.key, Body: u.body, ContentType: "application/json" }));
  const etag = (put.ETag ?? "").replace(/"/g, "");
  objects.push({ key: u.key, size: u.body.length, etag, records: u.records });
  if (mode === "manual") {
    if (queues["ct-s3-events"] && toQueue(u.key)) await sqs.send(new SendMessageCommand({ QueueUrl: queues["ct-s3-events"].url, MessageBody: s3Event(u.key, u.body.length, etag, "ct-to-sqs") }));
    if (topics["ct-s3-topic"] && toTopic(u.key)) await sns.send(new PublishCommand({ TopicArn: topics["ct-s3-topic"], Subject: "Amazon S3 Notification", Message: s3Event(u.key, u.body.length, etag, "ct-to-sns") }));
  }
  // CloudTrail's own SNS notification: one per delivered file, key not URL-encoded.
  if (topics["ct-native-topic"])
    await sns.send(new PublishCommand({ TopicArn: topics["ct-native-topic"], Message: JSON.stringify({ s3Bucket: a.bucket, s3ObjectKey: [u.key] }) }));
}

// ---------------------------------------------------------------- wait and report
const expected = {};
const passing = { "ct-s3-events": toQueue, "ct-sns-events": toTopic, "ct-native-events": () => true };
for (const n of ["ct-s3-events", "ct-sns-events", "ct-native-events"])
  if (queues[n]) expected[n] = objects.filter((o) => passing[n](o.key)).length + (testEvents[n] ?? 0);
expected["ct-dlq"] = 0;
const deadline = Date.now() + a.waitS * 1000;
const counts = {};
for (;;) {
  for (const [n, q] of Object.entries(queues)) counts[n] = await depth(q.url);
  const ok = Object.keys(expected).every((n) => counts[n] >= expected[n]);
  if (ok || Date.now() >= deadline) break;
  await sleep(100);
}
const summary = {
  notification_mode: mode, bucket: a.bucket, region: a.region, account: a.account, objects,
  queues: Object.fromEntries(Object.entries(queues).map(([n, q]) => [n, { url: q.url, arn: q.arn, messages: counts[n], expected: expected[n] }])),
  topics, endpoints: { sqs: a.sqs, s3: a.s3 },
};
const text = JSON.stringify(summary, null, 2);
console.log(text);
if (o.out) fs.writeFileSync(o.out, text + "\n");
const ok = Object.keys(expected).every((n) => counts[n] >= expected[n]);
if (!ok) console.error("seed: not every queue received its notifications in time: " + JSON.stringify({ counts, expected }));
process.exit(ok ? 0 : 1);
