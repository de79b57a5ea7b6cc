# One cell of the lock table under the Python reference (mpilock 1.1, with mpi4py), the
# same loop as bench/ranks/cells.mjs and bench/ranks/lock.ts, through its public API:
#   sync(); barrier; --cold operations timed (no warm-up); --warmup more untimed;
#   barrier; --warm operations timed.
# Reads and writes of the mixes drawn from mulberry32 seeded with --seed + rank. Every
# rank prints one line `MPILOCK-REPORT {json}` (collected by scripts/launch/).
#
#   PYTHONPATH=<reference>/python mpirun -np N python3 bench/reference/lock.py
#       --workload=read-loop [--cold=2000] [--warmup=20000] [--warm=2000] [--seed=1]
import json
import sys
import time

from mpi4py import MPI
from mpilock import sync

WRITE_SHARE = {"read-loop": 0.0, "write-loop": 1.0, "mixed-90-10": 0.1, "mixed-50-50": 0.5}


def flags(argv):
    out = {}
    for arg in argv:
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            out[key] = value
    return out


def imul(a, b):
    return (a * b) & 0xFFFFFFFF


def mulberry32(seed):
    """The same sequence as mulberry32 in bench/ranks/report.mjs and bench/floor.cc."""
    state = [seed & 0xFFFFFFFF]

    def next_value():
        state[0] = (state[0] + 0x6D2B79F5) & 0xFFFFFFFF
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0

    return next_value


def chooser(workload, seed):
    share = WRITE_SHARE[workload]
    if share == 0.0:
        return lambda: False
    if share == 1.0:
        return lambda: True
    draw = mulberry32(seed)
    return lambda: draw() < share


def loop(ctrl, n, is_write):
    for _ in range(n):
        if is_write():
            with ctrl.write():
                pass
        else:
            with ctrl.read():
                pass


def timed(ctrl, n, is_write):
    start = time.perf_counter()
    loop(ctrl, n, is_write)
    return (time.perf_counter() - start) * 1e6 / n


def main():
    opts = flags(sys.argv[1:])
    workload = opts.get("workload", "read-loop")
    comm = MPI.COMM_WORLD
    ctrl = sync()
    is_write = chooser(workload, int(opts.get("seed", "1")) + ctrl.rank)
    comm.Barrier()  # everyone starts together
    cold_us = timed(ctrl, int(opts.get("cold", "2000")), is_write)
    loop(ctrl, int(opts.get("warmup", "20000")), is_write)
    comm.Barrier()
    warm_us = timed(ctrl, int(opts.get("warm", "2000")), is_write)
    line = {
        "rank": ctrl.rank,
        "size": comm.Get_size(),
        "workload": workload,
        "coldUs": cold_us,
        "warmUs": warm_us,
    }
    sys.stdout.write("MPILOCK-REPORT " + json.dumps(line) + "\n")
    sys.stdout.flush()
    comm.Barrier()  # nobody frees the windows while another rank still loops
    ctrl.close()


main()
