#!/usr/bin/env bash
# README check: runs the live-events tour (the first ```sh block under "## Live events") as
# written against the demo gateway, with only the address changed to the CI port, and checks that
# the stream it prints shows the dial's whole life. curl is shimmed (not wrapped in a function)
# so that the tour's `kill %1` stops the stream itself: the shim adds --fail-with-body, and a
# stream ended by --max-time (exit 28) is how a stream ends, not a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
. .ci/demo-gateway.sh

tour=$(awk '
  /^## Live events/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh$/ { in_block = 1; next }
  in_block && /^```$/ { exit }
  in_block { print }
' README.md)
[ -n "$tour" ] || { echo "events-tour: no live-events tour found in README.md"; exit 1; }
tour=${tour//localhost:8080/127.0.0.1:$PORT}

shim=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$shim" "$out"; stop_demo' EXIT
real=$(command -v curl)
cat >"$shim/curl" <<SHIM
#!/usr/bin/env bash
"$real" --fail-with-body --max-time 20 "\$@" &
pid=\$!
trap 'kill \$pid 2>/dev/null; exit 0' TERM   # kill %1 ends the stream, curl included
wait \$pid
rc=\$?
[ \$rc -eq 28 ] && exit 0
exit \$rc
SHIM
chmod +x "$shim/curl"

PATH="$shim:$PATH" UCM_GATEWAY_KEY="$UCM_GATEWAY_DEMO_KEY" bash -euo pipefail -c "$tour" >"$out" 2>&1 || {
  echo "events-tour: the tour failed:"; cat "$out"; exit 1; }
for want in "event: unit.state" "event: call.ringing" "event: call.answered" "event: call.ended" "event: cdr.created"; do
  grep -q "^$want\$" "$out" || { echo "events-tour: the stream did not show '$want':"; cat "$out"; exit 1; }
done
echo "events-tour: the live-events tour ran as written; the stream showed the dial's whole life"
