// The plan Node sends down: ordered ops for the host side, the container side, and the settings
// of the process to run. TypeScript decided everything; this only decodes it.
#pragma once
#include <string>
#include <vector>

namespace ctr {

// One op: its name then its arguments, all strings. `index` is its position in the whole plan,
// reported back on failure so the SDK can name the step.
struct Op {
  int index;
  std::vector<std::string> args;  // args[0] is the op name
  const std::string& name() const { return args[0]; }
  const std::string& arg(size_t i) const;
  long long num(size_t i) const;
};

// The process to run in the container (the payload) or by exec.
struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  unsigned uid = 0;
  unsigned gid = 0;
  std::vector<unsigned> groups;
  unsigned long long caps = 0;
  bool no_new_privs = true;
  std::string seccomp;  // sock_filter bytes; empty: no filter
  // false in a user namespace whose setgroups(2) is denied (a single-id rootless mapping).
  bool set_groups = true;
};

struct Plan {
  std::vector<Op> host;       // run by the shim before and around clone
  std::vector<Op> container;  // run by init inside the new namespaces, in order
  ProcessSpec process;
  std::vector<Op> settings;  // role settings: clone flags, init on/off, join targets
  const Op* Setting(const std::string& name) const;
};

// Reads "<length>\n<body>" from fd and decodes the body. Throws std::runtime_error on bad input.
Plan ReadPlan(int fd);

}  // namespace ctr
