// Open MPI 4.x's osc rdma keeps a window's memory of the ranks of one node in a file it
// names after the node, the job and the communicator's id only (osc_rdma.<node>.<job>.<cid>
// in /dev/shm). Disjoint communicators of one job may get the same id, and windows created
// on both at the same time then share one file, or one group opens the file after the
// other unlinked it (MPI_ERR_WIN, "open(2) ... No such file or directory"). Open MPI's main
// branch puts the creator's pid in the name (open-mpi/ompi 9bcc823, 2021); 4.1.x never got
// it. A backing directory of each process's own gives every file a unique path.
#pragma once

#include <string>

namespace mpilock {

// Before MPI_Init on Open MPI < 5, unless OMPI_MCA_osc_rdma_backing_directory is set:
// makes /dev/shm/mpilock-osc-<pid> and points the variable at it; also removes the empty
// directories of such processes that no longer run. Returns the directory made ("" none).
std::string prepareOscBackingDirectory();

// After MPI_Finalize: removes the directory (Open MPI unlinks each file once attached).
void removeOscBackingDirectory(const std::string& dir);

}  // namespace mpilock
