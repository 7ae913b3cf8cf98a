#include "init.hh"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>
#include <sys/socket.h>

#include "console.hh"
#include "ops.hh"
#include "payload.hh"
#include "util.hh"

namespace ctr {
namespace {

// The payload's stdio: its terminal (tty), else the shim's pipes, stdin /dev/null unless interactive.
void SetupStdio(const InitFds& fds, int console) {
  if (console >= 0) {
    TakeConsole(console);
    return;
  }
  int in = fds.in >= 0 ? fds.in : open("/dev/null", O_RDWR | O_CLOEXEC);
  if (in < 0) Fail("open", "/dev/null");
  if (dup2(in, 0) < 0 || dup2(fds.out, 1) < 0 || dup2(fds.err, 2) < 0) Fail("dup2", "stdio");
  if (in != fds.in) close(in);
}

[[noreturn]] void ReportAndExit(int fd, const char* phase, const SetupError& e, int code) {
  SendEvent(fd, ErrorEventFields(phase, e));
  _exit(code);
}

// Forks the payload; returns its pid once execve succeeded, or reports the failure and exits.
pid_t StartPayload(const Plan& plan, const InitFds& fds, int console) {
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) < 0) Fail("pipe2", "");
  pid_t pid = fork();
  if (pid < 0) Fail("fork", "");
  if (pid == 0) {
    close(exec_pipe[0]);
    try {
      SetupStdio(fds, console);
      ExecProcess(plan.process);
    } catch (const SetupError& e) {
      ReportAndExit(exec_pipe[1], "exec", e, 127);
    }
  }
  close(exec_pipe[1]);
  // The pipe is close-on-exec: EOF means execve succeeded, a line means it failed.
  char buf[1024];
  size_t n = ReadFull(exec_pipe[0], buf, sizeof buf);
  close(exec_pipe[0]);
  if (n > 0) {
    send(fds.sync, buf, n, MSG_NOSIGNAL);
    int status;
    waitpid(pid, &status, 0);
    _exit(1);
  }
  return pid;
}

// In a PID namespace this process does not head (pid: { container } or "host"), nothing dies
// with it: kills what the payload left behind and reaps it, as runc kills a shared-PID container's
// cgroup. As child subreaper, every orphan of the payload is a child here; the children of one
// killed are too, once it is reaped, so it goes round until none is left.
void KillRemainingChildren() {
  std::string children_file = "/proc/self/task/" + std::to_string(getpid()) + "/children";
  while (true) {
    Fd f(open(children_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f.valid()) return;
    char buf[4096];
    ssize_t n = read(f.get(), buf, sizeof buf - 1);
    if (n <= 0) return;
    buf[n] = '\0';
    std::vector<pid_t> children;
    for (char* p = buf; *p != '\0';) {
      char* end;
      long pid = std::strtol(p, &end, 10);
      if (end == p) break;
      children.push_back(static_cast<pid_t>(pid));
      p = end;
    }
    if (children.empty()) return;
    for (pid_t child : children) kill(child, SIGKILL);
    for (pid_t child : children) waitpid(child, nullptr, 0);
  }
}

[[noreturn]] void SuperviseUntilExit(int sync, pid_t payload, int sigfd) {
  while (true) {
    signalfd_siginfo si;
    if (ReadFull(sigfd, &si, sizeof si) != sizeof si) _exit(1);
    if (si.ssi_signo == SIGCHLD) {
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == payload) {
          if (getpid() != 1) KillRemainingChildren();
          SendEvent(sync, "\"event\":\"exit\",\"status\":" + std::to_string(status));
          _exit(0);  // in a PID namespace of its own, the kernel now kills everything else in it
        }
      }
    } else {
      kill(payload, static_cast<int>(si.ssi_signo));
    }
  }
}

}  // namespace

void RunInit(const Plan& plan, const InitFds& fds) {
  // Die with the shim. getppid() is 0 in a new PID namespace, so the sync socket's EOF is the
  // check that the shim did not die before the prctl (RUNTIME-NOTES section 2, step 7).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // In a PID namespace of its own this process is PID 1 and reaps every orphan anyway. In one it
  // shares (pid: { container } or "host"), orphans would go to that namespace's init, out of this
  // container's process tree: as subreaper (kept across execve) it keeps them below itself, where
  // a teardown without a cgroup finds and kills them (runtime/cgroup/undelegated.ts).
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  for (int fd : fds.shim_only) close(fd);
  char go;
  if (ReadFull(fds.sync, &go, 1) != 1) _exit(1);
  if (!plan.Setting("dumpable")) prctl(PR_SET_DUMPABLE, 0);
  umask(0);
  try {
    for (const Op& op : plan.container) RunContainerOp(op);
    umask(022);
    // The shim joins our v1 cgroups while we set up; nothing of the payload runs before.
    char joined;
    if (ReadFull(fds.sync, &joined, 1) != 1) _exit(1);
    // Only now in all our cgroups, the cgroup namespace takes them as its root (crun unshares
    // it at the same point, after the move).
    if (plan.Setting("cgroupns") && unshare(CLONE_NEWCGROUP) < 0) Fail("unshare(CLONE_NEWCGROUP)", "");
    // The terminal is made here, after pivot_root, in the container's devpts; the shim holds its
    // master from now on (init keeps no copy, so the master reads EIO once the payload is gone).
    Fd console;
    if (const Op* tty = plan.Setting("tty")) {
      Fd master = OpenConsole(*tty, console);
      SendEventWithFd(fds.sync, "\"event\":\"console\"", master.get());
    }
    if (!plan.Setting("init")) {
      try {
        SetupStdio(fds, console.get());
        ExecProcess(plan.process);  // the payload is PID 1; the sync socket closes on exec
      } catch (const SetupError& e) {
        ReportAndExit(fds.sync, "exec", e, 127);
      }
    }
    BlockForwardedSignals();
    sigset_t all;
    sigfillset(&all);
    int sigfd = signalfd(-1, &all, SFD_CLOEXEC);
    if (sigfd < 0) Fail("signalfd", "");
    pid_t payload = StartPayload(plan, fds, console.get());
    console.Reset();
    close(fds.out);
    close(fds.err);
    if (fds.in >= 0) close(fds.in);
    SendEvent(fds.sync, "\"event\":\"ready\"");
    SuperviseUntilExit(fds.sync, payload, sigfd);
  } catch (const SetupError& e) {
    ReportAndExit(fds.sync, "setup", e, 1);
  } catch (const std::exception& e) {
    SendEvent(fds.sync, FatalEventFields(e));
    _exit(1);
  }
}

}  // namespace ctr
