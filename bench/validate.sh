#!/usr/bin/env bash
# bench/validate.sh — how fast is `ccx validate` next to JSON Schema validators?
#
# Builds a deterministic NDJSON corpus of webhook bodies (bench/gen), builds
# ccx and the baselines, then times, interleaved in the same run:
#   ccx-cli-j1  ccx validate --jobs 1 corpus.ndjson --output json > /dev/null
#               (the real command, sequential: one core)
#   ccx-cli     the same with the default --jobs (one worker per CPU)
#   ccx-lib     validate.Bytes per line in one process (bench/ccxlib), no CLI output
#   ajv         ajv/dist/2020 + the ccx schema, one Node process, JSON.parse +
#               validate per line: bench/ajv/validate.js (file read whole) and
#               bench/ajv/simple.js (readline), and each round takes the faster
#   jsonschema  santhosh-tekuri/jsonschema v6 + the ccx schema (bench/jsonschema)
# in RUNS rounds. Each round runs every tool once on the corpus, three times
# on a one-payload file (the fastest is its fixed cost: start-up and schema
# compilation) and once more on the corpus for its CPU time; ratios are computed per round (ccx-cli-j1 against that round's
# ajv, ...) and reported as the median of the rounds' ratios with their
# spread (min-max), never as a ratio of medians. Every tool starts from the
# file's bytes: parsing is part of the cost.
#
# Then, on N_1M payloads (1,000,000 by default; N_1M=0 skips it), ROUNDS_1M
# rounds of ccx-cli-j1 (whole process, with its maximum RSS) against ajv
# *warm*: both scripts validate the first WARM (100,000) lines untimed, then
# time their pass over the whole file in process (reading, JSON.parse and
# validation; no start-up, compilation or warm-up). Last, cold start:
# `ccx validate small.json` against `jq . small.json`, in COLD_ROUNDS rounds
# of COLD_RUNS runs each (hyperfine when installed), the ratio per round.
#
# PIN=N runs every tool on CPU N (taskset); ajv's JIT and GC threads then
# share that CPU too. Local files only, no network except `npm install` in
# bench/ajv (npm registry). Outputs go to bench/out/ (gitignored): corpora,
# binaries, per-tool counts, times.txt, results.txt. Not run in CI.
#
#   bench/validate.sh                          # N=100000 RUNS=7 N_1M=1000000 ROUNDS_1M=3 COLD_ROUNDS=5 COLD_RUNS=20 SEED=1
#   N=20000 RUNS=3 N_1M=0 bench/validate.sh    # quicker
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=bench/out
N=${N:-100000}
RUNS=${RUNS:-7}
N_1M=${N_1M:-1000000}
ROUNDS_1M=${ROUNDS_1M:-3}
WARM=${WARM:-100000}
COLD_RUNS=${COLD_RUNS:-20}
COLD_ROUNDS=${COLD_ROUNDS:-5}
SEED=${SEED:-1}
mkdir -p "$OUT"

die() { echo "validate.sh: $*" >&2; exit 1; }
for tool in go node npm jq; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is required for CPU times and RSS (Debian: apt-get install time)"
log() { echo "-- $*" >&2; }

PINCMD=()
if [ -n "${PIN:-}" ]; then PINCMD=(taskset -c "$PIN"); fi
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

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

# run_tool NAME FILE: validate FILE with tool NAME, discarding the report
# (the ajv scripts' counts, with their in-process "ms", go to $OUT/NAME.last).
run_tool() {
	case $1 in
	ccx-cli) "${PINCMD[@]}" "$OUT/ccx" validate "$2" --output json >/dev/null 2>&1 || true ;; # exits 1 on invalid payloads
	ccx-cli-j1) "${PINCMD[@]}" "$OUT/ccx" validate --jobs 1 "$2" --output json >/dev/null 2>&1 || true ;;
	ccx-lib) "${PINCMD[@]}" "$OUT/ccxlib" "$2" 2>/dev/null ;;
	jsonschema) "${PINCMD[@]}" "$OUT/jsonschema" -schema "$OUT/webhook.schema.json" "$2" 2>/dev/null ;;
	ajv) WARM=$AJV_WARM "${PINCMD[@]}" node bench/ajv/validate.js "$OUT/webhook.schema.json" "$2" 2>"$OUT/ajv.last" ;;
	ajv-simple) WARM=$AJV_WARM "${PINCMD[@]}" node bench/ajv/simple.js "$OUT/webhook.schema.json" "$2" 2>"$OUT/ajv-simple.last" ;;
	esac
}
AJV_WARM=0 # the 1M part sets it
jq -c . "$OUT/small.json" >"$OUT/one.ndjson"
# In a round, ccx-cli-j1 and ajv run next to each other.
NAMES=(ccx-cli-j1 ajv ajv-simple ccx-cli ccx-lib jsonschema)

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
	ajv | ajv-simple) run_tool "$name" "$OUT/corpus.ndjson" && jq -c 'del(.ms)' "$OUT/$name.last" >"$OUT/$name.counts" ;;
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
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.6f", (b-a)/1e9}'; }
# CPU time (user+sys of the process and its threads) is less disturbed than
# wall time when other jobs share the CPUs.
TIMEFORMAT='%3U %3S'
cpu_of() { { time run_tool "$1" "$2"; } 2>&1 | awk '{printf "%.3f", $1 + $2}'; }

# times.txt: one line per round and tool: round name wall fixed cpu
log "timing: $RUNS rounds of ${NAMES[*]}"
: >"$OUT/times.txt"
for ((r = 1; r <= RUNS; r++)); do
	for name in "${NAMES[@]}"; do
		t0=$(now_ns)
		run_tool "$name" "$OUT/corpus.ndjson"
		t1=$(now_ns)
		# The fixed cost: the fastest of three one-payload runs (load only adds).
		fixed=""
		for _ in 1 2 3; do
			t2=$(now_ns)
			run_tool "$name" "$OUT/one.ndjson"
			t3=$(now_ns)
			f=$(elapsed "$t2" "$t3")
			if [ -z "$fixed" ] || awk -v a="$f" -v b="$fixed" 'BEGIN {exit !(a < b)}'; then fixed=$f; fi
		done
		echo "$r $name $(elapsed "$t0" "$t1") $fixed $(cpu_of "$name" "$OUT/corpus.ndjson")" >>"$OUT/times.txt"
	done
done

# col NAME FIELD: that tool's values, one per round (wall=3 fixed=4 cpu=5; net = wall - fixed).
col() { awk -v n="$1" -v f="$2" '$2 == n {print (f == "net") ? $3 - $4 : $f}' "$OUT/times.txt"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.2f-%.2f", lo, hi}'; }
# ratios BASE TOOL FIELD: per round, BASE's value / TOOL's (how many times
# faster TOOL is); BASE "ajv" is the faster ajv script of the round.
ratios() {
	awk -v base="$1" -v tool="$2" -v f="$3" '
		function v(f) { return (f == "net") ? $3 - $4 : $f }
		{ x = v(f) }
		$2 == tool { t[$1] = x }
		$2 == base || (base == "ajv" && $2 == "ajv-simple") { if (!($1 in b) || x < b[$1]) b[$1] = x }
		END { for (r in t) if (r in b && t[r] > 0) print b[r] / t[r] }' "$OUT/times.txt"
}
ratio_line() { # BASE TOOL: "wall Wx (lo-hi), net Nx (lo-hi), CPU Cx (lo-hi)"
	local out="" f
	for f in 3 net 5; do
		local name=$f
		[ "$f" = 3 ] && name=wall
		[ "$f" = 5 ] && name=CPU
		out+="$name $(ratios "$1" "$2" "$f" | median | xargs printf '%.2f')x ($(ratios "$1" "$2" "$f" | spread)), "
	done
	echo "${out%, }"
}
ajv_pick() { # which ajv script was faster, per round
	awk '$2 ~ /^ajv/ { if (!($1 in b) || $3 < b[$1]) { if (!($1 in b)) rounds++; b[$1] = $3; w[$1] = $2 } } END { for (r in w) n[w[r]]++; for (k in n) printf "%s in %d of %d rounds; ", k, n[k], rounds }' "$OUT/times.txt"
}

# ---- 1M payloads: ccx-cli-j1 against ajv warm --------------------------------
if [ "$N_1M" -gt 0 ]; then
	if [ ! -s "$OUT/corpus-$N_1M-$SEED.ndjson" ]; then
		log "generating $N_1M payloads (seed $SEED) for the warm comparison"
		go run ./bench/gen -n "$N_1M" -seed "$SEED" -o "$OUT/corpus-$N_1M-$SEED.ndjson" 2>/dev/null
	fi
	BIG=$OUT/corpus-$N_1M-$SEED.ndjson
	BIG_BYTES=$(stat -c %s "$BIG")
	log "1M: warm-up pass (page cache)"
	run_tool ccx-cli-j1 "$BIG"
	log "1M: $ROUNDS_1M rounds of ccx-cli-j1, ajv and ajv-simple (WARM=$WARM)"
	: >"$OUT/times-1m.txt"
	for ((r = 1; r <= ROUNDS_1M; r++)); do
		t0=$(now_ns)
		/usr/bin/time -f '%M' -o "$OUT/rss.last" "${PINCMD[@]}" "$OUT/ccx" validate --jobs 1 "$BIG" --output json >/dev/null 2>&1 || true
		t1=$(now_ns)
		echo "$r ccx-cli-j1 $(elapsed "$t0" "$t1") $(tail -n 1 "$OUT/rss.last")" >>"$OUT/times-1m.txt" # time(1) may print the exit status first
		for a in ajv ajv-simple; do
			t0=$(now_ns)
			AJV_WARM=$WARM run_tool "$a" "$BIG"
			t1=$(now_ns)
			echo "$r $a $(elapsed "$t0" "$t1") $(jq '.ms / 1000' "$OUT/$a.last")" >>"$OUT/times-1m.txt"
		done
	done
	# Per round: ajv's best warm pass (field 4, s) / ccx's whole run (field 3, s).
	big_ratios() {
		awk -v f="$1" '$2 == "ccx-cli-j1" { c[$1] = $3 } $2 ~ /^ajv/ { if (!($1 in a) || $f < a[$1]) a[$1] = $f }
			END { for (r in c) print a[r] / c[r] }' "$OUT/times-1m.txt"
	}
	big_col() { awk -v n="$1" -v f="$2" '$2 == n {print $f}' "$OUT/times-1m.txt"; }
fi

# Cold start in COLD_ROUNDS rounds of COLD_RUNS runs of each command (ccx,
# then jq, back to back), so that a load change hits both: the ratio is
# taken per round.
log "cold start: $COLD_ROUNDS rounds of $COLD_RUNS runs each"
COLD_CCX="$OUT/ccx validate $OUT/small.json"
COLD_JQ="jq . $OUT/small.json"
: >"$OUT/cold.txt"
for ((r = 1; r <= COLD_ROUNDS; r++)); do
	if command -v hyperfine >/dev/null; then
		hyperfine -N -i --warmup 3 --runs "$COLD_RUNS" --style none \
			--export-json "$OUT/cold.json" "$COLD_CCX" "$COLD_JQ" >/dev/null 2>&1
		echo "$(jq '.results[0].median' "$OUT/cold.json") $(jq '.results[1].median' "$OUT/cold.json")" >>"$OUT/cold.txt"
		COLD_HOW="hyperfine $(hyperfine --version | awk '{print $2}'), median"
	else
		cold() {
			local ts="" i t0 t1
			for ((i = 0; i < COLD_RUNS; i++)); do
				t0=$(now_ns)
				$1 >/dev/null 2>&1 || true
				t1=$(now_ns)
				ts+="$(elapsed "$t0" "$t1") "
			done
			tr ' ' '\n' <<<"$ts" | grep . | median
		}
		echo "$(cold "$COLD_CCX") $(cold "$COLD_JQ")" >>"$OUT/cold.txt"
		COLD_HOW="date +%s%N loop, median"
	fi
done
COLD_CCX_S=$(awk '{print $1}' "$OUT/cold.txt" | median)
COLD_JQ_S=$(awk '{print $2}' "$OUT/cold.txt" | median)

# Report.
{
	echo "ccx validate benchmark — $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "machine: $(nproc) CPU, load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; pinned: ${PIN:+CPU }${PIN:-no}; $(go version | awk '{print $3}'), node $(node --version), ajv $(node -p 'require("./bench/ajv/node_modules/ajv/package.json").version'), jsonschema $(go list -m -f '{{.Version}}' github.com/santhosh-tekuri/jsonschema/v6)"
	echo "corpus: $PAYLOADS webhook payloads, $BYTES bytes, seed $SEED  ($(jq -c '.labels | to_entries | map(select(.key|startswith("invalid"))) | map(.value) | add' "$OUT/gen.json") invalid, 1 fault each)"
	echo "$RUNS rounds; per tool the median wall time from process start to exit, its MB/s, the 1-payload time (fastest of 3)"
	echo "(start-up and schema compilation), net MB/s = bytes / (wall - 1-payload) and the median CPU time (user+sys, all threads)"
	echo
	printf '%-12s %9s %8s %11s %13s %9s %7s   %s\n' tool "median s" "MB/s" "payloads/s" "1-payload ms" "net MB/s" "CPU s" "counts"
	for name in "${NAMES[@]}"; do
		m=$(col "$name" 3 | median)
		f=$(col "$name" 4 | median)
		net=$(col "$name" net | median)
		printf '%-12s %9.3f %8.1f %11.0f %13.1f %9.1f %7.3f   %s\n' "$name" "$m" \
			"$(awk -v b="$BYTES" -v m="$m" 'BEGIN {print b/1e6/m}')" \
			"$(awk -v n="$PAYLOADS" -v m="$m" 'BEGIN {print n/m}')" \
			"$(awk -v f="$f" 'BEGIN {print f*1000}')" \
			"$(awk -v b="$BYTES" -v m="$net" 'BEGIN {print b/1e6/m}')" \
			"$(col "$name" 5 | median)" \
			"$(cat "$OUT/$name.counts")"
	done
	echo "verdicts agree across tools: $AGREE"
	cmp -s "$OUT/ccx-cli.out" "$OUT/ccx-cli-j1.out" && same=yes || same=NO
	echo "ccx-cli output identical to --jobs 1: $same"
	echo "faster ajv script: $(ajv_pick)"
	echo
	echo "speed-up, median of the $RUNS rounds' ratios (spread min-max); ajv = the faster ajv script of each round:"
	echo "  ccx-cli-j1 vs ajv:        $(ratio_line ajv ccx-cli-j1)   (target >= 3x)"
	echo "  ccx-cli    vs ajv:        $(ratio_line ajv ccx-cli)"
	echo "  ccx-lib    vs ajv:        $(ratio_line ajv ccx-lib)"
	echo "  ccx-cli-j1 vs jsonschema: $(ratio_line jsonschema ccx-cli-j1)"
	echo "  ccx-cli    vs jsonschema: $(ratio_line jsonschema ccx-cli)   (target >= 5x)"
	echo "(wall: whole process, as a user runs it; net: wall minus the 1-payload time; CPU: user+sys, all threads;"
	echo " ccx-cli uses one worker per CPU ($(nproc) here), ccx-cli-j1 one; ajv's Node also runs JIT/GC threads)"
	if [ "$N_1M" -gt 0 ]; then
		echo
		echo "warm, big corpus: $N_1M payloads, $BIG_BYTES bytes (bench/gen -seed $SEED), $ROUNDS_1M rounds; ajv validates its first $WARM lines untimed,"
		echo "then times its pass over the file in process; ccx-cli-j1 is timed as a whole process (start-up included)"
		cm=$(big_col ccx-cli-j1 3 | median)
		printf '  ccx-cli-j1 --jobs 1      %7.3f s  %6.1f MB/s  max RSS %.1f MB (runs: %s)   (target <= 32 MB)\n' "$cm" \
			"$(awk -v b="$BIG_BYTES" -v m="$cm" 'BEGIN {print b/1e6/m}')" "$(big_col ccx-cli-j1 4 | sort -g | tail -1 | awk '{print $1/1024}')" \
			"$(big_col ccx-cli-j1 4 | awk '{printf "%.1f ", $1/1024}')"
		for a in ajv ajv-simple; do
			am=$(big_col "$a" 4 | median)
			printf '  %-24s %7.3f s  %6.1f MB/s  warm pass (whole process %.3f s)\n' "$a" "$am" \
				"$(awk -v b="$BIG_BYTES" -v m="$am" 'BEGIN {print b/1e6/m}')" "$(big_col "$a" 3 | median)"
		done
		echo "  ratio ccx-cli-j1 / ajv warm: $(big_ratios 4 | median | xargs printf '%.2f')x ($(big_ratios 4 | spread))   (target >= 2x)"
		echo "  ratio ccx-cli-j1 / ajv, whole processes: $(big_ratios 3 | median | xargs printf '%.2f')x ($(big_ratios 3 | spread))"
	fi
	echo
	echo "cold start ($COLD_HOW of $COLD_RUNS, $COLD_ROUNDS rounds; medians of the rounds):"
	printf '  %-40s %8.2f ms\n' "$COLD_CCX" "$(awk -v s="$COLD_CCX_S" 'BEGIN {print s*1000}')"
	printf '  %-40s %8.2f ms\n' "$COLD_JQ" "$(awk -v s="$COLD_JQ_S" 'BEGIN {print s*1000}')"
	echo "  ratio ccx/jq: $(awk '{print $1/$2}' "$OUT/cold.txt" | median | xargs printf '%.2f')x median of the rounds' ratios ($(awk '{print $1/$2}' "$OUT/cold.txt" | spread))  (target <= 0.25x)"
} | tee "$OUT/results.txt"
