#include "seccomp.hh"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

#include "util.hh"

namespace ctr {

std::string DecodeSeccompProgram(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::runtime_error("plan: bad seccomp program");
  };
  if (hex.size() % (2 * sizeof(sock_filter)) != 0) throw std::runtime_error("plan: bad seccomp program length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

void LoadSeccomp(const std::string& program) {
  if (program.empty()) return;
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size() / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(const_cast<char*>(program.data()));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) Fail("seccomp(SECCOMP_SET_MODE_FILTER)", "");
}

}  // namespace ctr
