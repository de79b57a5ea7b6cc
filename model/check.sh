#!/usr/bin/env bash
# Model-checks model/phase_fair_lock.pml with spin (Debian package `spin`), exhaustively:
#   - 3 ranks, biased reads on (a superset of the runs with them off), in three set-ups:
#     mixed (rank 0 writes, rank 1 reads and writes, rank 2 reads); all three reading and
#     writing; slots (mixed, with rank 1's read and write slots as two processes, so one
#     can be busy while the other runs; no downgrade there):
#     mutual exclusion (assertions) and no deadlock (invalid end states) in one safety
#     search; no starvation of writers, of readers (LTL, nested DFS, weak fairness);
#   - sanity, each must fail: "readers never share" (so they do), a writer that does not
#     drain (mutual exclusion breaks), the early withdrawal that hands the turn on
#     (EARLY_WITHDRAW: deadlock and starvation).
# No hash compaction or bitstate: every search is exhaustive (a search that hits the depth
# limit counts as a failure). Prints a table; exits 1 when any result is not the expected one.
#   model/check.sh            everything (~2 min of CPU, half of it compiling; < 0.5 GiB each)
#   MODEL_ONLY=regex model/check.sh   only the rows whose name matches
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v spin >/dev/null || { echo "spin not installed (apt-get install spin)"; exit 1; }
command -v gcc >/dev/null || { echo "gcc not installed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp phase_fair_lock.pml "$work/"
cd "$work"

status=0
rows=()
row() { rows+=("$(printf '%-44s %-5s %10s %7s %7s %7s  %s' "$@")"); }

# name, ranks, spin -D flags, kind (safety|liveness:<claim>), expect (pass|<error regex>)
check() {
  local name=$1 ranks=$2 defs=$3 kind=$4 expect=$5
  if [ -n "${MODEL_ONLY:-}" ] && ! grep -qE "$MODEL_ONLY" <<<"$name"; then return; fi
  local dflags="-DRANKS=$ranks" d
  for d in $defs; do dflags+=" -D$d"; done
  local ccflags="-DSAFETY -DNOCLAIM" panflags="-m3000000 -w24"
  if [ "$kind" != safety ]; then
    ccflags=""
    panflags+=" -a -f -N ${kind#liveness:}"
  fi
  local t0 t1 out errors states mem search secs result
  t0=$(date +%s.%N)
  spin $dflags -a phase_fair_lock.pml >spin.log 2>&1 || {
    cat spin.log
    exit 1
  }
  # shellcheck disable=SC2086
  gcc -O2 -w $ccflags -o pan pan.c
  # shellcheck disable=SC2086
  out=$(./pan $panflags 2>&1) || true
  t1=$(date +%s.%N)
  errors=$(grep -oP 'errors: \K[0-9]+' <<<"$out" | tail -1)
  states=$(grep -oP '^\s*\K[0-9.e+]+(?= states, stored)' <<<"$out" | tail -1)
  search=$(grep -oP 'pan: elapsed time \K[0-9.e+-]+' <<<"$out" | tail -1)
  mem=$(grep -oP '^\s*\K[0-9.]+(?=\s+total actual memory usage)' <<<"$out" | tail -1)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if grep -q 'max search depth too small' <<<"$out"; then
    result="FAIL (depth limit: search incomplete)"
  elif [ "$expect" = pass ]; then
    if [ "$errors" = 0 ]; then result="ok"; else result="FAIL ($(grep -m1 '^pan:1' <<<"$out"))"; fi
  else
    local first
    first=$(grep -m1 '^pan:1' <<<"$out" || true)
    if [ "$errors" != 0 ] && grep -qE "$expect" <<<"$first"; then
      result="ok, fails as expected: ${first#pan:1: }"
    else
      result="FAIL (expected a counterexample matching '$expect', got errors: ${errors:-?})"
    fi
  fi
  row "$name" "$ranks" "${states:-?}" "${mem%.*}MB" "$(printf '%.1f' "${search:-0}")s" "${secs}s" "$result"
  if [[ $result == FAIL* ]]; then
    status=1
    echo "--- $name: pan output" >&2
    tail -40 <<<"$out" >&2
  fi
  echo "${rows[-1]}"
}

printf '%-44s %-5s %10s %7s %7s %7s  %s\n' property ranks states memory search total result
mixed=""
both="ALL_BOTH"
check "mutual exclusion + no deadlock (mixed)" 3 "$mixed" safety pass
check "no starvation: writers (mixed)" 3 "$mixed" liveness:writers pass
check "no starvation: readers (mixed)" 3 "$mixed" liveness:readers pass
check "mutual exclusion + no deadlock (all r/w)" 3 "$both" safety pass
check "no starvation: writers (all r/w)" 3 "$both" liveness:writers pass
check "no starvation: readers (all r/w)" 3 "$both" liveness:readers pass
check "mutual exclusion + no deadlock (slots)" 3 "SLOTS" safety pass
check "no starvation: writers (slots)" 3 "SLOTS" liveness:writers pass
check "no starvation: readers (slots)" 3 "SLOTS" liveness:readers pass
check "readers share (\"never shared\" must fail)" 3 "NEVER_SHARED" safety 'assertion violated +!\(shared\)'
check "sanity: writer without drain must fail" 3 "BUG_NO_DRAIN" safety 'assertion violated'
check "sanity: early withdrawal deadlocks" 3 "EARLY_WITHDRAW" safety 'invalid end state'
check "sanity: early withdrawal starves writers" 3 "EARLY_WITHDRAW" liveness:writers 'acceptance cycle'

if [ "$status" -ne 0 ]; then
  echo "model check FAILED"
else
  echo "model check passed (${#rows[@]} runs, all exhaustive)"
fi
exit "$status"
