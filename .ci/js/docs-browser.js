// Loads the gateway's /docs in headless Chromium with every other origin blocked (as on an
// isolated LAN), checks that Swagger UI renders every operation of the spec, then uses
// "Try it out" on getExtension and checks that the call succeeds, then tries out reads with the
// values Swagger UI pre-fills from the spec and checks that they work against the demo.
//
//   BASE_URL=http://127.0.0.1:8080 [AUTH_HEADER='Authorization: Bearer …'] [SCREENSHOT=docs.png] node docs-browser.js
"use strict";
const { chromium } = require("playwright-core");

const base = process.env.BASE_URL || "http://127.0.0.1:8080";
const origin = new URL(base).origin;

function fail(msg) {
  console.error("docs-browser: FAIL:", msg);
  process.exitCode = 1;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    const headers = {};
    if (process.env.AUTH_HEADER) {
      const i = process.env.AUTH_HEADER.indexOf(":");
      headers[process.env.AUTH_HEADER.slice(0, i).trim()] = process.env.AUTH_HEADER.slice(i + 1).trim();
    }
    const context = await browser.newContext({ extraHTTPHeaders: headers, viewport: { width: 1280, height: 2000 } });
    const offsite = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + "/") || url.startsWith("data:")) return route.continue();
      offsite.push(url);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
    page.on("requestfailed", (r) => { if (r.url().startsWith(origin)) problems.push("request failed: " + r.url()); });

    // What the page must show: every operation in the served spec.
    const specResp = await context.request.get(base + "/openapi.json");
    const spec = await specResp.json();
    const ops = [];
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const m of ["get", "put", "post", "delete", "options", "head", "patch", "trace"]) {
        if (item[m]) ops.push({ method: m, path, id: item[m].operationId, summary: item[m].summary });
      }
    }

    const resp = await page.goto(base + "/docs", { waitUntil: "networkidle" });
    if (!resp || resp.status() !== 200) fail(`GET /docs ended with ${resp && resp.status()}`);
    if (!page.url().endsWith("/docs/")) fail(`/docs did not land on /docs/: ${page.url()}`);
    await page.waitForSelector(".opblock", { timeout: 20000 });
    const title = (await page.textContent(".info .title")) || "";
    if (!title.includes(spec.info.title)) fail(`title ${JSON.stringify(title)} lacks ${spec.info.title}`);

    const rendered = await page.$$eval(".opblock", (els) => els.map((e) => e.id));
    for (const op of ops) {
      if (!rendered.some((id) => id.toLowerCase().endsWith("-" + op.id.toLowerCase()))) fail(`operation ${op.id} (${op.method.toUpperCase()} ${op.path}) is not rendered`);
    }
    console.log(`docs-browser: ${rendered.length} operations rendered, ${ops.length} in the spec`);
    if (rendered.length !== ops.length) fail(`rendered ${rendered.length} operations, the spec has ${ops.length}`);

    // Try it out: GET /v1/units/{unit}/extensions/{ext} with unit=demo, ext=1000.
    const op = page.locator('.opblock[id$="-getExtension" i]');
    await op.locator(".opblock-summary").first().click();
    await op.locator("button.try-out__btn").click();
    for (const [name, value] of [["unit", "demo"], ["ext", "1000"]]) {
      const input = op.locator(`tr[data-param-name="${name}"] input`);
      await input.fill(value);
    }
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor({ timeout: 15000 });
    const code = (await status.textContent()).trim();
    const body = (await op.locator(".live-responses-table .response-col_description pre").first().textContent()) || "";
    console.log(`docs-browser: try it out GET /v1/units/demo/extensions/1000 -> ${code}`);
    if (code !== "200") fail(`try it out answered ${code}: ${body.slice(0, 300)}`);
    if (!body.includes('"extension": "1000"')) fail(`try it out body lacks the extension: ${body.slice(0, 300)}`);

    // Try it out as a newcomer does, changing nothing: the values Swagger UI pre-fills from the
    // spec's examples must work against `make run` (unit demo, the demo's seeded ids, no page
    // token from another list). Reads only, and one read-only action: the demo stays as seeded.
    await page.goto(base + "/docs/", { waitUntil: "networkidle" }); // no #fragment: nothing open
    await page.waitForSelector(".opblock", { timeout: 20000 });
    for (const id of ["getUnit", "getSystemStatus", "listExtensions", "getExtension", "listSipTrunks",
      "getAnalogTrunk", "listDigitalTrunks", "listCalls", "getCall", "listCdrs", "runAction"]) {
      const block = page.locator(`.opblock[id$="-${id}" i]`);
      await block.locator(".opblock-summary").first().click();
      await block.locator("button.try-out__btn").click();
      await block.locator("button.execute").click();
      const cell = block.locator(".live-responses-table tr.response .response-col_status").first();
      await cell.waitFor({ timeout: 15000 });
      const got = (await cell.textContent()).trim();
      const url = ((await block.locator(".request-url pre").first().textContent()) || "").trim();
      console.log(`docs-browser: pre-filled try it out ${id}: ${url} -> ${got}`);
      if (got !== "200") {
        const text = (await block.locator(".live-responses-table .response-col_description pre").first().textContent()) || "";
        fail(`pre-filled try it out of ${id} answered ${got}: ${text.slice(0, 300)}`);
      }
      await block.locator(".opblock-summary").first().click();
    }

    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
    if (offsite.length) fail("the page tried to reach other origins: " + offsite.join(", "));
    if (problems.length) fail(problems.join("\n"));
  } finally {
    await browser.close();
  }
  if (!process.exitCode) console.log("docs-browser: /docs works offline and try it out succeeds");
})().catch((e) => {
  console.error("docs-browser: FAIL:", e);
  process.exit(1);
});
