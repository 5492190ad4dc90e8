# Sourced by the .ci/ scripts that need the pinned Node tools of .ci/js (package-lock.json).
if [ ! -d .ci/js/node_modules ]; then
  (cd .ci/js && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH="$PWD/.ci/js/node_modules/.bin:$PATH"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
