#!/usr/bin/env bash
# Throughput of the emulator's webhook endpoint on loopback (issue 5 target:
# >= 10,000 valid posts/s with --rate-limit 0).
#
#   bench/emulate.sh [RUNS] [REQUESTS] [CONCURRENCY]
#
# Starts `ccx emulate --rate-limit 0 --quiet` on a free port, posts REQUESTS
# valid webhook bodies RUNS times (default 3 x 50000, 32 connections) and
# prints every run and the median requests/s. Load generator: `hey`
# (go install github.com/rakyll/hey@latest), else `ccx send --count`, which
# gives every post its own mId. The config file is a throwaway one: the
# user's profiles are never read or written. BENCH_GEN=send forces the
# `ccx send --count` generator (unique mIds, all stored as new messages).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-3}
N=${2:-50000}
C=${3:-32}

tmp=$(mktemp -d)
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then kill -INT "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/ccx" ./cmd/ccx
export CCX_CONFIG="$tmp/config.toml"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 47470)
chan=benchchannel01
token=benchtokenbenchtokenbenchtokenbenchtoken0001
"$tmp/ccx" emulate --port "$port" --rate-limit 0 --quiet --no-profile \
	--channel-id "$chan" --token "$token" 2>"$tmp/emulate.log" &
emu_pid=$!
for _ in $(seq 100); do
	curl -fs "http://127.0.0.1:$port/_emulator/health" >/dev/null 2>&1 && break
	sleep 0.05
done
url="http://127.0.0.1:$port/custom/channel/webhook/"
body='{"channelId":"'$chan'","contactId":"+60177872890","events":[{"type":"message","mId":"bench-1","timestamp":1732435200000,"message":{"type":"text","text":"Hello World"}}]}'

HEY=$(command -v hey || true)
if [ -z "$HEY" ] && [ -x "$(go env GOPATH)/bin/hey" ]; then HEY="$(go env GOPATH)/bin/hey"; fi
if [ "${BENCH_GEN:-}" = send ]; then HEY=; fi

rates=()
for i in $(seq "$RUNS"); do
	if [ -n "$HEY" ]; then
		# The same body every time: after the first post each is a duplicate
		# mId, answered 200 and recorded as a warning (still the full path:
		# auth, validation, decoding, store).
		out=$("$HEY" -n "$N" -c "$C" -m POST -T application/json \
			-H "Authorization: Bearer $token" -d "$body" "$url")
		rate=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
		non200=$(awk '/Status code distribution:/ {f=1; next} f && /\[[0-9]+\]/ && !/\[200\]/ {s+=$2} END {print s+0}' <<<"$out")
		[ "$non200" = 0 ] || { echo "run $i: $non200 non-200 answers" >&2; exit 1; }
		gen=hey
	else
		out=$(CCX_WEBHOOK_URL=$url CCX_CHANNEL_ID=$chan CCX_API_TOKEN=$token CCX_ID_TYPE=phone \
			"$tmp/ccx" send text "Hello World" --contact-id +60177872890 \
			--count "$N" --rate 0 --concurrency "$C" --json 2>/dev/null | tail -1)
		rate=$(grep -o '"ratePerSec":[0-9.]*' <<<"$out" | cut -d: -f2)
		failed=$(grep -o '"failed":[0-9]*' <<<"$out" | cut -d: -f2)
		[ "${failed:-0}" = 0 ] || { echo "run $i: $failed failed posts" >&2; exit 1; }
		gen="ccx send --count"
	fi
	rates+=("$rate")
	printf 'run %d: %s req/s (%s, %d posts, %d connections)\n' "$i" "$rate" "$gen" "$N" "$C"
done

median=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
stored=$(curl -fs "http://127.0.0.1:$port/_emulator/" >/dev/null && echo ok || echo "emulator gone")
echo "median: $median req/s over $RUNS runs (target >= 10000); emulator $stored"
awk -v m="$median" 'BEGIN {exit !(m >= 10000)}' || { echo "below target" >&2; exit 1; }
