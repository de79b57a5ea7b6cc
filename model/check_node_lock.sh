#!/usr/bin/env bash
# Checks model/node_lock.pml (the node-level lock, addon/node_lock/) with spin.
# NOT EXHAUSTIVE YET: at the C++'s step granularity the state space is too large for a few
# minutes (2 slots without biased reads: more than 58 million states after 5 minutes), so
# every search here is a bitstate search (-DBITSTATE, 2^30 bits) cut off after
# NODE_LOCK_SECS seconds (default 40). A counterexample it finds is real; a pass only says
# that none was found in the part of the state space it covered (the table says how much).
#   - 3 slots (slot 0 writes, slot 1 reads and writes, slot 2 reads), biased reads and one
#     cancellation: mutual exclusion (assertions), no deadlock (invalid end states); no
#     starvation of writers and of readers (LTL, weak fairness);
#   - sanity, each must fail: "readers never share", the turn passed without a wake, a
#     waiter that sleeps without re-checking, a release that leaves cancelled readers counted.
# Prints a table; exits 1 when a sanity mutant is not caught or a property fails. Last run
# (30 s each): the properties none found in 0.9-1.4e7 states; three mutants caught in 1-2 s;
# BUG_NO_WAKE not caught in 30 s (so exit 1): the search is too shallow for it. Before the
# fix of a writer withdrawn mid-drain (node_lock.h), "no starvation: readers" found that ABA
# in 4 s. Not yet called by model/check.sh (npm run model) for these reasons.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v spin >/dev/null || { echo "spin not installed (apt-get install spin)"; exit 1; }
secs=${NODE_LOCK_SECS:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp node_lock.pml "$work/"
cd "$work"
status=0

# name, spin -D flags, kind (safety|liveness:<claim>), expect (pass|<error regex>)
check() {
  local name=$1 defs=$2 kind=$3 expect=$4 d dflags="" ccflags="-DBITSTATE" panflags="-m10000000 -w30"
  if [ -n "${MODEL_ONLY:-}" ] && ! grep -qE "$MODEL_ONLY" <<<"$name"; then return; fi
  for d in $defs; do dflags+=" -D$d"; done
  if [ "$kind" = safety ]; then ccflags+=" -DSAFETY -DNOCLAIM"; else panflags+=" -a -f -N ${kind#liveness:}"; fi
  # shellcheck disable=SC2086
  spin $dflags -a node_lock.pml >spin.log 2>&1 || { cat spin.log; exit 1; }
  # shellcheck disable=SC2086
  gcc -O2 -w $ccflags -o pan pan.c
  local t0 out states errors result first
  t0=$(date +%s)
  # shellcheck disable=SC2086
  out=$(timeout "$secs" ./pan $panflags 2>&1) || true
  states=$(grep -oP '(States=\s*\K[0-9.e+]+)|(^\s*\K[0-9.e+]+(?= states, stored))' <<<"$out" | tail -1)
  errors=$(grep -oP 'errors: \K[0-9]+' <<<"$out" | tail -1 || true)
  first=$(grep -m1 '^pan:1' <<<"$out" || true)
  if [ "$expect" = pass ]; then
    if [ -n "$first" ]; then
      result="FAIL (${first#pan:1: })"
    elif [ "${errors:-}" = 0 ]; then
      result="ok (search completed)"
    else
      result="ok, none found (cut off at ${secs}s)"
    fi
  elif [ -n "$first" ] && grep -qE "$expect" <<<"$first"; then
    result="ok, fails as expected: ${first#pan:1: }"
  else
    result="FAIL (expected a counterexample matching '$expect')"
  fi
  [[ $result == FAIL* ]] && status=1
  printf '%-48s %10s %6ss  %s\n' "$name" "${states:-?}" "$(($(date +%s) - t0))" "$result"
}

printf '%-48s %10s %7s  %s\n' property states search result
check "mutual exclusion + no deadlock" "" safety pass
check "no starvation: writers" "" liveness:writers pass
check "no starvation: readers" "" liveness:readers pass
check "readers share (\"never shared\" must fail)" "NEVER_SHARED" safety 'assertion violated'
check "sanity: turn passed without a wake" "BUG_NO_WAKE" liveness:writers 'acceptance cycle'
check "sanity: sleep without re-check" "BUG_NO_RECHECK" liveness:writers 'acceptance cycle'
check "sanity: cancelled readers never absorbed" "BUG_NO_ABSORB" safety 'invalid end state'
[ "$status" -eq 0 ] && echo "node lock model: as expected (bitstate, time-bounded: not exhaustive)" || echo "node lock model check FAILED"
exit "$status"
