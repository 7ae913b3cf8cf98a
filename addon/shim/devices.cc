#include "devices.hh"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "util.hh"

namespace ctr {
namespace {

std::string FromHex(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::runtime_error("plan: bad device program");
  };
  if (hex.size() % (2 * sizeof(bpf_insn)) != 0) throw std::runtime_error("plan: bad device program length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

long Bpf(int cmd, bpf_attr& attr) { return syscall(SYS_bpf, cmd, &attr, sizeof attr); }

}  // namespace

void AttachDeviceFilter(const std::string& dir, const std::string& hex) {
  std::string insns = FromHex(hex);
  static const char kLicense[] = "Apache-2.0";
  bpf_attr load;
  std::memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<__u64>(insns.data());
  load.insn_cnt = static_cast<__u32>(insns.size() / sizeof(bpf_insn));
  load.license = reinterpret_cast<__u64>(kLicense);
  Fd prog(static_cast<int>(Bpf(BPF_PROG_LOAD, load)));
  if (!prog.valid()) Fail("bpf(BPF_PROG_LOAD)", dir);
  Fd group(open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!group.valid()) Fail("open", dir);
  bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<__u32>(group.get());
  attach.attach_bpf_fd = static_cast<__u32>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI, as crun attaches: programs of enclosing groups (systemd's) still apply too.
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, attach) < 0) Fail("bpf(BPF_PROG_ATTACH)", dir);
}

}  // namespace ctr
