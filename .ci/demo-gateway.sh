# Sourced by .ci/ scripts: builds the gateway, starts it in demo mode on 127.0.0.1:$PORT and stops
# it when the calling script exits. The demo requires a bearer key: UCM_GATEWAY_DEMO_KEY (.ci/run
# fixes one; a script run on its own makes one here), which AUTH_HEADER carries for the clients.
PORT="${PORT:-18084}"
BASE_URL="http://127.0.0.1:$PORT"
if [ -z "${UCM_GATEWAY_DEMO_KEY:-}" ]; then
  UCM_GATEWAY_DEMO_KEY="ci-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
fi
AUTH_HEADER="Authorization: Bearer $UCM_GATEWAY_DEMO_KEY"
export BASE_URL AUTH_HEADER UCM_GATEWAY_DEMO_KEY

demo_log=$(mktemp)
go build -o bin/ucm-gateway-ci ./cmd/ucm-gateway
bin/ucm-gateway-ci --demo --listen "127.0.0.1:$PORT" >"$demo_log" 2>&1 &
demo_pid=$!
stop_demo() {
  kill "$demo_pid" 2>/dev/null && wait "$demo_pid" 2>/dev/null
  rm -f "$demo_log"
}
trap stop_demo EXIT
for _ in $(seq 1 100); do
  if curl -fsS "$BASE_URL/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$demo_pid" 2>/dev/null; then echo "the demo gateway exited:"; cat "$demo_log"; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE_URL/healthz" >/dev/null || { echo "the demo gateway never answered /healthz"; cat "$demo_log"; exit 1; }
echo "demo gateway on $BASE_URL (pid $demo_pid)"
