#!/usr/bin/env bash
# Slurm in CI: installs Debian's slurm-wlm and munge when missing, then runs the specs that
# launch ranks with srun and sbatch on a test cluster (scripts/slurm.mjs: munged, slurmctld
# and 3 slurmd, each slurmd a node in a network namespace of its own). Each spec file
# starts its cluster and stops it again, and fails if a namespace is left.
# Meant to be sourced by .ci/run after `npm test` (it uses its `step` and `status`); run
# alone (`bash .ci/slurm.sh`) it brings its own.
if ! declare -F step >/dev/null; then
  set -uo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  status=0
  step() {
    local name=$1 cap=$(($2 * 60))
    shift 2
    echo "=== $name (limit ${cap}s)"
    local start=$SECONDS
    if ! timeout --kill-after=30 "$cap" "$@"; then
      echo "=== $name FAILED after $((SECONDS - start))s"
      status=1
    else
      echo "=== $name passed in $((SECONDS - start))s"
    fi
  }
  slurm_alone=1
fi

# `check` installs the packages (apt-get; 'apt-get update' only if the install fails) and
# says why Slurm cannot run here, if it cannot: then the specs would only skip.
step "Slurm: slurm-wlm and munge, namespaces (scripts/slurm.mjs check)" 8 \
  node scripts/slurm.mjs check
step "Slurm: srun and sbatch specs (spec/slurm.spec.ts, spec/slurm-jobs.spec.ts)" 15 \
  npx vitest run spec/slurm.spec.ts spec/slurm-jobs.spec.ts

if [ "${slurm_alone:-0}" = 1 ]; then exit "$status"; fi
