#include "sealed-exe.hh"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

namespace ctr {
namespace {

std::mutex g_mutex;
std::map<std::string, int> g_copies;  // never closed: spawns use them for the process's life

int MakeCopy(const std::string& file, int& err, const char*& syscall) {
  int src = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    err = errno, syscall = "open";
    return -1;
  }
  struct stat st;
  int copy = -1;
  if (fstat(src, &st) < 0) {
    err = errno, syscall = "fstat";
  } else if ((copy = memfd_create("bento-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0) {
    err = errno, syscall = "memfd_create";
  } else {
    off_t offset = 0;
    while (offset < st.st_size) {
      ssize_t n = sendfile(copy, src, &offset, static_cast<size_t>(st.st_size - offset));
      if (n <= 0) {
        err = n < 0 ? errno : EIO, syscall = "sendfile";
        break;
      }
    }
    if (offset == st.st_size && fchmod(copy, 0555) < 0) err = errno, syscall = "fchmod";
    else if (offset == st.st_size &&
             fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
      err = errno, syscall = "fcntl(F_ADD_SEALS)";
    if (offset != st.st_size || err) {
      close(copy);
      copy = -1;
    }
  }
  close(src);
  return copy;
}

}  // namespace

bool SealedExecutable(const std::string& file, std::string& path, int& err, const char*& syscall) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_copies.find(file);
  if (it == g_copies.end()) {
    err = 0;
    int fd = MakeCopy(file, err, syscall);
    if (fd < 0) return false;
    it = g_copies.emplace(file, fd).first;
  }
  path = "/proc/self/fd/" + std::to_string(it->second);
  return true;
}

}  // namespace ctr
