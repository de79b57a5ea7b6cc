#include "runtime/one_sided.h"

#include <cstring>
#include <vector>

#include "runtime/mpi_headers.h"

namespace mpilock {

namespace {

// The value of the string control variable `name`, or false when MPI has none by that name.
bool readStringVariable(int count, const char* name, std::string& out, bool& exists) {
  for (int i = 0; i < count; ++i) {
    char varName[256];
    int nameLen = sizeof varName, verbosity = 0, bind = 0, scope = 0, descLen = 0;
    MPI_Datatype type;
    MPI_T_enum enumType;
    if (MPI_T_cvar_get_info(i, varName, &nameLen, &verbosity, &type, &enumType, nullptr, &descLen,
                            &bind, &scope) != MPI_SUCCESS) {
      continue;
    }
    if (std::strcmp(varName, name) != 0) continue;
    exists = true;
    if (type != MPI_CHAR || bind != MPI_T_BIND_NO_OBJECT) return false;
    MPI_T_cvar_handle handle;
    int elements = 0;
    if (MPI_T_cvar_handle_alloc(i, nullptr, &handle, &elements) != MPI_SUCCESS) return false;
    std::vector<char> value(static_cast<size_t>(elements > 0 ? elements : 1) + 1, '\0');
    bool ok = MPI_T_cvar_read(handle, value.data()) == MPI_SUCCESS;
    MPI_T_cvar_handle_free(&handle);
    if (ok) out.assign(value.data());
    return ok;
  }
  return false;
}

bool variableExists(int count, const char* name) {
  std::string ignored;
  bool exists = false;
  readStringVariable(count, name, ignored, exists);
  return exists;
}

}  // namespace

OneSided oneSidedComponent() {
  OneSided result;
  int provided = 0;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return result;
  int count = 0;
  MPI_T_cvar_get_num(&count);
  bool isOpenMpi = false;
  readStringVariable(count, "osc", result.setting, isOpenMpi);
  if (isOpenMpi) {
    // A component registers its variables only when it was opened: not excluded by the
    // "osc" list. Open MPI 4.1 then gives every window to osc ucx (its priority is the
    // highest; seen here with pml ob1 and with pml ucx), so loaded means in use.
    if (variableExists(count, "osc_ucx_priority")) {
      result.component = "ucx";
    } else if (!result.setting.empty() && result.setting[0] != '^' &&
               result.setting.find(',') == std::string::npos) {
      result.component = result.setting;
    }
  }
  MPI_T_finalize();
  return result;
}

}  // namespace mpilock
