// The "network" role: holds a private network namespace with a bridge, the network that
// containers join (DESIGN section 7). Nothing is created in the host's network namespace: the
// bridge lives here, and each member's veth pair runs from here into its own namespace, so
// everything goes away with this process.
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "netlink.hh"
#include "plan.hh"
#include "roles.hh"
#include "userns.hh"
#include "util.hh"

namespace ctr {
namespace {

constexpr int kControlFd = 3;

void BringUpLoopback(Netlink& nl) { nl.SetUp("lo"); }

// attach <pid> <bridge-side name> <container-side name> <ipv4> <prefix>
void Attach(Netlink& here, int own_ns, const std::string& bridge, std::istringstream& args) {
  std::string pid, host_if, ctr_if, ip;
  int prefix = 0;
  args >> pid >> host_if >> ctr_if >> ip >> prefix;
  std::string ns_path = "/proc/" + pid + "/ns/net";
  Fd ctr_ns(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ctr_ns.valid()) Fail("open", ns_path);
  here.AddVethPair(host_if, ctr_if, ctr_ns.get());
  here.SetMaster(host_if, bridge);
  here.SetUp(host_if);
  // A netlink socket works in the namespace it was made in: make one inside the container.
  if (setns(ctr_ns.get(), CLONE_NEWNET) < 0) Fail("setns", ns_path);
  try {
    Netlink inside;
    inside.AddAddress(ctr_if, ip, prefix);
    inside.SetUp(ctr_if);
  } catch (...) {
    if (setns(own_ns, CLONE_NEWNET) < 0) _exit(70);
    throw;
  }
  if (setns(own_ns, CLONE_NEWNET) < 0) _exit(70);  // must never stay in a member's namespace
}

}  // namespace

int RunNetwork() {
  return RunReportingErrors(kControlFd, [] {
    Plan plan = ReadPlan(kControlFd);
    prctl(PR_SET_NAME, "bento-net");
    JoinUserNamespace(plan);
    const Op* bridge = plan.Setting("bridge");
    if (!bridge) throw std::runtime_error("plan: network needs a bridge setting");
    g_current_step = bridge->index;
    if (unshare(CLONE_NEWNET) < 0) Fail("unshare(CLONE_NEWNET)", "");
    Netlink here;
    BringUpLoopback(here);
    here.AddBridge(bridge->arg(1));
    here.AddAddress(bridge->arg(1), bridge->arg(2), static_cast<int>(bridge->num(3)));
    here.SetUp(bridge->arg(1));
    Fd own_ns(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own_ns.valid()) Fail("open", "/proc/self/ns/net");
    SendEvent(kControlFd, "\"event\":\"ready\",\"pid\":" + std::to_string(getpid()));
    std::string pending;
    char buf[1024];
    while (true) {
      ssize_t n = read(kControlFd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;  // Node closed the network: the namespace goes with us
      pending.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::istringstream line(pending.substr(0, nl));
        pending.erase(0, nl + 1);
        std::string cmd;
        line >> cmd;
        try {
          g_current_step = -1;
          if (cmd == "attach") Attach(here, own_ns.get(), bridge->arg(1), line);
          else throw std::runtime_error("network: unknown command " + cmd);
          SendEvent(kControlFd, "\"event\":\"attached\"");
        } catch (const SetupError& e) {
          SendEvent(kControlFd, ErrorEventFields("attach", e));
        }
      }
    }
  });
}

}  // namespace ctr
