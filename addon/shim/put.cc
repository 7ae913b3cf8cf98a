// The owners role's "put": copying a staged tree into a stopped container, rootless, where
// directories of other container users (subordinate ids, mode 0700) are root of the user
// namespace's to write.
#include "put.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "overlay-view.hh"
#include "util.hh"

namespace ctr {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t at = 0; at <= path.size();) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(at, slash - at);
    if (!part.empty() && part != ".") parts.push_back(part);
    at = slash + 1;
  }
  return parts;
}

// Opens the directory `parts` names in the view as the container would resolve it, making
// missing directories (0755) on the way, as the root path's copy-up of parents does: a symlink
// is read and its target resolved in the view too (absolute from its root, ".." stopping there),
// each name opened without following it, so nothing leads out.
Fd MakeParents(int root, std::vector<std::string> parts, const std::string& path) {
  std::vector<std::string> at;  // the directories resolved so far, none a symlink
  Fd dir(static_cast<int>(OpenInRoot(root, "/")));
  if (!dir.valid()) Fail("openat2", path);
  int links = 0;
  for (size_t i = 0; i < parts.size(); i++) {
    const std::string part = parts[i];
    if (part == "..") {
      if (!at.empty()) at.pop_back();
    } else {
      struct stat st;
      if (fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) Fail("fstatat", path);
        if (mkdirat(dir.get(), part.c_str(), 0755) < 0) Fail("mkdirat", path);
        st.st_mode = S_IFDIR;
      }
      if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t size = readlinkat(dir.get(), part.c_str(), target, sizeof target - 1);
        if (size < 0) Fail("readlinkat", path);
        if (++links > 40) {
          errno = ELOOP;
          Fail("put", path);
        }
        std::string link(target, static_cast<size_t>(size));
        if (!link.empty() && link[0] == '/') at.clear();
        std::vector<std::string> rest = Split(link);
        rest.insert(rest.end(), parts.begin() + static_cast<long>(i) + 1, parts.end());
        parts = rest;
        i = static_cast<size_t>(-1);
      } else if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        Fail("put", path);
      } else {
        at.push_back(part);
      }
    }
    std::string sofar = "/";
    for (const std::string& a : at) sofar += a + "/";
    long fd = OpenInRoot(root, sofar);
    if (fd < 0) Fail("openat2", sofar);
    dir = Fd(static_cast<int>(fd));
  }
  return dir;
}

}  // namespace

// "put <staged> <path> into|as <upper> <work> <lower>..." copies the staged tree to `path` of a
// stopped container, through a writable overlay of its layers: parents are resolved inside the
// container (missing ones made, 0755 root's), and overlay copies them up with their owners and
// modes. "into": an existing directory at `path` (its last name not followed) gets the tree
// under its staged name; otherwise, and with "as", the tree replaces what `path` names.
void Put(const Op& op) {
  const std::string& staged = op.arg(1);
  const std::string& path = op.arg(2);
  const std::string& mode = op.arg(3);
  if (op.args.size() < 7 || staged.empty() || staged[0] != '/' || (mode != "into" && mode != "as")) {
    errno = EINVAL;
    Fail("put", path);
  }
  Fd root = OpenView(std::vector<std::string>(op.args.begin() + 6, op.args.end()), op.arg(4), op.arg(5));
  std::vector<std::string> parts = Split(path);
  std::string name = parts.empty() ? "" : parts.back();
  if (name == ".." || (name.empty() && mode != "into")) {
    errno = EINVAL;
    Fail("put", path);
  }
  if (!parts.empty()) parts.pop_back();
  Fd dir = MakeParents(root.get(), parts, path);
  std::string base = staged.substr(staged.rfind('/') + 1);
  std::string final_name = name;
  struct stat st;
  if (mode == "into" &&
      (name.empty() || (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)))) {
    if (!name.empty()) {
      Fd into(openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!into.valid()) Fail("openat", path);
      dir = std::move(into);
    }
    final_name = base;
  }
  RunIn(dir.get(), {"rm", "-rf", "--", final_name.c_str()}, path);
  RunIn(dir.get(), {"cp", "-a", "--reflink=auto", "--", staged.c_str(), final_name.c_str()}, path);
}
}  // namespace ctr
