// The helper executable runs from a sealed in-memory copy, as runc runs itself since
// CVE-2019-5736: a container that reaches /proc/<helper pid>/exe finds a memfd that no one can
// write, grow or shrink, so it cannot replace what the next start or exec runs.
#pragma once
#include <string>

namespace ctr {

// "/proc/self/fd/<n>" of the sealed copy of `file`, made on first use and kept for the life of the
// process (one copy per path, ~2 MB); errno and the failing call on failure.
bool SealedExecutable(const std::string& file, std::string& path, int& err, const char*& syscall);

}  // namespace ctr
