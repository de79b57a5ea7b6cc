/*
 * The floor of the fence-bcast rows (bench/lib/fence.mjs): a plain blocking MPI_Bcast of N
 * bytes from rank 0, timed like the singleWrite() it is compared with (barrier, then the
 * call, on every rank; per run the slowest rank counts).
 *
 *   mpirun -np 4 build/bench/bcast-floor SIZE:REPS [SIZE:REPS ...]
 *
 * For each size, three variants: "reused" receives into the same (already touched)
 * buffer every run, the true floor; "fresh" receives into newly allocated memory every
 * run, as a new message in any runtime does (page faults included); "freshHuge" does the
 * same with 2 MiB-aligned memory advised for transparent huge pages (Linux; payloads of
 * 2 MiB and up, smaller ones as "fresh"), which is
 * what a receiver that must hand out new memory per message can get down to. Rank 0
 * prints one JSON line per size: {"size":N,"reused":[ms per run],"fresh":[...],...}.
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void bcast(unsigned char *buffer, size_t size) {
  /* MPI counts are ints: chunk larger payloads, as the addon does. */
  for (size_t offset = 0; offset < size; offset += INT_MAX) {
    size_t left = size - offset;
    int count = left > INT_MAX ? INT_MAX : (int)left;
    MPI_Bcast(buffer + offset, count, MPI_BYTE, 0, MPI_COMM_WORLD);
  }
}

/* One timed run: everyone leaves a barrier, then broadcasts. Milliseconds. */
static double run(unsigned char *buffer, size_t size) {
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  bcast(buffer, size);
  return (MPI_Wtime() - start) * 1e3;
}

/* New memory for one message; `huge`: 2 MiB-aligned and advised for huge pages. */
static unsigned char *fresh_buffer(size_t size, int huge) {
  size_t bytes = size ? size : 1;
#ifdef MADV_HUGEPAGE
  if (huge && size >= ((size_t)2 << 20)) {
    size_t align = (size_t)2 << 20;
    unsigned char *p = aligned_alloc(align, (bytes + align - 1) / align * align);
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
  }
#else
  (void)huge;
#endif
  return malloc(bytes);
}

static void print_runs(const char *name, const double *all, int ranks, int reps) {
  printf("\"%s\":[", name);
  for (int i = 0; i < reps; i++) {
    double slowest = 0;
    for (int r = 0; r < ranks; r++) {
      double t = all[r * reps + i];
      if (t > slowest) slowest = t;
    }
    printf("%s%.6f", i ? "," : "", slowest);
  }
  printf("]");
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  for (int a = 1; a < argc; a++) {
    size_t size = 0;
    int reps = 0;
    if (sscanf(argv[a], "%zu:%d", &size, &reps) != 2 || reps < 1) {
      if (rank == 0) fprintf(stderr, "bad argument %s (SIZE:REPS)\n", argv[a]);
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int warmup = reps / 5 + 1;
    double *reused = calloc((size_t)reps, sizeof(double));
    double *fresh = calloc((size_t)reps, sizeof(double));
    double *freshHuge = calloc((size_t)reps, sizeof(double));
    double *all = rank == 0 ? calloc((size_t)reps * (size_t)ranks, sizeof(double)) : NULL;

    unsigned char *buffer = malloc(size ? size : 1);
    memset(buffer, rank == 0 ? 7 : 0, size);
    for (int i = 0; i < warmup + reps; i++) {
      double t = run(buffer, size);
      if (i >= warmup) reused[i - warmup] = t;
    }
    for (int huge = 0; huge <= 1; huge++) {
      double *times = huge ? freshHuge : fresh;
      for (int i = 0; i < reps; i++) {
        if (rank == 0) {
          times[i] = run(buffer, size);
        } else {
          unsigned char *target = fresh_buffer(size, huge);
          times[i] = run(target, size);
          free(target);
        }
      }
    }
    free(buffer);

    if (rank == 0) printf("{\"size\":%zu,\"ranks\":%d,", size, ranks);
    MPI_Gather(reused, reps, MPI_DOUBLE, all, reps, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) print_runs("reused", all, ranks, reps), printf(",");
    MPI_Gather(fresh, reps, MPI_DOUBLE, all, reps, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) print_runs("fresh", all, ranks, reps), printf(",");
    MPI_Gather(freshHuge, reps, MPI_DOUBLE, all, reps, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) print_runs("freshHuge", all, ranks, reps), printf("}\n"), fflush(stdout);
    free(reused);
    free(fresh);
    free(freshHuge);
    free(all);
  }
  MPI_Finalize();
  return 0;
}
