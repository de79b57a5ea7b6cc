#!/usr/bin/env bash
# Model-checks model/phase_fair_lock.pml with spin (Debian package `spin`): safety with
# withdrawals, that readers share, and freedom from starvation of writers and readers.
# RANKS=2 (default: a writer and a rank that reads and writes) searches the whole state
# space in seconds; RANKS=3 adds a reader and does not finish on a 24 GiB machine yet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v spin >/dev/null || { echo "spin not installed (apt-get install spin)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp phase_fair_lock.pml "$work/"
ranks=${RANKS:-2}
cd "$work"

run() { # name, spin flags, cc flags, pan flags, expected errors
  local name=$1 spinflags=$2 ccflags=$3 panflags=$4 expect=$5
  spin -DRANKS=$ranks $spinflags -a phase_fair_lock.pml >/dev/null
  gcc -O2 $ccflags -o pan pan.c 2>/dev/null
  local out errors states
  out=$(./pan $panflags 2>&1)
  errors=$(grep -oP 'errors: \K[0-9]+' <<<"$out" | tail -1)
  states=$(grep -oP '^\s*\K[0-9.e+]+(?= states, stored)' <<<"$out" | tail -1)
  if [ "$errors" = "$expect" ]; then
    echo "ok   $name (errors: $errors, states: $states)"
  else
    echo "FAIL $name (errors: $errors, expected $expect)"
    echo "$out" | tail -30
    exit 1
  fi
}

echo "spin model, $ranks ranks"
run "mutual exclusion, no deadlock" "" "-DSAFETY -DNOCLAIM" "-m1000000" 0
run "readers share the lock (a counterexample expected)" "-DNEVER_SHARED" "-DSAFETY -DNOCLAIM" "-m1000000" 1
run "no starvation: writer" "" "" "-a -f -m1000000 -N writer0" 0
run "no starvation: reader" "" "" "-a -f -m1000000 -N reader0" 0
