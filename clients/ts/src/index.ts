// The typed ucm-gateway client: openapi-fetch over the types that openapi-typescript generates
// from api/openapi.yaml into schema.ts (never edit it: change the spec and run `make generate`).
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { paths } from "./schema.js";

export type { paths, components, operations } from "./schema.js";

/**
 * createGatewayClient returns a client for the gateway at baseUrl (for example
 * http://localhost:8080). Every /v1 call needs an API key, so it is sent on every request
 * rather than at each call. Every PATCH of this API is a JSON Merge Patch, which the gateway
 * accepts only as application/merge-patch+json; openapi-fetch would label it application/json.
 */
export function createGatewayClient(baseUrl: string, apiKey: string, options: Omit<ClientOptions, "baseUrl"> = {}): Client<paths> {
  if (!apiKey) {
    throw new Error("ucm-gateway-client: an API key is required (from ucm-gateway keygen, or the one make run prints)");
  }
  const client = createClient<paths>({ ...options, baseUrl });
  client.use(gatewayHeaders(apiKey));
  return client;
}

function gatewayHeaders(apiKey: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${apiKey}`);
      if (request.method === "PATCH" && request.headers.get("Content-Type") === "application/json") {
        request.headers.set("Content-Type", "application/merge-patch+json");
      }
      return request;
    },
  };
}

/** Event is one live event of a unit, as the gateway's event streams and webhooks carry it. */
export type Event = import("./schema.js").components["schemas"]["Event"];

/**
 * readEvents reads a gateway event stream (GET /v1/units/{unit}/events or /v1/events, fetched with
 * parseAs: "stream") and yields each event with the SSE id to resume from (send it back as
 * Last-Event-ID after a reconnect). Comment lines (heartbeats) are skipped. Server-Sent Events
 * framing is simple enough to need no library here, and browsers can use EventSource instead.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: Event; lastId: string }> {
  const decoder = new TextDecoder();
  let buffered = "";
  let lastId = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith("id: ")) lastId = line.slice(4);
      if (line.startsWith("data: ")) yield { event: JSON.parse(line.slice(6)) as Event, lastId };
    }
  }
}
