// See osc_backing_dir.h.
#include "runtime/osc_backing_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "runtime/mpi_headers.h"

namespace mpilock {

namespace {

constexpr const char* kVariable = "OMPI_MCA_osc_rdma_backing_directory";
constexpr const char* kShm = "/dev/shm";
constexpr const char* kPrefix = "mpilock-osc-";

// Empty directories left by processes that ended without finalizing (killed, aborted).
void removeStale() {
  DIR* shm = opendir(kShm);
  if (shm == nullptr) return;
  const size_t prefix = std::strlen(kPrefix);
  while (dirent* e = readdir(shm)) {
    if (std::strncmp(e->d_name, kPrefix, prefix) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(e->d_name + prefix, &end, 10);
    if (end == e->d_name + prefix || *end != '\0' || pid <= 0) continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    rmdir((std::string(kShm) + "/" + e->d_name).c_str());  // fails, harmlessly, if not empty
  }
  closedir(shm);
}

}  // namespace

std::string prepareOscBackingDirectory() {
#if defined(OPEN_MPI) && OPEN_MPI && defined(OMPI_MAJOR_VERSION) && OMPI_MAJOR_VERSION < 5
  if (std::getenv(kVariable) != nullptr || access(kShm, W_OK) != 0) return "";
  removeStale();
  std::string dir = std::string(kShm) + "/" + kPrefix + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return "";
  setenv(kVariable, dir.c_str(), 0);
  return dir;
#else
  return "";
#endif
}

void removeOscBackingDirectory(const std::string& dir) {
  if (!dir.empty()) rmdir(dir.c_str());
}

}  // namespace mpilock
