// The TypeScript tour: lists the extensions of unit demo page by page, places a call from 1000 to
// 1003, waits until it is answered and hangs up, through the generated client. CI runs it
// against the demo gateway; against `make run`:
//
//   export UCM_GATEWAY_KEY=…   # the line make run printed
//   cd clients/ts && npm ci && npm run tour
//
// UCM_GATEWAY_URL overrides the gateway's address (default http://localhost:8080).
import { randomUUID } from "node:crypto";
import { createGatewayClient } from "ucm-gateway-client";

const api = createGatewayClient(process.env.UCM_GATEWAY_URL || "http://localhost:8080", process.env.UCM_GATEWAY_KEY ?? "");
const unit = "demo";

// fail reports an answer the tour did not expect: the gateway's problem+json says why.
function fail(what: string, response: Response, error: unknown): never {
  throw new Error(`${what}: HTTP ${response.status}: ${JSON.stringify(error)}`);
}

// 1. Every extension, following next_page_token.
let pageToken: string | undefined;
let count = 0;
do {
  const { data, error, response } = await api.GET("/v1/units/{unit}/extensions", {
    params: { path: { unit }, query: { page_size: 2, page_token: pageToken } },
  });
  if (!data) fail("list extensions", response, error);
  for (const e of data.items) {
    count++;
    console.log(`extension ${e.extension}  ${(e.status ?? "").padEnd(11)} ${e.fullname ?? ""}`);
  }
  pageToken = data.next_page_token;
} while (pageToken);
console.log(`${count} extensions on unit ${unit}`);

// 2. Live events: subscribe here, before dialling, once the gateway has an event stream
// (GET /v1/units/{unit}/events), and print the call.* events of the call placed below.

// 3. Place a call: 1000 rings first, then it is connected to 1003. The Idempotency-Key makes a
// retry of this request safe.
const placed = await api.POST("/v1/units/{unit}/calls", {
  params: { path: { unit }, header: { "Idempotency-Key": randomUUID() } },
  body: { from: "1000", to: { type: "extension", number: "1003" } },
});
if (!placed.data) fail("place a call", placed.response, placed.error);
const id = placed.data.id;
console.log(`call ${id}: ${placed.data.status}`);

// 4. Watch it until it is answered (the demo rings for 3 s).
const deadline = Date.now() + 15_000;
for (let status = placed.data.status; status !== "in-progress"; ) {
  if (Date.now() > deadline) throw new Error("the call was not answered in time");
  await new Promise((resolve) => setTimeout(resolve, 250));
  const { data, error, response } = await api.GET("/v1/units/{unit}/calls/{call}", { params: { path: { unit, call: id } } });
  if (!data) fail("get the call", response, error);
  if (data.status !== status) {
    status = data.status;
    console.log(`call ${id}: ${status} (${data.channels.length} channels)`);
  }
}

// 5. Hang up: the answer carries the call's final status.
const ended = await api.DELETE("/v1/units/{unit}/calls/{call}", { params: { path: { unit, call: id } } });
if (!ended.data) fail("hang up", ended.response, ended.error);
console.log(`call ${id}: ${ended.data.status}`);
