#!/usr/bin/env bash
# bench/listen.sh — throughput and tail latency of `ccx listen --json > file`
# against two baselines it starts itself, in one run:
#   bare     bench/bare: the same /message job written the plain net/http way
#            (token check, JSON decode and required fields, 200 {"mId"},
#            one NDJSON log line per call with encoding/json), built here;
#   express  Express 4 on Node, written like the official example (no log).
#
#   1. requests/s at fixed concurrency (wrk -t2 -c$CONNS -d$DURATION): RUNS
#      rounds, each round runs ccx, bare and express once, back to back;
#      reported: each server's median and, per round, the ratios ccx/bare
#      (target >= 0.8) and ccx/express (target >= 3), as the median of the
#      rounds' ratios with their spread (min-max). Each server's CPU time
#      per request during those runs (from /proc) is reported too: on a
#      shared machine it moves far less than requests/s.
#   2. p99 latency at a fixed RATE req/s (hey -c20 -q RATE/20), RUNS rounds
#      interleaved the same way (target: ccx <= 5 ms).
#
# PIN=1 runs the servers on CPU 0 and wrk/hey on CPU 1 (taskset); by default
# nothing is pinned. The report starts and ends with the load average: on a
# shared machine, compare ratios, not absolute figures.
#
# Loopback only; everything it starts it stops. Installs wrk (apt) and hey
# (go install) when missing, and runs `npm install` in bench/express.
#
#   bench/listen.sh                     # RUNS=3 DURATION=10s
#   RUNS=5 DURATION=5s PIN=1 bench/listen.sh
#   CCX_BIN=/tmp/ccx-old bench/listen.sh  # time another build of ccx
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
CCX_PORT=${CCX_PORT:-3040}
EXP_PORT=${EXP_PORT:-3041}
BARE_PORT=${BARE_PORT:-3042}
export CCX_API_TOKEN=aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd
WORK=$(mktemp -d)
export CCX_CONFIG=$WORK/config.toml
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then echo "installing wrk (apt)…" >&2; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; fi
if ! need hey && [ ! -x "$(go env GOPATH)/bin/hey" ]; then echo "installing hey (go install)…" >&2; go install github.com/rakyll/hey@latest; fi
HEY=$(command -v hey || echo "$(go env GOPATH)/bin/hey")
need node || { echo "node 20 is required for the Express reference" >&2; exit 3; }
(cd bench/express && npm install --silent --no-audit --no-fund >/dev/null)

SRV=() LOAD=() PINNED=no
if [ -n "${PIN:-}" ]; then SRV=(taskset -c 0) LOAD=(taskset -c 1) PINNED="servers on CPU 0, wrk/hey on CPU 1"; fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "${CCX_BIN:-}" ]; then cp "$CCX_BIN" "$WORK/ccx"; else go build -o "$WORK/ccx" ./cmd/ccx; fi
go build -o "$WORK/bare" ./bench/bare
"${SRV[@]}" "$WORK/ccx" listen --port "$CCX_PORT" --json >"$WORK/calls.ndjson" 2>"$WORK/listen.err" &
pids+=($!)
CCX_PID=$!
"${SRV[@]}" "$WORK/bare" -addr "127.0.0.1:$BARE_PORT" >"$WORK/bare.ndjson" 2>"$WORK/bare.err" &
pids+=($!)
BARE_PID=$!
PORT=$EXP_PORT "${SRV[@]}" node bench/express/server.js &
pids+=($!)
EXP_PID=$!
for p in "$CCX_PORT" "$BARE_PORT" "$EXP_PORT"; do
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
done

BODY='{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"Hello from the benchmark"}}'
# Sanity: all answer 200 with an mId and 401 without the token.
for p in "$CCX_PORT" "$BARE_PORT" "$EXP_PORT"; do
  curl -fsS -H "Authorization: Bearer $CCX_API_TOKEN" -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$p/message" | grep -q '"mId"'
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$p/message")" = 401 ]
done

median() { sort -g | awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
spread() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.2f-%.2f", lo, hi}'; }
# rps PORT PID: requests/s, and the server's CPU time per request in µs
# (utime+stime from /proc, clock ticks) — far less disturbed by other load
# on the machine than requests/s.
TICK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rps() {
  local t0 t1 out
  t0=$(ticks "$2")
  out=$("${LOAD[@]}" wrk -t2 -c"$CONNS" -d"$DURATION" -s bench/express/post.lua "http://127.0.0.1:$1/message")
  t1=$(ticks "$2")
  awk -v t0="$t0" -v t1="$t1" -v hz="$TICK" '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%s %.2f\n", r, (t1 - t0) / hz * 1e6 / n}' <<<"$out"
}
p99() {
  # hey -q is per worker: c workers × q = RATE.
  local c=20 q=$((RATE / 20)) n=$((RATE * RATE_SECONDS))
  "${LOAD[@]}" "$HEY" -n "$n" -c "$c" -q "$q" -m POST -T application/json -H "Authorization: Bearer $CCX_API_TOKEN" -d "$BODY" \
    "http://127.0.0.1:$1/message" | awk '/ 99%+ in / {printf "%.2f\n", $3*1000}'
}

echo "warm-up…" >&2
for p in "$CCX_PORT" "$BARE_PORT" "$EXP_PORT"; do
  "${LOAD[@]}" wrk -t2 -c"$CONNS" -d2s -s bench/express/post.lua "http://127.0.0.1:$p/message" >/dev/null
done

for f in ccx.rps bare.rps exp.rps ccx.cpu bare.cpu exp.cpu r.bare r.exp c.bare c.exp ccx.p99 bare.p99 exp.p99; do : >"$WORK/$f"; done
for i in $(seq "$RUNS"); do
  echo "round $i/$RUNS: throughput…" >&2
  read -r c cc < <(rps "$CCX_PORT" "$CCX_PID")
  read -r b bc < <(rps "$BARE_PORT" "$BARE_PID")
  read -r e ec < <(rps "$EXP_PORT" "$EXP_PID")
  echo "$c" >>"$WORK/ccx.rps"; echo "$b" >>"$WORK/bare.rps"; echo "$e" >>"$WORK/exp.rps"
  echo "$cc" >>"$WORK/ccx.cpu"; echo "$bc" >>"$WORK/bare.cpu"; echo "$ec" >>"$WORK/exp.cpu"
  awk -v a="$c" -v b="$b" 'BEGIN {print a/b}' >>"$WORK/r.bare"
  awk -v a="$c" -v b="$e" 'BEGIN {print a/b}' >>"$WORK/r.exp"
  # CPU per request, as a speed ratio: baseline's µs / ccx's µs.
  awk -v a="$cc" -v b="$bc" 'BEGIN {print b/a}' >>"$WORK/c.bare"
  awk -v a="$cc" -v b="$ec" 'BEGIN {print b/a}' >>"$WORK/c.exp"
done
for i in $(seq "$RUNS"); do
  echo "round $i/$RUNS: p99 at $RATE req/s…" >&2
  p99 "$CCX_PORT" >>"$WORK/ccx.p99"
  p99 "$BARE_PORT" >>"$WORK/bare.p99"
  p99 "$EXP_PORT" >>"$WORK/exp.p99"
done

runs() { paste -sd' ' "$WORK/$1"; }
ccx_lines=$(wc -l <"$WORK/calls.ndjson")
bare_lines=$(wc -l <"$WORK/bare.ndjson")
echo
echo "ccx listen benchmark — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) CPU, load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; $(go version | awk '{print $3}'), node $(node --version); pinned: $PINNED"
echo "throughput, wrk -t2 -c$CONNS -d$DURATION, $RUNS rounds (ccx, bare, express back to back in each)"
printf "  ccx listen --json > file   %10.0f req/s median   (runs: %s)\n" "$(median <"$WORK/ccx.rps")" "$(runs ccx.rps)"
printf "  bare net/http + log        %10.0f req/s median   (runs: %s)\n" "$(median <"$WORK/bare.rps")" "$(runs bare.rps)"
printf "  express (node %s)     %10.0f req/s median   (runs: %s)\n" "$(node --version)" "$(median <"$WORK/exp.rps")" "$(runs exp.rps)"
echo   "  ratio ccx/bare             $(median <"$WORK/r.bare")x median of rounds, spread $(spread <"$WORK/r.bare")   (target >= 0.8x)"
echo   "  ratio ccx/express          $(median <"$WORK/r.exp")x median of rounds, spread $(spread <"$WORK/r.exp")   (target >= 3x)"
echo "server CPU time per request (utime+stime during the wrk runs / requests), same rounds"
echo   "  ccx $(median <"$WORK/ccx.cpu") µs, bare $(median <"$WORK/bare.cpu") µs, express $(median <"$WORK/exp.cpu") µs (medians; runs: ccx $(runs ccx.cpu); bare $(runs bare.cpu))"
echo   "  as speed: ccx/bare $(median <"$WORK/c.bare")x ($(spread <"$WORK/c.bare")), ccx/express $(median <"$WORK/c.exp")x ($(spread <"$WORK/c.exp"))"
echo "p99 latency at $RATE req/s, hey -c20 -q$((RATE / 20)), ${RATE_SECONDS}s, $RUNS rounds"
echo   "  ccx listen                 $(median <"$WORK/ccx.p99") ms median   (runs: $(runs ccx.p99); target <= 5 ms)"
echo   "  bare                       $(median <"$WORK/bare.p99") ms median   (runs: $(runs bare.p99))"
echo   "  express                    $(median <"$WORK/exp.p99") ms median   (runs: $(runs exp.p99))"
echo "log lines written: ccx $ccx_lines, bare $bare_lines (one per call)"
