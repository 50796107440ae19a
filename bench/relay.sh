#!/usr/bin/env bash
# bench/relay.sh — relay latency and throughput on loopback.
#
# Each run starts an emulator (the platform), a relay with the ClickSend
# adapter and a durable bbolt spool, and the ClickSend fake, all in one
# process on 127.0.0.1 (internal/relay TestBenchRelay), and measures:
#   * outgoing: POST /message through the relay vs the same ClickSend call
#     made directly to the fake (1,500 interleaved sequential pairs after a
#     100-pair warm-up) → relay-added latency p50/p99;
#   * inbound at rest: 500 sequential pushes, each acked after its own
#     fsync'd commit → durable-ack latency p50/p99 (ack1_*);
#   * inbound under load: 5,000 ClickSend pushes from 32 concurrent senders, each acked
#     only once fsync'd in the spool → ack latency and sustained messages/s,
#     and end-to-end messages/s until the emulator holds all 5,000.
# It reports the median of RUNS runs (default 3) for every figure.
#
# Usage: bench/relay.sh [RUNS]      (env BENCH_DIR: where the spool lives; default a temp dir on $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ccx-relay-bench.XXXXXX")}
trap 'rm -rf "$dir"' EXIT
echo "relay bench: $runs runs, spool in $dir ($(df -T "$dir" | awk 'NR==2{print $2}'))" >&2
go test -c -o "$dir/relay.test" ./internal/relay/
results=()
for i in $(seq "$runs"); do
  line=$(CCX_RELAY_BENCH=1 CCX_RELAY_BENCH_DIR="$dir" "$dir/relay.test" -test.run '^TestBenchRelay$' -test.count=1 | grep '^RESULT')
  echo "run $i: ${line#RESULT }" >&2
  results+=("${line#RESULT }")
done
printf '%s\n' "${results[@]}" | awk '
{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = v[kv[1]] " " kv[2]; if (NR == 1) order[i] = kv[1]; n = NF } }
END {
  printf "median of %d runs:\n", NR
  for (i = 1; i <= n; i++) {
    k = order[i]; c = split(substr(v[k], 2), a, " ")
    for (x = 1; x <= c; x++) for (y = x + 1; y <= c; y++) if (a[y] + 0 < a[x] + 0) { t = a[x]; a[x] = a[y]; a[y] = t }
    med = (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
    printf "  %-16s %s\n", k, med
  }
}'
