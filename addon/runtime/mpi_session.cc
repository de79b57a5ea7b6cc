// The MPI session of the process: initialized once on the progress thread, finalized
// once at shutdown (or aborted, see ProgressThread::run).
#include <dlfcn.h>

#include "runtime/one_sided.h"
#include "runtime/osc_backing_dir.h"
#include "runtime/progress_thread.h"

namespace mpilock {

void ProgressThread::initialize() {
  // Safety net for MPI builds whose plugins do not link libmpi themselves.
  for (const char* lib : {"libmpi.so.40", "libmpi.so.12", "libmpi.so"}) {
    if (dlopen(lib, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) break;
  }
  Completion c{Completion::Type::kInit};
  int initialized = 0, provided = MPI_THREAD_SINGLE;
  MPI_Initialized(&initialized);
  if (initialized) {
    MPI_Query_thread(&provided);
  } else {
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    weInitialized_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  serialized_ = provided >= MPI_THREAD_SERIALIZED;
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  while (len > 0 && version[len - 1] == '\0') --len;  // Open MPI counts the terminating NUL
  c.rank = rank_;
  c.size = size_;
  c.threadLevel = provided;
  c.text.assign(version, len);
  OneSided osc = oneSidedComponent();
  c.oneSided = osc.component;
  c.oneSidedSetting = osc.setting;
  outbox_.push_back(std::move(c));
}

void ProgressThread::finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (weInitialized_ && !finalized) MPI_Finalize();
  removeOscBackingDirectory(oscBackingDir_);
}

}  // namespace mpilock
