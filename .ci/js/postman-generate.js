// `make postman`: generates postman/ucm-gateway.postman_collection.json and
// postman/demo.postman_environment.json from api/openapi.yaml with portman (pinned in
// package.json), configured by postman/portman-config.json (tests, order, variables) and
// postman/postman-config.json (openapi-to-postmanv2's options).
//
//   node .ci/js/postman-generate.js
//
// This script only does what portman cannot:
//   - it resolves the spec's YAML merge keys (`<<: *anchor`) first: portman's parser keeps "<<"
//     as a property name, so the schemas in its tests would lose every merged field;
//   - it runs portman in a scratch directory (portman writes ./tmp) with no PORTMAN_* variables
//     (portman turns them into collection variables);
//   - it strips what changes on every run (random ids), so that regenerating leaves the tree
//     unchanged, and the event streams, which a Postman run cannot follow;
//   - it writes the environment: baseUrl, unit and bearerToken, for `make run`.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const yaml = require("js-yaml");

const root = path.resolve(__dirname, "../..");
const outDir = path.join(root, "postman");
const collectionPath = path.join(outDir, "ucm-gateway.postman_collection.json");
const environmentPath = path.join(outDir, "demo.postman_environment.json");
const baseUrl = "http://localhost:8080"; // where `make run` listens

const work = fs.mkdtempSync(path.join(os.tmpdir(), "ucm-postman-"));
try {
  const spec = yaml.load(fs.readFileSync(path.join(root, "api/openapi.yaml"), "utf8"));
  const specPath = path.join(work, "openapi.json");
  fs.writeFileSync(specPath, JSON.stringify(spec));

  // "file:" script paths in the config are relative to the repository root.
  const config = JSON.parse(fs.readFileSync(path.join(outDir, "portman-config.json"), "utf8"), (key, value) =>
    typeof value === "string" && value.startsWith("file:") ? "file:" + path.join(root, value.slice(5)) : value);
  const configPath = path.join(work, "portman-config.json");
  fs.writeFileSync(configPath, JSON.stringify(config));

  const rawPath = path.join(work, "collection.json");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PORTMAN_")));
  try {
    execFileSync(path.join(__dirname, "node_modules/.bin/portman"), [
      "--local", specPath, "--output", rawPath, "--baseUrl", baseUrl,
      "--portmanConfigFile", configPath, "--postmanConfigFile", path.join(outDir, "postman-config.json"),
      "--envFile", path.join(work, "none.env"), "--collectionName", spec.info.title,
    ], { cwd: work, env, stdio: "pipe" });
  } catch (e) {
    process.stderr.write(`${e.stdout || ""}${e.stderr || ""}`);
    throw new Error("portman failed");
  }

  const collection = withoutStreams(JSON.parse(fs.readFileSync(rawPath, "utf8")));
  fs.writeFileSync(collectionPath, JSON.stringify(stable(collection), null, 2) + "\n");
  fs.writeFileSync(environmentPath, JSON.stringify(environment(), null, 2) + "\n");
  console.log(`postman: wrote ${path.relative(root, collectionPath)} (${count(collection)} requests) and ${path.relative(root, environmentPath)}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

// withoutStreams drops what a collection run against the demo cannot exercise: the event streams
// (GET …/events, text/event-stream: a stream lasts until the client leaves, and the runner would
// wait on it forever; .ci/events-tour.sh and the typed clients' tours follow them), accepting or
// refusing an inbound call (one rings the demo only once a minute; the Go end-to-end tests and
// TestDemoLiveEvents cover them), resuming a webhook (the demo configures none) and reloading the
// configuration (the demo has no file: TestReloadAddsAUnitAndRotatesAKey… covers it).
function withoutStreams(node) {
  const notRunnable = new Set(["events", "accept", "refuse", "resume", "reload"]);
  if (Array.isArray(node.item)) {
    node.item = node.item
      .filter((it) => !(it.request && it.request.url && notRunnable.has((it.request.url.path || []).at(-1))))
      .map(withoutStreams)
      .filter((it) => !Array.isArray(it.item) || it.item.length > 0);
  }
  return node;
}

// stable drops the fields that are random on every run: Postman makes new ids on import.
function stable(value) {
  if (Array.isArray(value)) return value.map(stable);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "id" || k === "_postman_id" || k === "_" || k === "_portman_operation") continue;
    out[k] = stable(v);
  }
  return out;
}

function environment() {
  return {
    name: "ucm-gateway demo (make run)",
    values: [
      { key: "baseUrl", value: baseUrl, type: "default", enabled: true },
      { key: "unit", value: "demo", type: "default", enabled: true },
      // The key `make run` prints (export UCM_GATEWAY_KEY=…); it changes on every start unless
      // UCM_GATEWAY_DEMO_KEY fixes it.
      { key: "bearerToken", value: "", type: "secret", enabled: true },
    ],
    _postman_variable_scope: "environment",
  };
}

function count(node) {
  return (node.item || []).reduce((n, i) => n + (i.item ? count(i) : 1), 0);
}
