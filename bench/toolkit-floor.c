/*
 * The floors of the toolkit rows (bench/toolkit.mjs), in C on the same kind of window the
 * toolkit's slots use (addon/toolkit/slot_window.cc: MPI_Win_allocate of int64 slots on
 * rank 0, same_op_no_op, one MPI_Win_lock_all epoch):
 *   fetch-add  MPI_Fetch_and_op(MPI_SUM) + MPI_Win_flush on rank 0's slot, every rank at once
 *   barrier    MPI_Barrier
 *
 *   mpirun -np 4 build/bench/toolkit-floor OPS
 *
 * Rank 0 prints one JSON line: {"fetchAddUs":[us per op, per rank],"barrierUs":us per op}.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long ops = argc > 1 ? atol(argv[1]) : 10000;

  MPI_Info info;
  MPI_Info_create(&info);
  MPI_Info_set(info, "accumulate_ops", "same_op_no_op");
  MPI_Info_set(info, "accumulate_ordering", "none");
  int64_t *base = NULL;
  MPI_Aint bytes = rank == 0 ? (MPI_Aint)sizeof(int64_t) : 0;
  MPI_Win win;
  MPI_Win_allocate(bytes, sizeof(int64_t), info, MPI_COMM_WORLD, &base, &win);
  MPI_Info_free(&info);
  if (rank == 0) base[0] = 0;
  MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
  MPI_Win_sync(win);
  MPI_Barrier(MPI_COMM_WORLD);

  const int64_t one = 1;
  int64_t old = 0;
  for (long i = 0; i < ops / 10; i++) { /* warm-up */
    MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, 0, MPI_SUM, win);
    MPI_Win_flush(0, win);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  for (long i = 0; i < ops; i++) {
    MPI_Fetch_and_op(&one, &old, MPI_INT64_T, 0, 0, MPI_SUM, win);
    MPI_Win_flush(0, win);
  }
  double fetchUs = (MPI_Wtime() - start) * 1e6 / (double)ops;
  double *all = rank == 0 ? malloc(sizeof(double) * (size_t)size) : NULL;
  MPI_Gather(&fetchUs, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);

  for (long i = 0; i < ops / 10; i++) MPI_Barrier(MPI_COMM_WORLD);
  start = MPI_Wtime();
  for (long i = 0; i < ops; i++) MPI_Barrier(MPI_COMM_WORLD);
  double barrierUs = (MPI_Wtime() - start) * 1e6 / (double)ops;

  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);
  if (rank == 0) {
    printf("{\"fetchAddUs\":[");
    for (int r = 0; r < size; r++) printf("%s%.4f", r ? "," : "", all[r]);
    printf("],\"barrierUs\":%.4f}\n", barrierUs);
    fflush(stdout);
    free(all);
  }
  MPI_Finalize();
  return 0;
}
