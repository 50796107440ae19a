#!/usr/bin/env bash
# bench/validate.sh — how fast is `ccx validate` next to JSON Schema validators?
#
# Builds a deterministic NDJSON corpus of webhook bodies (bench/gen), builds
# ccx and the baselines, then times, interleaved in the same run:
#   ccx-cli     ccx validate corpus.ndjson --output json > /dev/null   (the real command;
#               default --jobs: one worker per CPU)
#   ccx-cli-j1  the same with --jobs 1 (sequential: one core)
#   ccx-lib     validate.Bytes per line in one process (bench/ccxlib), no CLI output
#   jsonschema  santhosh-tekuri/jsonschema v6 + the ccx schema (bench/jsonschema)
#   ajv         ajv/dist/2020 + the ccx schema, one Node process (bench/ajv)
# and reports the median of RUNS runs as MB/s and payloads/s, plus the ratios
# ccx/jsonschema (target >= 5x) and ccx/ajv (target >= 2x). Every tool starts
# from the file's bytes: parsing is part of the cost. Then it compares cold
# start: `ccx validate small.json` against `jq . small.json` (target <= ~2x).
#
# Local files only, no network except `npm install` in bench/ajv (npm
# registry). Outputs go to bench/out/ (gitignored). Not run in CI.
#
#   bench/validate.sh                 # N=100000 RUNS=7 COLD_RUNS=30 SEED=1
#   N=20000 RUNS=3 bench/validate.sh  # quicker
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=bench/out
N=${N:-100000}
RUNS=${RUNS:-7}
COLD_RUNS=${COLD_RUNS:-30}
SEED=${SEED:-1}
mkdir -p "$OUT"

die() { echo "validate.sh: $*" >&2; exit 1; }
for tool in go node npm jq; do
	command -v "$tool" >/dev/null || die "$tool is required"
done

log() { echo "-- $*" >&2; }

log "generating $N payloads (seed $SEED)"
go run ./bench/gen -n "$N" -seed "$SEED" -o "$OUT/corpus.ndjson" -small "$OUT/small.json" 2>"$OUT/gen.json"
BYTES=$(stat -c %s "$OUT/corpus.ndjson")
PAYLOADS=$(wc -l <"$OUT/corpus.ndjson")

log "building ccx and the baselines"
go build -o "$OUT/ccx" ./cmd/ccx
go build -o "$OUT/ccxlib" ./bench/ccxlib
go build -o "$OUT/jsonschema" ./bench/jsonschema
"$OUT/ccx" schema --kind webhook >"$OUT/webhook.schema.json"

log "npm install (bench/ajv)"
(cd bench/ajv && npm install --no-audit --no-fund --silent >/dev/null 2>&1) || die "npm install failed in bench/ajv"

HAVE_CLI=1
if ! "$OUT/ccx" validate --help >/dev/null 2>&1; then
	HAVE_CLI=0
	log "this ccx build has no 'validate' command: the ccx-cli row is skipped"
fi

# run_tool NAME FILE: validate FILE with tool NAME, discarding the report.
run_tool() {
	case $1 in
	ccx-cli) "$OUT/ccx" validate "$2" --output json >/dev/null 2>&1 || true ;; # exits 1 on invalid payloads
	ccx-cli-j1) "$OUT/ccx" validate --jobs 1 "$2" --output json >/dev/null 2>&1 || true ;;
	ccx-lib) "$OUT/ccxlib" "$2" 2>/dev/null ;;
	jsonschema) "$OUT/jsonschema" -schema "$OUT/webhook.schema.json" "$2" 2>/dev/null ;;
	ajv) node bench/ajv/validate.js "$OUT/webhook.schema.json" "$2" 2>/dev/null ;;
	esac
}
# One payload: what each tool pays before its first payload (process start,
# runtime, schema compilation).
jq -c . "$OUT/small.json" >"$OUT/one.ndjson"
NAMES=(ccx-cli ccx-cli-j1 ccx-lib jsonschema ajv)
[ "$HAVE_CLI" = 1 ] || NAMES=(ccx-lib jsonschema ajv)

# Untimed pass: every tool must run to completion, and the counts show
# whether they agree on what is invalid.
log "correctness pass"
for name in "${NAMES[@]}"; do
	case $name in
	ccx-cli | ccx-cli-j1)
		jobs=0
		[ "$name" = ccx-cli ] || jobs=1
		set +e
		"$OUT/ccx" validate --jobs "$jobs" "$OUT/corpus.ndjson" --output json >"$OUT/$name.out" 2>"$OUT/$name.err"
		rc=$?
		set -e
		[ "$rc" -le 1 ] || die "ccx validate exited $rc: $(head -c 300 "$OUT/$name.err")"
		# The last NDJSON line is the run's summary.
		tail -n 1 "$OUT/$name.out" | jq -c --argjson rc "$rc" '{valid: (.payloads - .invalid), invalid, warnings, exit: $rc}' >"$OUT/$name.counts"
		;;
	ccx-lib) "$OUT/ccxlib" "$OUT/corpus.ndjson" 2>"$OUT/ccx-lib.counts" ;;
	jsonschema) "$OUT/jsonschema" -schema "$OUT/webhook.schema.json" "$OUT/corpus.ndjson" 2>"$OUT/jsonschema.counts" ;;
	ajv) node bench/ajv/validate.js "$OUT/webhook.schema.json" "$OUT/corpus.ndjson" 2>"$OUT/ajv.counts" ;;
	esac
done

# Every tool must call the same payloads invalid (the schemas encode the
# validator's error rules; see docs/schema.md).
AGREE=yes
for name in "${NAMES[@]}"; do
	inv=$(jq '.invalid' "$OUT/$name.counts")
	[ "$inv" = "$(jq '.invalid' "$OUT/${NAMES[0]}.counts")" ] || AGREE="NO: $name says $inv invalid"
done

now_ns() { date +%s%N; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# Interleaved runs: on a shared machine, load changes hit every tool alike.
log "timing: $RUNS interleaved runs of ${NAMES[*]}"
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.6f", (b-a)/1e9}'; }
# CPU time (user+sys of the process and its threads, from bash's time) is
# less disturbed than wall time when other jobs share the CPUs.
TIMEFORMAT='%3U %3S'
cpu_of() { { time run_tool "$1" "$2"; } 2>&1 | awk '{printf "%.3f", $1 + $2}'; }
declare -A TIMES FIXED CPUS
for ((r = 1; r <= RUNS; r++)); do
	for name in "${NAMES[@]}"; do
		t0=$(now_ns)
		run_tool "$name" "$OUT/corpus.ndjson"
		t1=$(now_ns)
		run_tool "$name" "$OUT/one.ndjson"
		t2=$(now_ns)
		TIMES[$name]+="$(elapsed "$t0" "$t1") "
		FIXED[$name]+="$(elapsed "$t1" "$t2") "
		CPUS[$name]+="$(cpu_of "$name" "$OUT/corpus.ndjson") "
	done
done

declare -A MED FIX CPU
for name in "${NAMES[@]}"; do
	CPU[$name]=$(tr ' ' '\n' <<<"${CPUS[$name]}" | grep . | median)
	MED[$name]=$(tr ' ' '\n' <<<"${TIMES[$name]}" | grep . | median)
	FIX[$name]=$(tr ' ' '\n' <<<"${FIXED[$name]}" | grep . | median)
done

log "cold start: $COLD_RUNS runs each"
COLD_CCX="$OUT/ccx validate $OUT/small.json"
[ "$HAVE_CLI" = 1 ] || COLD_CCX="$OUT/ccx schema --kind reply"
COLD_JQ="jq . $OUT/small.json"
if command -v hyperfine >/dev/null; then
	hyperfine -N -i --warmup 3 --runs "$COLD_RUNS" --style none \
		--export-json "$OUT/cold.json" "$COLD_CCX" "$COLD_JQ" >/dev/null 2>&1
	COLD_CCX_S=$(jq '.results[0].median' "$OUT/cold.json")
	COLD_JQ_S=$(jq '.results[1].median' "$OUT/cold.json")
	COLD_HOW="hyperfine $(hyperfine --version | awk '{print $2}'), median"
else
	cold() {
		local ts=""
		for ((i = 0; i < COLD_RUNS; i++)); do
			t0=$(now_ns)
			$1 >/dev/null 2>&1 || true
			t1=$(now_ns)
			ts+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", (b-a)/1e9}') "
		done
		tr ' ' '\n' <<<"$ts" | grep . | median
	}
	COLD_CCX_S=$(cold "$COLD_CCX")
	COLD_JQ_S=$(cold "$COLD_JQ")
	COLD_HOW="date +%s%N loop, median"
fi

# Report.
{
	echo "ccx validate benchmark — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "machine: $(nproc) CPU, load $(cut -d' ' -f1-3 /proc/loadavg); $(go version | awk '{print $3}'), node $(node --version), ajv $(node -p 'require("./bench/ajv/node_modules/ajv/package.json").version'), jsonschema $(go list -m -f '{{.Version}}' github.com/santhosh-tekuri/jsonschema/v6)"
	echo "corpus: $PAYLOADS webhook payloads, $BYTES bytes, seed $SEED  ($(cat "$OUT/gen.json" | jq -c '.labels | to_entries | map(select(.key|startswith("invalid"))) | map(.value) | add') invalid, 1 fault each)"
	echo "throughput: median of $RUNS interleaved runs, wall time from process start to exit (fixed costs included;"
	echo "the 1-payload column is each tool's median wall time on a single payload: start-up and schema compilation)"
	echo
	printf '%-12s %9s %8s %11s %13s %9s %9s %7s   %s\n' tool "median s" "MB/s" "payloads/s" "1-payload ms" "net MB/s" "net p/s" "CPU s" "counts"
	for name in "${NAMES[@]}"; do
		m=${MED[$name]}
		net=$(awk -v m="$m" -v f="${FIX[$name]}" 'BEGIN {print m-f}')
		printf '%-12s %9.3f %8.1f %11.0f %13.1f %9.1f %9.0f %7.3f   %s\n' "$name" "$m" \
			"$(awk -v b="$BYTES" -v m="$m" 'BEGIN {print b/1e6/m}')" \
			"$(awk -v n="$PAYLOADS" -v m="$m" 'BEGIN {print n/m}')" \
			"$(awk -v f="${FIX[$name]}" 'BEGIN {print f*1000}')" \
			"$(awk -v b="$BYTES" -v m="$net" 'BEGIN {print b/1e6/m}')" \
			"$(awk -v n="$PAYLOADS" -v m="$net" 'BEGIN {print n/m}')" \
			"${CPU[$name]}" \
			"$(cat "$OUT/$name.counts")"
	done
	echo "verdicts agree across tools: $AGREE"
	if [ "$HAVE_CLI" = 1 ]; then
		cmp -s "$OUT/ccx-cli.out" "$OUT/ccx-cli-j1.out" && same=yes || same=NO
		echo "ccx-cli output identical to --jobs 1: $same"
	fi
	echo
	ref=ccx-cli
	[ "$HAVE_CLI" = 1 ] || ref=ccx-lib
	ratio() { awk -v a="${MED[$1]}" -v b="${MED[$2]}" 'BEGIN {printf "%.2fx", a/b}'; }
	netratio() { awk -v a="${MED[$1]}" -v fa="${FIX[$1]}" -v b="${MED[$2]}" -v fb="${FIX[$2]}" 'BEGIN {printf "%.2fx", (a-fa)/(b-fb)}'; }
	cpuratio() { awk -v a="${CPU[$1]}" -v b="${CPU[$2]}" 'BEGIN {printf "%.2fx", a/b}'; }
	echo "speed-up $ref vs jsonschema: $(ratio jsonschema "$ref") wall, $(netratio jsonschema "$ref") net, $(cpuratio jsonschema "$ref") CPU  (target >= 5x)"
	echo "speed-up $ref vs ajv:        $(ratio ajv "$ref") wall, $(netratio ajv "$ref") net, $(cpuratio ajv "$ref") CPU  (target >= 2x)"
	if [ "$ref" = ccx-cli ]; then
		echo "speed-up ccx-cli-j1 vs jsonschema: $(ratio jsonschema ccx-cli-j1) wall, $(netratio jsonschema ccx-cli-j1) net, $(cpuratio jsonschema ccx-cli-j1) CPU"
		echo "speed-up ccx-cli-j1 vs ajv:        $(ratio ajv ccx-cli-j1) wall, $(netratio ajv ccx-cli-j1) net, $(cpuratio ajv ccx-cli-j1) CPU"
		echo "speed-up ccx-lib vs jsonschema: $(ratio jsonschema ccx-lib) wall, $(netratio jsonschema ccx-lib) net; vs ajv: $(ratio ajv ccx-lib) wall, $(netratio ajv ccx-lib) net"
	fi
	echo "(wall: whole process, as a user runs it; net: wall minus the 1-payload time, i.e. without start-up and"
	echo " schema compilation; CPU: median user+sys seconds of a corpus run, all threads, start-up included;"
	echo " ccx-cli uses one worker per CPU ($(nproc) here), ccx-cli-j1 one; ajv's Node also runs JIT/GC threads)"
	echo
	echo "cold start ($COLD_HOW of $COLD_RUNS):"
	printf '  %-40s %8.2f ms\n' "$COLD_CCX" "$(awk -v s="$COLD_CCX_S" 'BEGIN {print s*1000}')"
	printf '  %-40s %8.2f ms\n' "$COLD_JQ" "$(awk -v s="$COLD_JQ_S" 'BEGIN {print s*1000}')"
	echo "  ratio ccx/jq: $(awk -v a="$COLD_CCX_S" -v b="$COLD_JQ_S" 'BEGIN {printf "%.2fx", a/b}')  (target <= ~2x)"
} | tee "$OUT/results.txt"
