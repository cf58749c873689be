// The commit the example programs were built from (cmake/build_commit.cmake writes the header at every build).
#include "build_commit.hpp"

#include "flags.hpp"

namespace examples {
const char* build_commit() { return UNETFLOW_BUILD_COMMIT; }
}  // namespace examples
