#!/usr/bin/env bash
# bench/emulate-scale.sh — the emulator holding a big inbox (issue 13 item 2).
#
#   bench/emulate-scale.sh [ROUNDS] [MESSAGES] [CONTACTS]     (default 3 1000000 10000)
#
# Writes a state file of MESSAGES messages over CONTACTS contacts
# (bench/emustate: 2/3 incoming texts, 1/3 outgoing replies with a
# sent → delivered → read timeline), then per round runs this tree's ccx and
# BASE's (default: the main branch, built from `git archive`; BASE= skips it)
# one after the other (A B A B …), each on a fresh copy of the file:
#   load_s        `ccx emulate --state FILE` start until /_emulator/health answers
#   cpu_load_s    the emulator's CPU time (user+sys) by then: less disturbed by other jobs
#   rss_load_mb   RSS then (and B/message)
#   inbox_p99_ms  `ccx emulate inbox --contact X --json` (the whole command), INBOX_N runs
#                 ("failed" when it fails, e.g. main's client refuses a state over 256 MB)
#   contacts_p99_ms  GET /_emulator/contacts?limit=100 (the web inbox's contact list), HEY_N sequential curls
#   conv_p99_ms   GET /_emulator/messages?channelId=&contactId=X&limit=50 (one conversation page)
#                 (BASE has no pagination and answers every contact / the whole
#                 conversation to the same URLs: the closest it has)
#   state_s       one GET /_emulator/state, read to the end
#   rss_state1_mb, rss_state3_mb  RSS after the 1st and the 3rd such read (flat = no growth)
#   posts_s       webhook posts/s, --rate-limit 0, hey -n POSTS -c 32, one valid body
#                 (a duplicate mId after the first: auth, validation, decode, store, warning)
#   save_s        SIGINT after one more message until the process exits (the final state write)
# and prints every run, then per figure the median and min–max of each, and
# the median of the per-round ratios. Needs hey (go install github.com/rakyll/hey@latest).
# The config file is a throwaway one; nothing outside a temp dir is written.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
MESSAGES=${2:-1000000}
CONTACTS=${3:-10000}
BASE=${BASE-main}
INBOX_N=${INBOX_N:-30}
INBOX_N_BASE=${INBOX_N_BASE:-3}
HEY_N=${HEY_N:-300}
HEY_N_BASE=${HEY_N_BASE:-20}
POSTS=${POSTS:-50000}

HEY=$(command -v hey || echo "$(go env GOPATH)/bin/hey")
[ -x "$HEY" ] || { echo "hey not found: go install github.com/rakyll/hey@latest" >&2; exit 3; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ccx-emulate-scale.XXXXXX")
emu_pid=
cleanup() {
	if [ -n "$emu_pid" ]; then kill -INT "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
export CCX_CONFIG="$tmp/config.toml"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

go build -o "$tmp/new/ccx" ./cmd/ccx
tools=(new)
if [ -n "$BASE" ]; then
	BASE_REV=$(git rev-parse --short "$BASE")
	mkdir -p "$tmp/base-src"
	git archive "$BASE_REV" | tar -x -C "$tmp/base-src"
	(cd "$tmp/base-src" && go build -o "$tmp/base/ccx" ./cmd/ccx)
	tools=(new base)
fi
chan=benchchannel01
token=benchtokenbenchtokenbenchtokenbenchtoken0001
go run ./bench/emustate -messages "$MESSAGES" -contacts "$CONTACTS" -channel "$chan" -o "$tmp/state.json"
echo "state: $MESSAGES messages over $CONTACTS contacts, $(du -m "$tmp/state.json" | cut -f1) MB; tools: ${tools[*]}${BASE:+ (base = $BASE $BASE_REV)}" >&2
contact=$(printf '+6017%07d' $((CONTACTS / 2)))
qcontact=${contact/+/%2B}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# p99 (nearest rank) of numbers on stdin
p99() { sort -g | awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1; print a[i]}'; }
lat_p99_ms() { # N URL: curl's own time per request (a new connection each), p99
	local i
	for i in $(seq "$1"); do curl -fs -o /dev/null -w '%{time_total}\n' "$2"; done | awk '{printf "%.1f\n", $1 * 1000}' | p99
}

run_one() { # TOOL
	local bin="$tmp/$1/ccx" n=$INBOX_N h=$HEY_N
	if [ "$1" = base ]; then n=$INBOX_N_BASE h=$HEY_N_BASE; fi
	cp "$tmp/state.json" "$tmp/run.json"
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	local url="http://127.0.0.1:$port"
	local t0 t1
	t0=$(now_ms)
	"$bin" emulate --port "$port" --rate-limit 0 --quiet --no-profile --channel-id "$chan" --token "$token" \
		--state "$tmp/run.json" 2>"$tmp/emulate.log" &
	emu_pid=$!
	until curl -fs "$url/_emulator/health" >/dev/null 2>&1; do
		kill -0 "$emu_pid" 2>/dev/null || { cat "$tmp/emulate.log" >&2; exit 1; }
		sleep 0.05
	done
	t1=$(now_ms)
	local load_s rss_load
	load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1000}')
	rss_load=$(rss_mb "$emu_pid")

	local cpu_load
	cpu_load=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$emu_pid/stat")

	local inbox_ms=() i s e inbox_p99=
	for i in $(seq "$n"); do
		s=$(now_ms)
		if ! "$bin" emulate inbox --emulator "$url" --contact "$contact" --json >"$tmp/inbox.json" 2>"$tmp/inbox.err" ||
			! grep -qF '"contactId":"'"$contact"'"' "$tmp/inbox.json"; then
			echo "$1: inbox --contact failed: $(head -c 300 "$tmp/inbox.err")" >&2
			inbox_p99=-1 # failed
			break
		fi
		e=$(now_ms)
		inbox_ms+=($((e - s)))
	done
	local contacts_p99 conv_p99
	[ -n "$inbox_p99" ] || inbox_p99=$(printf '%s\n' "${inbox_ms[@]}" | p99)
	contacts_p99=$(lat_p99_ms "$h" "$url/_emulator/contacts?limit=100")
	conv_p99=$(lat_p99_ms "$h" "$url/_emulator/messages?channelId=$chan&contactId=$qcontact&limit=50")

	s=$(now_ms)
	curl -fs -o "$tmp/got.json" "$url/_emulator/state"
	e=$(now_ms)
	local state_s rss1 rss3
	state_s=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.2f", (b - a) / 1000}')
	rss1=$(rss_mb "$emu_pid")
	curl -fs -o /dev/null "$url/_emulator/state"
	curl -fs -o /dev/null "$url/_emulator/state"
	rss3=$(rss_mb "$emu_pid")

	local body out posts non200
	body='{"channelId":"'$chan'","contactId":"'$contact'","events":[{"type":"message","mId":"bench-dup","timestamp":1732435200000,"message":{"type":"text","text":"Hello World"}}]}'
	out=$("$HEY" -n "$POSTS" -c 32 -m POST -T application/json -H "Authorization: Bearer $token" -d "$body" "$url/custom/channel/webhook/")
	posts=$(awk '/Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
	non200=$(awk '/Status code distribution:/ {f=1; next} f && /\[[0-9]+\]/ && !/\[200\]/ {s+=$2} END {print s+0}' <<<"$out")
	[ "$non200" = 0 ] || { echo "$1: $non200 non-200 webhook answers" >&2; exit 1; }

	# Let the periodic state writes settle, add one message, stop: the
	# final write is what save_s times.
	local m0 m1 quiet=0
	m0=$(stat -c %Y "$tmp/run.json")
	while [ "$quiet" -lt 3 ]; do
		sleep 1
		m1=$(stat -c %Y "$tmp/run.json")
		if [ "$m1" = "$m0" ]; then quiet=$((quiet + 1)); else quiet=0 m0=$m1; fi
	done
	body='{"channelId":"'$chan'","contactId":"'$contact'","events":[{"type":"message","mId":"bench-last","timestamp":1732435200000,"message":{"type":"text","text":"last"}}]}'
	curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "$url/custom/channel/webhook/"
	s=$(now_ms)
	kill -INT "$emu_pid"
	wait "$emu_pid" || true
	e=$(now_ms)
	emu_pid=
	grep -q '"bench-last"' "$tmp/run.json" || { echo "$1: the saved state lacks the last message" >&2; exit 1; }
	local save_s
	save_s=$(awk -v a="$s" -v b="$e" 'BEGIN {printf "%.2f", (b - a) / 1000}')
	echo "tool=$1 load_s=$load_s cpu_load_s=$cpu_load rss_load_mb=$rss_load inbox_p99_ms=$inbox_p99 contacts_p99_ms=$contacts_p99 conv_p99_ms=$conv_p99 state_s=$state_s rss_state1_mb=$rss1 rss_state3_mb=$rss3 posts_s=$posts save_s=$save_s"
}

results=()
for r in $(seq "$ROUNDS"); do
	for t in "${tools[@]}"; do
		run_one "$t" >"$tmp/line"
		line=$(cat "$tmp/line")
		echo "round $r: $line (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
		results+=("round=$r $line")
	done
done

echo
echo "ccx emulate at scale — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)${BASE:+, base $BASE $BASE_REV}"
echo "machine: $(nproc) CPU, load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; $(go version | awk '{print $3}'); $MESSAGES messages over $CONTACTS contacts; $ROUNDS rounds"
printf '%s\n' "${results[@]}" | awk -v msgs="$MESSAGES" '
function med(s,   a, c, x, y, t) { c = split(substr(s, 2), a, " "); for (x = 1; x <= c; x++) for (y = x + 1; y <= c; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
	lo = a[1]; hi = a[c]; return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2 }
{ delete kv; for (i = 1; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
  t = kv["tool"]; r = kv["round"]
  for (k in kv) if (k != "tool" && k != "round") { v[t, k] = v[t, k] " " kv[k]; val[t, r, k] = kv[k]; keys[k] = 1 }
  rounds[r] = 1; tools[t] = 1 }
END {
  n = split("load_s cpu_load_s rss_load_mb inbox_p99_ms contacts_p99_ms conv_p99_ms state_s rss_state1_mb rss_state3_mb posts_s save_s", order, " ")
  printf "%-16s %-26s %-26s %s\n", "figure", "this tree: median (min-max)", "base: median (min-max)", "base/this per round (median)"
  for (i = 1; i <= n; i++) {
    k = order[i]; m1 = med(v["new", k]); s1 = (m1 < 0) ? "failed" : sprintf("%s (%s-%s)", m1, lo, hi)
    s2 = "-"; rr = "-"
    if (("base", k) in v) {
      m2 = med(v["base", k]); s2 = (m2 < 0) ? "failed" : sprintf("%s (%s-%s)", m2, lo, hi); rs = ""
      for (r in rounds) if (val["new", r, k] + 0 > 0 && val["base", r, k] + 0 >= 0) rs = rs " " val["base", r, k] / val["new", r, k]
      rr = (rs == "") ? "-" : sprintf("%.2f", med(rs))
    }
    printf "%-16s %-26s %-26s %s\n", k, s1, s2, rr
  }
  printf "RSS per stored message after load: %.0f B (this tree)", med(v["new", "rss_load_mb"]) * 1048576 / msgs
  if (("base", "rss_load_mb") in v) printf ", %.0f B (base)", med(v["base", "rss_load_mb"]) * 1048576 / msgs
  printf "\n"
}'
