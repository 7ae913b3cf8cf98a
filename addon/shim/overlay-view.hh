// The helpers' views of a container's files (see overlay-view.cc).
#pragma once
#include <string>
#include <vector>

#include "util.hh"

namespace ctr {

// A read-only overlay of `dirs` (top first), or with `upper` and `work` a writable one, as a
// detached mount in the helper's own mount namespace; one dir alone is opened as it is.
Fd OpenView(const std::vector<std::string>& dirs, const std::string& upper = "", const std::string& work = "");

// Removes the mark a "volatile" overlay leaves in its workdir (see overlay-view.cc), so that the
// container's upper and work dirs can be mounted again.
void ClearVolatileMark(const std::string& work);

// Opens the directory `rel` under `root` as the container would resolve it (never leaving it);
// the fd, or -1 with errno.
long OpenInRoot(int root, const std::string& rel);

// Runs `argv` in the directory `dir`, failing (EIO) when it does not exit 0.
void RunIn(int dir, const std::vector<const char*>& argv, const std::string& what);

}  // namespace ctr
