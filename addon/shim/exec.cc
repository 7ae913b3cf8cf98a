// The "exec" role: join a running container (its cgroups, then all its namespaces through a
// pidfd of its init), fork, and run one process there. Exit status goes back to Node.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "console.hh"
#include "payload.hh"
#include "plan.hh"
#include "roles.hh"
#include "util.hh"

namespace ctr {
namespace {

constexpr int kControlFd = 3;

void JoinContainer(const Plan& plan) {
  const Op* target = plan.Setting("target-pid");
  const Op* flags = plan.Setting("ns-flags");
  if (!target || !flags) throw std::runtime_error("plan: exec needs target-pid and ns-flags");
  // Cgroups first: their paths are host paths, gone once we join the mount namespace.
  for (const Op& op : plan.settings) {
    if (op.name() != "cgroup-procs") continue;
    g_current_step = op.index;
    Fd f(open(op.arg(1).c_str(), O_WRONLY | O_CLOEXEC));
    if (!f.valid()) Fail("open", op.arg(1));
    std::string self = std::to_string(getpid());
    if (!WriteFull(f.get(), self.data(), self.size())) Fail("write", op.arg(1));
  }
  g_current_step = target->index;
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(target->num(1)), 0)));
  if (!pidfd.valid()) Fail("pidfd_open", target->arg(1));
  // One setns with a pidfd joins every namespace at once (setns(2), since Linux 5.8).
  if (setns(pidfd.get(), static_cast<int>(flags->num(1))) < 0) Fail("setns", target->arg(1));
}

// With a terminal, the helper sits between Node and the command: Node's fd 0 (what is typed)
// goes to the master, the master's output to Node's fd 1.
struct Terminal {
  Fd master;
  bool input_open = true;
};

// Copies one chunk from `from` to `to`; false at EOF or error (EIO: every slave closed).
bool Copy(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  WriteFull(to, buf, static_cast<size_t>(n));
  return true;
}

// Once the command ended: what it wrote last, still in the master, goes to Node before its exit.
void DrainTerminal(Terminal& tty) {
  if (!tty.master.valid()) return;
  fcntl(tty.master.get(), F_SETFL, fcntl(tty.master.get(), F_GETFL) | O_NONBLOCK);
  char buf[16384];
  ssize_t n;
  while ((n = read(tty.master.get(), buf, sizeof buf)) > 0) WriteFull(1, buf, static_cast<size_t>(n));
}

}  // namespace

int RunExec() {
  // Non-dumpable until the command's execve (which resets it): container root, which shares
  // the child's PID namespace, can neither ptrace it, nor take its fds with pidfd_getfd, nor
  // open its /proc/<pid>/exe or /proc/<pid>/fd (CVE-2016-9962; runc does the same).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  Plan plan;
  int failed = RunReportingErrors(kControlFd, [&] {
    plan = ReadPlan(kControlFd);
    JoinContainer(plan);
    return 0;
  });
  if (failed) return failed;
  // "tty <rows> <columns>": a terminal of the container's devpts (we are in its mount namespace).
  Terminal tty;
  Fd slave;
  if (const Op* setting = plan.Setting("tty")) {
    failed = RunReportingErrors(kControlFd, [&] {
      tty.master = OpenConsole(*setting, slave);
      return 0;
    });
    if (failed) return failed;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sigfd = signalfd(-1, &chld, SFD_CLOEXEC);
  int exec_pipe[2];
  if (sigfd < 0 || pipe2(exec_pipe, O_CLOEXEC) < 0) return 1;
  pid_t pid = fork();  // a PID namespace applies to children only
  if (pid == 0) {
    // Only the exec pipe and stdio go on with the child: the control socket carries the
    // result Node trusts, and nothing in the container may hold it even for a moment.
    close(exec_pipe[0]);
    close(kControlFd);
    close(sigfd);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    try {
      if (slave.valid()) TakeConsole(slave.get());
      ExecProcess(plan.process);
    } catch (const SetupError& e) {
      SendEvent(exec_pipe[1], ErrorEventFields("exec", e));
      _exit(127);
    }
  }
  close(exec_pipe[1]);
  slave.Reset();
  char buf[1024];
  size_t n = ReadFull(exec_pipe[0], buf, sizeof buf);
  close(exec_pipe[0]);
  if (n > 0) WriteFull(kControlFd, buf, n);
  else SendEvent(kControlFd, "\"event\":\"ready\",\"pid\":" + std::to_string(pid));
  std::string pending;
  while (true) {
    pollfd fds[4] = {{sigfd, POLLIN, 0},
                     {kControlFd, POLLIN, 0},
                     {tty.master.valid() ? tty.master.get() : -1, POLLIN, 0},
                     {tty.master.valid() && tty.input_open ? 0 : -1, POLLIN, 0}};
    if (poll(fds, 4, -1) < 0) continue;
    if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) && !Copy(tty.master.get(), 1)) {
      // EIO: every holder of the slave is gone; the exit (SIGCHLD) comes next, if not already.
      fds[2].revents = 0;
      tty.master.Reset();
    }
    if ((fds[3].revents & (POLLIN | POLLHUP | POLLERR)) && tty.master.valid())
      tty.input_open = Copy(0, tty.master.get());
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char cmd[256];
      ssize_t r = read(kControlFd, cmd, sizeof cmd);
      if (r <= 0) {
        kill(pid, SIGKILL);
        fds[1].fd = -1;
      } else {
        pending.append(cmd, static_cast<size_t>(r));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          if (line.compare(0, 7, "signal ") == 0) kill(pid, std::stoi(line.substr(7)));
          else HandleResize(line, tty.master.get());
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      ReadFull(sigfd, &si, sizeof si);
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        DrainTerminal(tty);
        SendEvent(kControlFd, "\"event\":\"exit\",\"status\":" + std::to_string(status));
        return 0;
      }
    }
  }
}

}  // namespace ctr
