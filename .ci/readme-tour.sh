#!/usr/bin/env bash
# README check: runs the call-center tour and the calls tour (the first ```sh block under
# "## A call-center tour" and "## Calls with curl") as written against the demo gateway, with
# only the address changed to the CI port and the key exported as the tours expect. Every curl
# must succeed: curl is wrapped with --fail-with-body, so a 4xx or 5xx, a refused connection or a
# shell error stops the check.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${UCM_GATEWAY_DEMO_KEY:?set UCM_GATEWAY_DEMO_KEY (the demo needs a bearer key)}"
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
. .ci/demo-gateway.sh

# tour HEADING prints the first ```sh block under the README's "## HEADING…" section.
tour() {
  awk -v h="## $1" '
    index($0, h) == 1 { in_section = 1; next }
    in_section && /^## / { exit }
    in_section && /^```sh$/ { in_block = 1; next }
    in_block && /^```$/ { exit }
    in_block { print }
  ' README.md
}

for section in "A call-center tour" "Calls with curl"; do
  t=$(tour "$section")
  [ -n "$t" ] || { echo "readme-tour: no tour under \"## $section\" in README.md"; exit 1; }
  t=${t//localhost:8080/127.0.0.1:$PORT}
  # A line that prints the status itself (-w '%{http_code}…', the calls tour's "404: the call has
  # ended") is left to say it; every other curl must succeed.
  UCM_GATEWAY_KEY="$UCM_GATEWAY_DEMO_KEY" bash -euo pipefail -c '
    curl() {
      case " $* " in
        *" -w "*) command curl --max-time 20 "$@" ;;
        *) command curl --fail-with-body --max-time 20 "$@" ;;
      esac
    }

    '"$t"'
  '
  echo
  echo "readme-tour: \"$section\" ran as written"
done
rm -f call.wav   # the recording the calls tour downloads
