#!/usr/bin/env node
// send-notifications.mjs: send one S3 ObjectCreated:Put notification per key (in the order given)
// to an SQS queue, as S3 would for objects already in a bucket (e.g. written by make-trail.mjs).
//
// usage: node send-notifications.mjs --sqs-endpoint URL --queue-url URL --bucket NAME [--delay-seconds N] KEY...
//   --delay-seconds N   the messages become visible N seconds later (SQS DelaySeconds)
// exit 0, 1 on an SQS failure, 2 on bad arguments.
import { parseArgs } from "node:util";
import { SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";

process.removeAllListeners("warning");
let a;
try {
  a = parseArgs({ allowPositionals: true, options: {
    "sqs-endpoint": { type: "string" }, "queue-url": { type: "string" }, bucket: { type: "string" },
    region: { type: "string", default: "us-east-1" }, "delay-seconds": { type: "string", default: "0" } } });
} catch (e) {
  console.error(String(e));
  process.exit(2);
}
const o = a.values;
if (!o["sqs-endpoint"] || !o["queue-url"] || !o.bucket) {
  console.error("usage: send-notifications.mjs --sqs-endpoint URL --queue-url URL --bucket NAME KEY...");
  process.exit(2);
}
const sqs = new SQSClient({ region: o.region, endpoint: o["sqs-endpoint"], credentials: { accessKeyId: "test", secretAccessKey: "test" } });
const body = (key) => JSON.stringify({ Records: [{ eventVersion: "2.1", eventSource: "aws:s3", awsRegion: o.region,
  eventTime: new Date().toISOString(), eventName: "ObjectCreated:Put",
  s3: { s3SchemaVersion: "1.0", bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"), size: 1 } } }] });
try {
  const keys = a.positionals;
  for (let i = 0; i < keys.length; i += 10) {
    const entries = keys.slice(i, i + 10).map((k, j) => ({ Id: String(i + j), MessageBody: body(k),
      DelaySeconds: Number(o["delay-seconds"]) }));
    const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: o["queue-url"], Entries: entries }));
    if (r.Failed?.length) throw new Error(`SendMessageBatch failed for ${r.Failed.length} entries: ${r.Failed[0].Message}`);
  }
  console.log(JSON.stringify({ sent: keys.length }));
} catch (e) {
  console.error(`send-notifications: ${e.message ?? e}`);
  process.exit(1);
}
