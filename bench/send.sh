#!/usr/bin/env bash
# bench/send.sh — ccx send throughput against hey, and rate-limit accuracy.
#
# Starts one local sink (bench/sink, answers 200) on 127.0.0.1, then:
#   1. RUNS× alternately: `ccx send text hi --count N --rate 0 --concurrency C`
#      and `hey -n N -c C` POSTing the same payload with the same headers to
#      the same sink. Reports each side's median requests/s and the ratio
#      (target: ccx ≥ 0.9× hey).
#   2. `ccx send text hi --count 200 --rate 20`: the achieved rate (target:
#      within ±2 % of 20/s).
# Needs hey on PATH or in $(go env GOPATH)/bin: go install github.com/rakyll/hey@latest
# Environment: N (20000), C (16), RUNS (3). Stops by itself; loopback only.
set -euo pipefail

N=${N:-20000}
C=${C:-16}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
SINK_PID=""
cleanup() {
	if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

HEY=$(command -v hey || echo "$(go env GOPATH)/bin/hey")
[ -x "$HEY" ] || { echo "hey not found: go install github.com/rakyll/hey@latest" >&2; exit 3; }

(cd "$ROOT" && go build -o "$TMP/ccx" ./cmd/ccx && go build -o "$TMP/sink" ./bench/sink)
"$TMP/sink" -addr 127.0.0.1:0 -max-life 10m >"$TMP/sink.url" &
SINK_PID=$!
for _ in $(seq 50); do [ -s "$TMP/sink.url" ] && break; sleep 0.1; done
URL=$(head -1 "$TMP/sink.url")
case "$URL" in http://127.0.0.1:*) ;; *) echo "sink did not start" >&2; exit 3 ;; esac

export CCX_CONFIG="$TMP/config.toml" CCX_WEBHOOK_URL="$URL" CCX_CHANNEL_ID=gfd8g7fd89dgfd \
	CCX_API_TOKEN=aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd CCX_ID_TYPE=phone CCX_CONTACT_ID=+60177872890
# hey sends exactly what ccx would (one payload; ccx varies mId and timestamp per request).
"$TMP/ccx" send text hi --dry-run --json | sed -e 's/.*"payload":\(.*\),"curl".*/\1/' >"$TMP/payload.json"
grep -q '"channelId"' "$TMP/payload.json" || { echo "could not extract the payload" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

: >"$TMP/ccx.rates"
: >"$TMP/hey.rates"
echo "throughput: $N requests, concurrency $C, $RUNS runs each (alternating), sink $URL"
for i in $(seq "$RUNS"); do
	# Human output (a summary only), like hey's: --json would add one NDJSON line per request.
	r=$("$TMP/ccx" send text hi --count "$N" --rate 0 --concurrency "$C" |
		sed -n -e 's/^sent .* (\([0-9.]*\) req\/s)$/\1/p')
	echo "$r" >>"$TMP/ccx.rates"
	h=$("$HEY" -n "$N" -c "$C" -m POST -T application/json \
		-H "authorization: Bearer $CCX_API_TOKEN" -H "cache-control: no-cache" \
		-D "$TMP/payload.json" "$URL" | awk '/Requests\/sec:/ {print $2}')
	echo "$h" >>"$TMP/hey.rates"
	printf '  run %d: ccx %8.1f req/s   hey %8.1f req/s\n' "$i" "$r" "$h"
done
CCX_MED=$(median <"$TMP/ccx.rates")
HEY_MED=$(median <"$TMP/hey.rates")
RATIO=$(awk -v a="$CCX_MED" -v b="$HEY_MED" 'BEGIN {printf "%.3f", a/b}')
echo "median: ccx $CCX_MED req/s, hey $HEY_MED req/s, ratio ccx/hey = $RATIO (target >= 0.9)"

echo "rate limit: 200 requests at --rate 20"
SUM=$("$TMP/ccx" send text hi --count 200 --rate 20 --concurrency 4 --json | tail -1)
RATE=$(echo "$SUM" | sed -e 's/.*"ratePerSec":\([0-9.]*\).*/\1/')
DEV=$(awk -v r="$RATE" 'BEGIN {printf "%+.2f", (r-20)/20*100}')
echo "  achieved $RATE req/s ($DEV % from 20/s; target within ±2 %)"
echo "  summary: $SUM"
