// Which one-sided (osc) component MPI will use for the lock windows, where MPI says so.
// Open MPI: osc ucx cannot give the lock passive-target progress between ranks of one
// node (open-mpi/ompi#10559: lock jobs spin without end), so sync() refuses it.
#pragma once
#include <string>

namespace mpilock {

struct OneSided {
  // "ucx", or the only component the "osc" parameter allows; "" when unknown.
  std::string component;
  // Open MPI's "osc" MCA parameter as set (an include or ^exclude list), "" if unset.
  std::string setting;
};

// Reads Open MPI's MCA parameters through the MPI tool interface (MPI_T); MPI must be
// initialized. Elsewhere (MPICH) both fields stay empty.
OneSided oneSidedComponent();

}  // namespace mpilock
