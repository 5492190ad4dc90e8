// The TypeScript tour: lists the extensions of unit demo page by page, follows the unit's call
// events, places a call from 1000 to 1003, watches it on the stream until it is answered and hangs
// up, through the generated client. CI runs it
// against the demo gateway; against `make run`:
//
//   export UCM_GATEWAY_KEY=…   # the line make run printed
//   cd clients/ts && npm ci && npm run tour
//
// UCM_GATEWAY_URL overrides the gateway's address (default http://localhost:8080).
import { randomUUID } from "node:crypto";
import { createGatewayClient, readEvents, type Event, type components } from "ucm-gateway-client";

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

// 2. Live events: follow the unit's call events on a Server-Sent Events stream. A new stream
// starts with the unit's state once the gateway watches the unit: dial after it, and the call's
// whole life is on the stream.
const stream = await api.GET("/v1/units/{unit}/events", {
  params: { path: { unit }, query: { types: ["call.*", "unit.state"] } },
  querySerializer: { array: { style: "form", explode: false } }, // types=call.*,unit.state
  parseAs: "stream",
});
if (!stream.data) fail("follow the events", stream.response, stream.error);
const events = readEvents(stream.data);
const first = await events.next();
if (first.done || first.value.event.type !== "unit.state") throw new Error("the event stream did not start with the unit's state");
const state = first.value.event.data as components["schemas"]["UnitStateEventData"];
console.log(`unit ${unit}: events ${state.state} (from its ${state.source})`);

// follow prints the events of call id until one of type until arrives.
async function follow(id: string, until: Event["type"]) {
  const deadline = setTimeout(() => { throw new Error(`no ${until} event for call ${id} in time`); }, 15_000);
  for (;;) {
    const next = await events.next();
    if (next.done) throw new Error("the event stream ended");
    const { event } = next.value;
    const data = event.data as components["schemas"]["CallEventData"];
    if (!data.call || data.call.id !== id) continue;
    console.log(`event ${event.id} ${event.type}: call ${id} ${data.call.status} (${data.direction})`);
    if (event.type === until) break;
  }
  clearTimeout(deadline);
}

// 3. Place a call: 1000 rings first, then it is connected to 1003. The Idempotency-Key makes a
// retry of this request safe.
const placed = await api.POST("/v1/units/{unit}/calls", {
  params: { path: { unit }, header: { "Idempotency-Key": randomUUID() } },
  body: { from: "1000", to: { type: "extension", number: "1003" } },
});
if (!placed.data) fail("place a call", placed.response, placed.error);
const id = placed.data.id;
console.log(`call ${id}: ${placed.data.status}`);

// 4. Watch it on the stream until it is answered (the demo rings for 3 s).
await follow(id, "call.answered");

// 5. Hang up: the answer carries the call's final status.
const ended = await api.DELETE("/v1/units/{unit}/calls/{call}", { params: { path: { unit, call: id } } });
if (!ended.data) fail("hang up", ended.response, ended.error);
console.log(`call ${id}: ${ended.data.status}`);
await follow(id, "call.ended");
await events.return(undefined); // closes the stream
