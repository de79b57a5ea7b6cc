// Include MPI's C API only: the C++ bindings of Open MPI and MPICH leave undefined
// symbols that make the addon fail to load.
#pragma once
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
