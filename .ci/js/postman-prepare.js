// Turns the collection that openapi-to-postmanv2 makes from api/openapi.yaml into a test suite
// for the demo gateway: the converter adds no tests, so every request gets assertions here.
//
//   node postman-prepare.js <in.json> <out.json>
//
// Variables: {{baseUrl}}, {{unit}} (every :unit), {{ext}} (every :ext and the created extension's
// number, one the demo does not seed, so create → get → update → delete is a real round trip),
// and {{authHeader}} (the value of Authorization) when AUTH_HEADER is set: the demo requires a
// bearer key once API keys exist.
"use strict";
const fs = require("fs");

const [, , inPath, outPath] = process.argv;
const coll = JSON.parse(fs.readFileSync(inPath, "utf8"));

// Requests that must succeed against a fresh demo, in collection order; the key is
// "METHOD path" with the converter's :variables. Any other request must still never be a 5xx.
const mustSucceed = {
  "GET v1/units": 200,
  "GET v1/units/:unit": 200,
  "POST v1/units/:unit/reset": 200,
  "GET v1/units/:unit/system/status": 200,
  "GET v1/units/:unit/system/version": 200,
  "GET v1/units/:unit/extensions": 200,
  "POST v1/units/:unit/extensions": 201,
  "GET v1/units/:unit/extensions/:ext": 200,
  "PATCH v1/units/:unit/extensions/:ext": 200,
  "DELETE v1/units/:unit/extensions/:ext": 204,
  "POST v1/units/:unit/config/apply": 200,
};

const seen = new Set();
let count = 0;

function prepare(item) {
  if (item.item) {
    item.item.forEach(prepare);
    return;
  }
  const req = item.request;
  const key = `${req.method} ${req.url.path.join("/")}`;
  seen.add(key);
  count++;
  for (const v of req.url.variable || []) {
    if (v.key === "unit") v.value = "{{unit}}";
    if (v.key === "ext") v.value = "{{ext}}";
  }
  // An example page token belongs to another list: start at the first page.
  for (const q of req.url.query || []) {
    if (q.key === "page_token") q.disabled = true;
  }
  if (req.body && req.body.mode === "raw" && key === "POST v1/units/:unit/extensions") {
    req.body.raw = req.body.raw.replace(/("extension"\s*:\s*)"[^"]*"/, '$1"{{ext}}"');
  }
  // Authentication is one header, set (or not) by the runner: the converter's own auth blocks
  // would depend on how the security scheme is named.
  delete req.auth;
  req.header = (req.header || []).filter((h) => h.key.toLowerCase() !== "authorization");
  if (process.env.AUTH_HEADER) {
    req.header.push({ key: "Authorization", value: "{{authHeader}}" });
  }

  const want = mustSucceed[key];
  const exec = [
    `const key = ${JSON.stringify(key)};`,
    `pm.test(key + ": never a 5xx", () => pm.expect(pm.response.code, pm.response.text()).to.be.below(500));`,
    `pm.test(key + ": has X-Request-Id", () => pm.response.to.have.header("X-Request-Id"));`,
    `if (pm.response.code >= 400) {`,
    `  pm.test(key + ": errors are problem+json", () => {`,
    `    pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");`,
    `    const p = pm.response.json();`,
    `    pm.expect(p.status).to.equal(pm.response.code);`,
    `    pm.expect(p.request_id).to.equal(pm.response.headers.get("X-Request-Id"));`,
    `  });`,
    `}`,
    `if ((pm.response.headers.get("Content-Type") || "").startsWith("application/json")) {`,
    `  pm.test(key + ": body is JSON", () => pm.response.json());`,
    `}`,
  ];
  if (want) {
    exec.push(`pm.test(key + ": ${want} in demo", () => pm.expect(pm.response.code, pm.response.text()).to.equal(${want}));`);
  }
  if (want === 200 && req.method === "GET" && !key.includes(":ext")) {
    exec.push(`pm.test(key + ": nothing secret in the reply", () => pm.expect(pm.response.text()).not.to.match(/"(secret|vmsecret|user_password|user_outrt_passwd)"\\s*:/));`);
  }
  item.event = [{ listen: "test", script: { type: "text/javascript", exec } }];
}

coll.item.forEach(prepare);
delete coll.auth;
coll.variable = [
  { key: "baseUrl", value: "http://127.0.0.1:8080" },
  { key: "unit", value: "demo" },
  { key: "ext", value: "2001" },
  { key: "authHeader", value: "" },
];
const missing = Object.keys(mustSucceed).filter((k) => !seen.has(k));
if (missing.length) {
  console.error("postman-prepare: the collection lacks requests the demo run expects:", missing);
  process.exit(1);
}
fs.writeFileSync(outPath, JSON.stringify(coll, null, 2));
console.log(`postman-prepare: ${count} requests, ${Object.keys(mustSucceed).length} of them must succeed in demo`);
