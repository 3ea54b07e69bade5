#!/usr/bin/env node
// put-objects.mjs: upload a directory tree to a bucket as it is (key = path below DIR), without
// notifications, and optionally create queues; for backfill tests, which read what a bucket
// already holds.
//
// usage: node put-objects.mjs --s3-endpoint URL --bucket NAME [--sqs-endpoint URL --queue NAME ...] DIR
// prints {"bucket":..., "objects":[{"key","size"}], "queues":{name:url}} on stdout; exit 0, 1 on
// failure, 2 on bad arguments.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { S3Client, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SQSClient, CreateQueueCommand } from "@aws-sdk/client-sqs";

let a;
try {
  a = parseArgs({
    allowPositionals: true,
    options: {
      "s3-endpoint": { type: "string" }, "sqs-endpoint": { type: "string" }, bucket: { type: "string" },
      queue: { type: "string", multiple: true }, region: { type: "string", default: "us-east-1" },
    },
  });
} catch (e) {
  console.error(String(e));
  process.exit(2);
}
const o = a.values;
if (!o["s3-endpoint"] || !o.bucket || a.positionals.length !== 1) {
  console.error("usage: put-objects.mjs --s3-endpoint URL --bucket NAME [--sqs-endpoint URL --queue NAME] DIR");
  process.exit(2);
}
const common = { region: o.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const s3 = new S3Client({ ...common, endpoint: o["s3-endpoint"], forcePathStyle: true });
const dir = a.positionals[0];
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))
  .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
try {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: o.bucket }));
  } catch (e) {
    if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(e.name)) throw e;
  }
  const objects = [];
  for (const f of walk(dir)) {
    const key = path.relative(dir, f).split(path.sep).join("/");
    const body = fs.readFileSync(f);
    await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: body }));
    objects.push({ key, size: body.length });
  }
  const queues = {};
  if (o.queue) {
    const sqs = new SQSClient({ ...common, endpoint: o["sqs-endpoint"] });
    for (const q of o.queue)
      queues[q] = (await sqs.send(new CreateQueueCommand({ QueueName: q, Attributes: { VisibilityTimeout: "30" } }))).QueueUrl;
  }
  console.log(JSON.stringify({ bucket: o.bucket, objects, queues }));
} catch (e) {
  console.error(`put-objects: ${e.name}: ${e.message}`);
  process.exit(1);
}
