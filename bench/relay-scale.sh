#!/usr/bin/env bash
# bench/relay-scale.sh — one relay against two relays on one JetStream, with
# the bbolt single relay as the baseline, in the same run.
#
# Every run starts its own processes on 127.0.0.1: `ccx emulate` (the
# platform, --rate-limit 0, one for the whole script, reset before each run),
# for JetStream a fresh bench/natsd (nats-server embedded, JetStream in a temp
# dir), and the relay(s) (ClickSend adapter, --rate-limit 0). bench/relayload
# then posts N ClickSend inbound pushes (each a new message id, CONTACTS
# contacts per channel) from C concurrent senders, to the relays in turn as a
# load balancer would, and measures:
#   * inbound durable msg/s: pushes answered 200 (the relay answers only once
#     the event is durable: bbolt fsync, or the JetStream publish ack);
#   * end-to-end msg/s: until the relays' ccx_relay_deliveries_total{result="ok"}
#     reach N (the platform accepted every one); the emulator must then hold
#     each message exactly once, else the run fails;
#   * CPU seconds (utime+stime from /proc) of each relay, natsd, the emulator
#     and the loader over the run, per 1,000 messages;
#   * drain msg/s (DRAIN=1, the default): delivery alone, from a backlog (below).
# The configurations run interleaved, one round after another (bbolt nats1
# nats2, bbolt nats1 nats2, …); ratios are computed per round and reported as
# the median of the rounds with their spread (min-max), with the load average
# at start and end. All processes share this machine's CPUs: on 2 cores two
# relays, natsd, the emulator and the loader compete, so the 2-relay figure
# shows what two processes achieve here, not what two machines would.
#
# Usage: bench/relay-scale.sh            (about 3-5 minutes at the defaults on 2 CPUs)
# Knobs (env): ROUNDS=5 N=10000 C=32 CONTACTS=500 CHANNELS=1 WORKERS=16 (bbolt's --workers;
#   JetStream's concurrency is its 16 partitions per channel) CONFIGS="bbolt nats1 nats2"
#   NATS_SYNC=default|always (always: natsd fsyncs every write, as the bbolt spool does)
#   DRAIN=1: also time delivery alone — N events queued by relays that hardly post
#   (--rate-limit 0.001), then fresh relays emptying that backlog (drain msg/s): the
#   rate the delivery side sustains (for JetStream: its 16 partitions per channel, one
#   event in flight each) when inbound work is not competing for the CPU; DRAIN=0 skips it
#   NATS_URL=nats://…[,…] NATS_REPLICAS=3: use that JetStream (a real cluster) instead of
#   starting natsd (its CPU is then not measured; the stream CCX_RELAY is created or
#   updated on it, the runs' events leave it as they are delivered)
#   CHANNELS>1 needs `ccx relay --config` (many channels in one relay): the script writes
#   a relay.toml of CHANNELS ClickSend channels and posts to /providers/<id>/clicksend/….
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
N=${N:-10000}
C=${C:-32}
CONTACTS=${CONTACTS:-500}
CHANNELS=${CHANNELS:-1}
WORKERS=${WORKERS:-16}
CONFIGS=${CONFIGS:-"bbolt nats1 nats2"}
NATS_SYNC=${NATS_SYNC:-default}
DRAIN=${DRAIN:-1}
NATS_URL=${NATS_URL:-}
NATS_REPLICAS=${NATS_REPLICAS:-1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ccx-relay-scale.XXXXXX")
pids=()
stop_all() { # our own processes only, by pid
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
emu_pid=
cleanup() {
	stop_all
	if [ -n "$emu_pid" ]; then kill -CONT "$emu_pid" 2>/dev/null || true; kill -TERM "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitfor() { # URL: until it answers, 20 s at most
	for _ in $(seq 400); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
	echo "not up: $1" >&2; return 1
}

echo "== build (ccx, bench/natsd, bench/relayload) into $tmp" >&2
go build -o "$tmp/ccx" ./cmd/ccx
go build -o "$tmp/natsd" ./bench/natsd
go build -o "$tmp/relayload" ./bench/relayload
export CCX_CONFIG="$tmp/config.toml" # a throwaway config: the user's profiles are never read

if [ "$CHANNELS" -gt 1 ] && ! "$tmp/ccx" relay --help | grep -q -- '--config'; then
	echo "CHANNELS=$CHANNELS needs 'ccx relay --config' (many channels in one relay), which this build lacks" >&2
	exit 2
fi

secret=benchsecretbenchsecret0001
token_of() { printf 'benchtoken%02dbenchtokenbenchtokenbenchtoken0001' "$1"; }
chans=()
for i in $(seq "$CHANNELS"); do chans+=("benchchannel$(printf %02d "$i")"); done

emu_port=$(freeport)
emu_args=(--port "$emu_port" --rate-limit 0 --quiet --no-profile --channel-id "${chans[0]}" --token "$(token_of 1)")
for i in $(seq 2 "$CHANNELS"); do emu_args+=(--channel "id=${chans[$((i - 1))]},token=$(token_of "$i"),id-type=phone"); done
"$tmp/ccx" emulate "${emu_args[@]}" 2>"$tmp/emulate.log" &
emu_pid=$!
emu="http://127.0.0.1:$emu_port"
waitfor "$emu/_emulator/health"
webhook="$emu/custom/channel/webhook/"

if [ "$CHANNELS" -gt 1 ]; then
	{
		for i in $(seq "$CHANNELS"); do
			cat <<EOF
[[channel]]
id = "${chans[$((i - 1))]}"
token = "$(token_of "$i")"
webhook_url = "$webhook"
provider = "clicksend"
credentials = { username = "bench", api_key = "bench", secret = "$secret" }

EOF
		done
	} >"$tmp/relay.toml"
fi

# start_relay NAME FLAGS…: starts one relay, appends its URL, admin URL and name=pid
relay_urls=() relay_admins=() relay_pids=() relay_pid_list=()
start_relay() {
	local name=$1
	shift
	local port admin
	port=$(freeport)
	admin=$(freeport)
	while [ "$admin" = "$port" ]; do admin=$(freeport); done
	local chan_flags=(--provider clicksend --channel-id "${chans[0]}" --token "$(token_of 1)" --webhook-url "$webhook")
	[ "$CHANNELS" -gt 1 ] && chan_flags=(--config "$tmp/relay.toml") # the file names each channel's provider
	CCX_CLICKSEND_USERNAME=bench CCX_CLICKSEND_API_KEY=bench CCX_CLICKSEND_SECRET=$secret \
		CCX_PROVIDER_BASE_URL=http://127.0.0.1:9 \
		"$tmp/ccx" relay "${chan_flags[@]}" --port "$port" --admin-addr "127.0.0.1:$admin" \
		--log-level warn "$@" 2>>"$tmp/$name.log" &
	local pid=$!
	pids+=("$pid")
	relay_pid_list+=("$pid")
	waitfor "http://127.0.0.1:$port/healthz" || { tail -n 20 "$tmp/$name.log" >&2; exit 1; }
	relay_urls+=("http://127.0.0.1:$port") relay_admins+=("http://127.0.0.1:$admin") relay_pids+=("$name=$pid")
}

# start_store CONFIG: natsd for the JetStream configurations (nothing for bbolt)
nats_url= extra_pids=()
start_store() {
	extra_pids=() nats_url=
	case $1 in
	bbolt) mkdir -p "$tmp/spool" ;;
	nats*)
		if [ -n "$NATS_URL" ]; then nats_url=$NATS_URL; return; fi
		local sync=()
		[ "$NATS_SYNC" = always ] && sync=(-sync-always)
		mkdir -p "$tmp/js"
		"$tmp/natsd" -dir "$tmp/js" "${sync[@]}" >"$tmp/natsd.url" 2>"$tmp/natsd.log" &
		pids+=("$!")
		extra_pids=("natsd=$!")
		for _ in $(seq 200); do [ -s "$tmp/natsd.url" ] && break; sleep 0.05; done
		nats_url=$(head -1 "$tmp/natsd.url")
		[ -n "$nats_url" ] || { echo "natsd did not start" >&2; cat "$tmp/natsd.log" >&2; exit 1; }
		;;
	*) echo "unknown config $1" >&2; exit 2 ;;
	esac
}

# start_relays CONFIG FLAGS…: the configuration's relays on its store
start_relays() {
	relay_urls=() relay_admins=() relay_pids=() relay_pid_list=()
	local cfg=$1
	shift
	case $cfg in
	bbolt)
		local spool=(--spool "$tmp/spool/relay.db")
		[ "$CHANNELS" -gt 1 ] && spool=(--spool-dir "$tmp/spool")
		start_relay relay1 "${spool[@]}" --workers "$WORKERS" "$@"
		;;
	nats*) for i in $(seq "${cfg#nats}"); do start_relay "relay$i" --queue "$nats_url" --queue-replicas "$NATS_REPLICAS" "$@"; done ;;
	esac
}

stop_relays() { # SIGTERM, as an orchestrator stops them; --drain decides how long they finish
	for p in "${relay_pid_list[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${relay_pid_list[@]}"; do wait "$p" 2>/dev/null || true; done
}

stop_config() {
	stop_relays # before natsd: a relay whose NATS vanished while it stops takes a minute to exit
	stop_all
	rm -rf "$tmp/spool" "$tmp/js" "$tmp/natsd.url"
}

join() { local IFS=,; echo "$*"; }
pidlist() { join "${relay_pids[@]}" "${extra_pids[@]}" "emulator=$emu_pid"; }
load() { # relayload with this configuration's relays
	"$tmp/relayload" -targets "$(join "${relay_urls[@]}")" -metrics "$(join "${relay_admins[@]}")" \
		-channels "$chanlist" -secret "$secret" -c "$C" -contacts "$CONTACTS" \
		-emulator "$emu" -pids "$(pidlist)" -clk-tck "$tck" "$@"
}
failed() { echo "$1 failed; logs in $tmp:" >&2; tail -n 5 "$tmp"/*.log >&2; trap - EXIT; stop_all; kill -CONT "$emu_pid"; kill "$emu_pid"; exit 1; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "relay-scale: $ROUNDS rounds of [$CONFIGS], N=$N C=$C CONTACTS=$CONTACTS CHANNELS=$CHANNELS WORKERS=$WORKERS NATS_SYNC=$NATS_SYNC DRAIN=$DRAIN${NATS_URL:+ NATS_URL=(given) NATS_REPLICAS=$NATS_REPLICAS}" >&2
echo "machine: $(nproc) CPU, load $load_start at start; commit $commit; $(go env GOVERSION); spool and store on $(df -T "$tmp" | awk 'NR==2{print $2}')" >&2
chanlist=
[ "$CHANNELS" -gt 1 ] && chanlist=$(IFS=,; echo "${chans[*]}")
results="$tmp/results.txt"
: >"$results"
tck=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
	for cfg in $CONFIGS; do
		start_store "$cfg"
		start_relays "$cfg" --rate-limit 0
		line=$(load -n "$N" -run "r$r$cfg") || failed "round $r $cfg"
		stop_config
		if [ "$DRAIN" = 1 ]; then
			# The delivery rate alone: queue N with relays that hardly post
			# (--rate-limit 0.001), stop them, and time fresh relays emptying the backlog.
			start_store "$cfg"
			start_relays "$cfg" --rate-limit 0.001 --drain 0s
			post=$(load -n "$N" -run "d$r$cfg" -mode post) || failed "round $r $cfg (queueing the backlog)"
			stop_relays
			before=$(sed -n 's/.* delivered=\([0-9]*\).*/\1/p' <<<"$post")
			# The platform holds still (SIGSTOP) until every relay is up; the
			# loader resumes it when its clock starts.
			kill -STOP "$emu_pid"
			start_relays "$cfg" --rate-limit 0
			dline=$(load -n "$((N - before))" -total "$N" -run "d$r$cfg" -mode drain -resume "$emu_pid") || failed "round $r $cfg (drain)"
			stop_config
			line="$line ${dline#RESULT }"
		fi
		echo "round $r $cfg load=$(cut -d' ' -f1 /proc/loadavg) ${line#RESULT }" | tee -a "$results" >&2
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load $load_end at end" >&2

awk -v configs="$CONFIGS" -v rounds="$ROUNDS" '
function med(list,   a, c, x, y, t) {
	c = split(substr(list, 2), a, " ")
	for (x = 1; x <= c; x++) for (y = x + 1; y <= c; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
	lo = a[1]; hi = a[c]
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
function cell(c, k, fmt,   m) { if (!((c, k) in v)) return "-"; m = med(v[c, k]); return sprintf(fmt " (" fmt "-" fmt ")", m, lo, hi) }
function one(c, k, fmt) { return ((c, k) in v) ? sprintf(fmt, med(v[c, k])) : "-" }
function ratio(A, B, k,   r, x, m) {
	if (!((A, k) in v) || !((B, k) in v)) return "-"
	x = ""
	for (r = 1; r <= rounds; r++) x = x " " val[r, A, k] / val[r, B, k]
	m = med(x)
	return sprintf("%.2fx (%.2f-%.2f)", m, lo, hi)
}
{
	r = $2; cfg = $3
	for (i = 5; i <= NF; i++) { split($i, kv, "="); v[cfg, kv[1]] = v[cfg, kv[1]] " " kv[2]; val[r, cfg, kv[1]] = kv[2] }
}
END {
	n = split(configs, cf, " ")
	printf "medians of %d rounds (min-max); CPU in seconds per 1,000 messages (user+sys from /proc)\n", rounds
	printf "  %-6s %-20s %-20s %-20s %-9s %-9s %-22s %-7s %-8s %-7s %-11s\n", "config", "inbound msg/s", "end-to-end msg/s", "drain msg/s", "ack p50", "ack p99", "CPU relays (each)", "natsd", "emulator", "loader", "drain CPU"
	for (i = 1; i <= n; i++) {
		c = cf[i]
		per = ""
		for (k = 1; k <= 2; k++) if ((c, "cpu_relay" k "_per_1k") in v) per = per (per == "" ? "" : "+") sprintf("%.3f", med(v[c, "cpu_relay" k "_per_1k"]))
		printf "  %-6s %-20s %-20s %-20s %-9s %-9s %-22s %-7s %-8s %-7s %-11s\n", c, cell(c, "ack_msgs_per_s", "%.0f"), cell(c, "e2e_msgs_per_s", "%.0f"),
			cell(c, "drain_msgs_per_s", "%.0f"), one(c, "ack_p50_ms", "%.1fms"), one(c, "ack_p99_ms", "%.1fms"),
			one(c, "cpu_relays_per_1k", "%.3f") " (" per ")", one(c, "cpu_natsd_per_1k", "%.3f"), one(c, "cpu_emulator_per_1k", "%.3f"),
			one(c, "cpu_loader_per_1k", "%.3f"), one(c, "dcpu_relays_per_1k", "%.3f")
	}
	printf "per-round ratios, median (min-max):\n"
	split("nats2/nats1 nats1/bbolt nats2/bbolt", pairs, " ")
	for (p = 1; p <= 3; p++) {
		split(pairs[p], ab, "/")
		if (!((ab[1], "ack_msgs_per_s") in v) || !((ab[2], "ack_msgs_per_s") in v)) continue
		printf "  %-12s inbound %s  end-to-end %s  drain %s  relay CPU per msg %s\n", pairs[p], ratio(ab[1], ab[2], "ack_msgs_per_s"),
			ratio(ab[1], ab[2], "e2e_msgs_per_s"), ratio(ab[1], ab[2], "drain_msgs_per_s"), ratio(ab[1], ab[2], "cpu_relays_per_1k")
	}
}' "$results"
