#!/usr/bin/env bash
# bench/listen.sh — throughput and tail latency of `ccx listen` against a
# reference Express server written like the official example, in one run.
#
#   1. requests/s at fixed concurrency (wrk, -c $CONNS -t 2, $DURATION each),
#      median of $RUNS runs per server, interleaved, and the ratio ccx/express
#      (target ≥ 3).
#   2. p99 latency at a fixed rate of $RATE req/s (hey -q, rate-limited per
#      worker), median of $RUNS runs (target ≤ 5 ms).
#
# Loopback only; everything it starts it stops. Installs wrk (apt) and hey
# (go install) when missing, and runs `npm install` in bench/express.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
CCX_PORT=${CCX_PORT:-3040}
EXP_PORT=${EXP_PORT:-3041}
export CCX_API_TOKEN=aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd
export CCX_CONFIG=$(mktemp -d)/config.toml
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then echo "installing wrk (apt)…" >&2; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; fi
if ! need hey && [ ! -x "$(go env GOPATH)/bin/hey" ]; then echo "installing hey (go install)…" >&2; go install github.com/rakyll/hey@latest; fi
HEY=$(command -v hey || echo "$(go env GOPATH)/bin/hey")
need node || { echo "node 20 is required for the Express reference" >&2; exit 3; }
(cd bench/express && npm install --silent --no-audit --no-fund >/dev/null)

go build -o "$WORK/ccx" ./cmd/ccx
"$WORK/ccx" listen --port "$CCX_PORT" --json >"$WORK/calls.ndjson" 2>"$WORK/listen.err" &
pids+=($!)
PORT=$EXP_PORT node bench/express/server.js &
pids+=($!)
for u in "http://127.0.0.1:$CCX_PORT/healthz" "http://127.0.0.1:$EXP_PORT/healthz"; do
  for _ in $(seq 100); do curl -fsS "$u" >/dev/null 2>&1 && break; sleep 0.1; done
done

BODY='{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Hello from the benchmark"}}'
# Sanity: both answer 200 with an mId and 401 without the token.
for p in "$CCX_PORT" "$EXP_PORT"; do
  curl -fsS -H "Authorization: Bearer $CCX_API_TOKEN" -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$p/message" | grep -q '"mId"'
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$p/message")" = 401 ]
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rps() { wrk -t2 -c"$CONNS" -d"$DURATION" -s bench/express/post.lua "http://127.0.0.1:$1/message" | awk '/Requests\/sec/ {print $2}'; }
p99() {
  # hey -q is per worker: c workers × q = RATE.
  local c=20 q=$((RATE / 20)) n=$((RATE * RATE_SECONDS))
  "$HEY" -n "$n" -c "$c" -q "$q" -m POST -T application/json -H "Authorization: Bearer $CCX_API_TOKEN" -d "$BODY" \
    "http://127.0.0.1:$1/message" | awk '/ 99%+ in / {printf "%.2f\n", $3*1000}'
}

echo "warm-up…" >&2
wrk -t2 -c"$CONNS" -d2s -s bench/express/post.lua "http://127.0.0.1:$CCX_PORT/message" >/dev/null
wrk -t2 -c"$CONNS" -d2s -s bench/express/post.lua "http://127.0.0.1:$EXP_PORT/message" >/dev/null

: >"$WORK/ccx.rps"; : >"$WORK/exp.rps"; : >"$WORK/ccx.p99"; : >"$WORK/exp.p99"
for i in $(seq "$RUNS"); do
  echo "run $i/$RUNS: throughput…" >&2
  rps "$CCX_PORT" >>"$WORK/ccx.rps"
  rps "$EXP_PORT" >>"$WORK/exp.rps"
done
for i in $(seq "$RUNS"); do
  echo "run $i/$RUNS: p99 at $RATE req/s…" >&2
  p99 "$CCX_PORT" >>"$WORK/ccx.p99"
  p99 "$EXP_PORT" >>"$WORK/exp.p99"
done

ccx_rps=$(median <"$WORK/ccx.rps"); exp_rps=$(median <"$WORK/exp.rps")
ccx_p99=$(median <"$WORK/ccx.p99"); exp_p99=$(median <"$WORK/exp.p99")
ratio=$(awk -v a="$ccx_rps" -v b="$exp_rps" 'BEGIN {printf "%.2f", a/b}')
lines=$(wc -l <"$WORK/calls.ndjson")
echo
echo "throughput, wrk -t2 -c$CONNS -d$DURATION, median of $RUNS (runs: ccx $(paste -sd' ' "$WORK/ccx.rps"); express $(paste -sd' ' "$WORK/exp.rps"))"
printf "  ccx listen --json > file   %10.0f req/s\n" "$ccx_rps"
printf "  express (node %s)     %10.0f req/s\n" "$(node --version)" "$exp_rps"
echo   "  ratio ccx/express          ${ratio}x   (target >= 3x)"
echo "p99 latency at $RATE req/s, hey -c20 -q$((RATE / 20)), ${RATE_SECONDS}s, median of $RUNS (runs: ccx $(paste -sd' ' "$WORK/ccx.p99"); express $(paste -sd' ' "$WORK/exp.p99"))"
echo   "  ccx listen                 ${ccx_p99} ms   (target <= 5 ms)"
echo   "  express                    ${exp_p99} ms"
echo "ccx wrote $lines NDJSON lines (one per call)"
