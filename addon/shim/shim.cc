// bento-shim's entry point: role dispatch, the supervising loop and the exit report.
// Over 400 lines: the supervising loop and its detach mode share one state; the roles live in their own files.
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <stdexcept>

#include "attach.hh"
#include "console.hh"
#include "fuse-overlay.hh"
#include "init.hh"
#include "ops.hh"
#include "plan.hh"
#include "ports.hh"
#include "tcp-relay.hh"
#include "udp-relay.hh"
#include "userns.hh"
#include "roles.hh"
#include "util.hh"

namespace ctr {
namespace {

constexpr int kControlFd = 3;
constexpr int kPortChannelFd = 5;       // fd 4 is the container's lock
constexpr size_t kMaxLine = 16 * 1024;  // longer lines are cut into records, as Docker's json-file

// Captures one output stream of the payload into the log file, one record per line:
// "<unix ns> <o|e|O|E> <text>\n"; upper case marks a record that did not end in a newline.
class LogStream {
 public:
  LogStream(int fd, char tag, int log) : fd_(fd), tag_(tag), log_(log) {}
  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }
  // A terminal's master arrives from init after the streams were made.
  void Adopt(int fd) { fd_.Reset(fd); }
  // Also copies what is read, as it comes, to `fd` (Node's end for a terminal); -1: no copy.
  void Tee(int fd) { tee_ = fd; }
  // Also sends it to the processes attached to the terminal (bento attach).
  void Share(AttachServer* attach) { attach_ = attach; }

  // Reads what is available; returns false at EOF (and flushes a partial line).
  bool Pump() {
    char buf[65536];
    ssize_t n = read(fd_.get(), buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
      if (!pending_.empty()) Emit(pending_, true);
      pending_.clear();
      fd_.Reset();
      return false;
    }
    // A reader that went away (EPIPE) gets no more; the log keeps everything.
    if (tee_ >= 0 && !WriteFull(tee_, buf, static_cast<size_t>(n))) tee_ = -1;
    if (attach_) attach_->Broadcast(buf, static_cast<size_t>(n));
    pending_.append(buf, static_cast<size_t>(n));
    size_t start = 0, nl;
    while ((nl = pending_.find('\n', start)) != std::string::npos) {
      Emit(pending_.substr(start, nl - start), false);
      start = nl + 1;
    }
    pending_.erase(0, start);
    while (pending_.size() >= kMaxLine) {
      Emit(pending_.substr(0, kMaxLine), true);
      pending_.erase(0, kMaxLine);
    }
    return true;
  }

 private:
  void Emit(const std::string& text, bool partial) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char head[48];
    int len = snprintf(head, sizeof head, "%lld%09ld %c ", static_cast<long long>(ts.tv_sec), ts.tv_nsec,
                       partial ? static_cast<char>(tag_ - 32) : tag_);
    std::string rec(head, static_cast<size_t>(len));
    rec += text;
    rec.push_back('\n');
    WriteFull(log_, rec.data(), rec.size());
  }

  Fd fd_;
  char tag_;
  int log_;
  int tee_ = -1;
  AttachServer* attach_ = nullptr;
  std::string pending_;
};

// clone3 with CLONE_INTO_CGROUP puts the child in its cgroup before it runs a single
// instruction; kernels or hierarchies that refuse it get plain clone, as crun falls back.
pid_t CloneInit(unsigned long long flags, int cgroup_fd, bool& joined_unified) {
  clone_args args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<__u64>(cgroup_fd);
  }
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0) {
    joined_unified = cgroup_fd >= 0;
    return static_cast<pid_t>(pid);
  }
  joined_unified = false;
  pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) Fail("clone", "");
  return static_cast<pid_t>(pid);
}

// "ns-of <pid> <clone flag>": the container shares a namespace of another container (Docker's
// --network, --pid and --ipc container:x). Entered before clone, which then makes no namespace of
// that kind, so init and everything it starts live there from their first instruction (a PID
// namespace applies to the children of the process that enters it).
void EnterNamespaces(const Plan& plan) {
  for (const Op& op : plan.settings) {
    if (op.name() != "ns-of") continue;
    g_current_step = op.index;
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(op.num(1)), 0)));
    if (!pidfd.valid()) Fail("pidfd_open", "container init " + op.arg(1));
    if (setns(pidfd.get(), static_cast<int>(op.num(2))) < 0) Fail("setns", "container init " + op.arg(1));
  }
  g_current_step = -1;
}

void JoinCgroup(const std::string& procs_file, pid_t pid) {
  Fd f(open(procs_file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!f.valid()) Fail("open", procs_file);
  std::string s = std::to_string(pid);
  if (!WriteFull(f.get(), s.data(), s.size())) Fail("write", procs_file);
}

// Forwards init's event messages (one per SEQPACKET datagram) to Node; false at EOF. Keeps the
// payload's wait status from bento's init's "exit" event (init itself then exits 0).
// A "console" message carries the terminal's master (tty: true), which `console` then reads.
bool ForwardInitEvents(int sync, bool& saw_error, int& payload_status, LogStream& console) {
  char buf[4096];
  int fd = -1;
  ssize_t n = ReceiveWithFd(sync, buf, sizeof buf, &fd, MSG_DONTWAIT);
  // Init ended with our "joined" byte unread (a setup step failed before it read it): the kernel
  // then reports ECONNRESET once, ahead of the messages init sent before it ended, which are
  // still queued. Its error report is among them, so read on (it was lost under load before).
  if (n < 0 && errno == ECONNRESET) n = ReceiveWithFd(sync, buf, sizeof buf, &fd, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) return false;
  std::string msg(buf, static_cast<size_t>(n));
  if (fd >= 0) {
    if (msg.find("\"event\":\"console\"") != std::string::npos && !console.open()) console.Adopt(fd);
    else close(fd);
    return true;
  }
  if (msg.find("\"event\":\"error\"") != std::string::npos || msg.find("\"event\":\"fatal\"") != std::string::npos)
    saw_error = true;
  size_t status_at = msg.find("\"status\":");
  if (msg.find("\"event\":\"exit\"") != std::string::npos && status_at != std::string::npos)
    payload_status = std::atoi(msg.c_str() + status_at + 9);
  WriteFull(kControlFd, msg.data(), msg.size());
  return true;
}

// Commands from Node, one per line: "signal <n>", "resize <rows> <columns>" (the terminal's
// window), "udp ..." and "tcp ..." (publish a port).
bool HandleControl(std::string& pending, pid_t init, UdpRelay& udp, TcpRelay& tcp, int console) {
  char buf[512];
  ssize_t n = read(kControlFd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  pending.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = pending.find('\n')) != std::string::npos) {
    std::string line = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    if (line.compare(0, 7, "signal ") == 0) {
      kill(init, std::stoi(line.substr(7)));
    } else if (HandleResize(line, console)) {
    } else if (line.compare(0, 4, "udp ") == 0 || line.compare(0, 4, "tcp ") == 0) {
      // "udp|tcp <host port> <container port> [<host address>]": publish a port from the host side.
      int host_port = 0, ctr_port = 0;
      char address[64] = "";
      sscanf(line.c_str() + 4, "%d %d %63s", &host_port, &ctr_port, address);
      bool is_udp = line[0] == 'u';
      int err = is_udp ? udp.Publish(host_port, ctr_port, address) : tcp.Publish(host_port, ctr_port, address);
      SendEvent(kControlFd, std::string("\"event\":\"") + (is_udp ? "udp" : "tcp") +
                                "\",\"port\":" + std::to_string(host_port) + ",\"errno\":" + std::to_string(err));
    }
  }
  return true;
}

// What Node types: its fd 0 (a socket, with tty or stdin), copied to the terminal's master or
// to the payload's stdin pipe as it comes.
struct Input {
  bool open;      // Node's fd 0 is still read
  Fd stdin_pipe;  // write end of the payload's stdin (interactive without a terminal)
};

// Copies what Node sent to the container; false once Node's side ended.
bool PumpInput(Input& input, const LogStream& console) {
  char buf[4096];
  ssize_t n = read(0, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  // EOF: a terminal stays (a detached one outlives its starter); a pipe tells the payload.
  if (n <= 0) {
    input.stdin_pipe.Reset();
    return false;
  }
  int to = console.open() ? console.fd() : input.stdin_pipe.get();
  if (to >= 0 && !WriteFull(to, buf, static_cast<size_t>(n))) input.stdin_pipe.Reset();
  return true;
}

// `detached`: the container outlives Node; its control socket closing is no reason to stop it.
int Supervise(pid_t init, int sync, LogStream& out, LogStream& err, LogStream& console, Input& input,
              AttachServer& attach, int sigfd, bool init_mode, bool has_port_channel, bool detached,
              int& payload_status) {
  bool control_open = true, sync_open = true, init_running = true, saw_error = false;
  PortService ports;
  bool ports_open = has_port_channel && ports.Open(init);
  UdpRelay udp(ports);
  TcpRelay tcp(ports);
  int init_status = 0;
  std::string pending;
  while (init_running || out.open() || err.open() || console.open() || sync_open) {
    std::vector<pollfd> fds;
    auto add = [&](int fd) {
      fds.push_back(pollfd{fd, POLLIN, 0});
      return static_cast<int>(fds.size()) - 1;
    };
    int i_sig = init_running ? add(sigfd) : -1;
    int i_ctl = control_open && init_running ? add(kControlFd) : -1;
    int i_sync = sync_open ? add(sync) : -1;
    int i_out = out.open() ? add(out.fd()) : -1;
    int i_err = err.open() ? add(err.fd()) : -1;
    int i_console = console.open() ? add(console.fd()) : -1;
    // With a terminal, input waits until init handed over its master.
    bool wants_input = input.open && init_running && (console.open() || input.stdin_pipe.valid());
    int i_in = wants_input ? add(0) : -1;
    int i_port = ports_open && init_running ? add(kPortChannelFd) : -1;
    size_t udp_from = fds.size();
    if (init_running) udp.AppendPollFds(fds);
    size_t tcp_from = fds.size();
    if (init_running) tcp.AppendPollFds(fds);
    size_t attach_from = fds.size();
    attach.AppendPollFds(fds);
    if (poll(fds.data(), fds.size(), init_running ? udp.TimeoutMs() : -1) < 0) {
      if (errno == EINTR) continue;
      return init_status;
    }
    for (size_t i = udp_from; i < tcp_from; ++i)
      if (fds[i].revents & POLLIN) udp.Handle(fds[i].fd);
    if (init_running) tcp.Handle(fds, tcp_from);
    udp.Expire();
    auto ready = [&](int i) { return i >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)); };
    if (ready(i_sync)) {
      sync_open = ForwardInitEvents(sync, saw_error, payload_status, console);
      // Without bento's init the payload is PID 1: its execve closed the (close-on-exec) sync
      // socket, and that EOF with no error before it is the sign that it runs.
      if (!sync_open && !init_mode && !saw_error) SendEvent(kControlFd, "\"event\":\"ready\"");
    }
    if (ready(i_port)) ports_open = ports.Serve(kPortChannelFd);
    if (ready(i_out)) out.Pump();
    if (ready(i_err)) err.Pump();
    if (ready(i_console) && !console.Pump()) attach.Close();  // EOF to the attached
    attach.Handle(fds, attach_from, console.fd());
    if (ready(i_in)) input.open = PumpInput(input, console);
    if (ready(i_ctl) && !HandleControl(pending, init, udp, tcp, console.fd())) {
      control_open = false;
      // Node closed its end: nobody will ever stop this container, so stop it now; a detached
      // one is stopped by signals to its init from any process, and goes on.
      if (!detached) kill(init, SIGKILL);
    }
    if (ready(i_sig)) {
      signalfd_siginfo si;
      ReadFull(sigfd, &si, sizeof si);
      if (waitpid(init, &init_status, WNOHANG) == init) init_running = false;
    }
  }
  return init_status;
}

// The count after "<key> " in a flat keyed file such as memory.events; -1 when unreadable.
long long ReadKeyed(const std::string& file, const std::string& key) {
  Fd f(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.valid()) return -1;
  char buf[4096];
  ssize_t n = read(f.get(), buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = 0;
  std::string text(buf);
  size_t at = text.find(key + " ");
  while (at != std::string::npos && at > 0 && text[at - 1] != '\n') at = text.find(key + " ", at + 1);
  return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + key.size() + 1);
}

// A cgroup stays busy for a moment after its last process died (crun retries the same way).
// The wait is short (the kernel finishes the exit of the last task): poll finely, for 1 s at most.
bool RemoveCgroup(const std::string& dir) {
  for (int i = 0; i < 10'000; ++i) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    usleep(100);
  }
  return false;
}

// After the container ended: the OOM counter (read before its cgroup goes), then the cgroups,
// so Node learns the whole outcome in one message.
void ReportExit(const Plan& plan, int init_status, int payload_status) {
  std::string fields = "\"event\":\"shim-exit\",\"initStatus\":" + std::to_string(init_status);
  if (payload_status >= 0) fields += ",\"payloadStatus\":" + std::to_string(payload_status);
  if (const Op* oom = plan.Setting("oom-count"))
    fields += ",\"oomKills\":" + std::to_string(ReadKeyed(oom->arg(1), oom->arg(2)));
  bool removed = true;
  for (const Op& op : plan.settings)
    if (op.name() == "cleanup-rmdir") removed = RemoveCgroup(op.arg(1)) && removed;
  fields += std::string(",\"cgroupsRemoved\":") + (removed ? "true" : "false");
  SendEvent(kControlFd, fields);
  // A detached container's starter may be gone: the outcome stays in a file for `wait` and `inspect`.
  if (const Op* file = plan.Setting("exit-file")) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    std::string record =
        "{" + fields + ",\"finishedAtMs\":" + std::to_string(ts.tv_sec * 1000LL + ts.tv_nsec / 1'000'000) + "}\n";
    std::string tmp = file->arg(1) + ".tmp";
    Fd f(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (f.valid() && WriteFull(f.get(), record.data(), record.size())) rename(tmp.c_str(), file->arg(1).c_str());
  }
}

}  // namespace

int RunShim() {
  Plan plan;
  try {
    plan = ReadPlan(kControlFd);
  } catch (const std::exception& e) {
    SendEvent(kControlFd, FatalEventFields(e));
    return 2;
  }
  prctl(PR_SET_NAME, "bento-shim");
  const bool detached = plan.Setting("detach") != nullptr;
  if (detached) {
    // Outlive Node: no death signal, and a session of our own, so a Ctrl-C or hangup aimed at
    // the starter's terminal never reaches the container's supervisor.
    prctl(PR_SET_PDEATHSIG, 0);
    setsid();
  }
  // Checked before any other fd is opened, so fd 5 cannot be one of our own pipes.
  bool has_port_channel = fcntl(kPortChannelFd, F_GETFD) >= 0;
  try {
    JoinUserNamespace(plan);
    for (const Op& op : plan.host) RunHostOp(op);
    g_current_step = -1;
    const Op* log_setting = plan.Setting("log");
    if (!log_setting) throw std::runtime_error("plan: no log file");
    Fd log(open(log_setting->arg(1).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!log.valid()) Fail("open", log_setting->arg(1));
    // Before clone: a name already taken fails the start with nothing running yet.
    AttachServer attach;
    if (const Op* name = plan.Setting("attach"); name && !attach.Open(name->arg(1)))
      Fail("bind", "attach socket @" + name->arg(1));

    int out_pipe[2], err_pipe[2], sync[2], in_pipe[2] = {-1, -1};
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) Fail("pipe2", "");
    const bool tty = plan.Setting("tty") != nullptr, interactive = plan.Setting("stdin") != nullptr;
    if (interactive && !tty && pipe2(in_pipe, O_CLOEXEC) < 0) Fail("pipe2", "");
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) Fail("socketpair", "");

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) Fail("signalfd", "");

    Fd unified;
    if (const Op* into = plan.Setting("cgroup-into")) {
      unified.Reset(open(into->arg(1).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!unified.valid()) Fail("open", into->arg(1));
    }
    // Opened here, before init joins the container's cgroup: its device policy would refuse it.
    // Rootless the shim is already in the container's user namespace, as it must be: FUSE takes
    // an fd= only from an opener of the user namespace that owns the mount (fuse_fill_super).
    Fd fuse_device;
    if (plan.Setting("fuse-device")) {
      fuse_device.Reset(open("/dev/fuse", O_RDWR | O_CLOEXEC));
      if (!fuse_device.valid()) Fail("open", "/dev/fuse");
    }
    EnterNamespaces(plan);
    const Op* clone_setting = plan.Setting("clone");
    if (!clone_setting) throw std::runtime_error("plan: no clone flags");
    bool joined_unified = false;
    pid_t init = CloneInit(static_cast<unsigned long long>(clone_setting->num(1)), unified.get(), joined_unified);
    if (init == 0) {
      close(sync[0]);
      close(out_pipe[0]);
      close(err_pipe[0]);
      if (in_pipe[1] >= 0) close(in_pipe[1]);
      std::vector<int> shim_only{kControlFd};
      if (has_port_channel) shim_only.push_back(kPortChannelFd);
      if (attach.open()) shim_only.push_back(attach.listen_fd());
      SetFuseDevice(fuse_device.Release());
      RunInit(plan, InitFds{sync[1], out_pipe[1], err_pipe[1], in_pipe[0], shim_only});
    }
    // Only fuse-overlayfs may keep it: while another holder lives, a dead server's mount hangs.
    fuse_device.Reset();
    close(sync[1]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (in_pipe[0] >= 0) close(in_pipe[0]);
    Input input{interactive, Fd(in_pipe[1])};
    SendEvent(kControlFd, "\"event\":\"spawned\",\"pid\":" + std::to_string(init));
    // "Do this before syncing with child so that no children can escape the cgroup" (runc).
    // Without CLONE_INTO_CGROUP every group is joined before init may start its setup.
    auto join = [&](bool v1_only) {
      try {
        for (const Op& op : plan.settings) {
          g_current_step = op.index;
          if (op.name() == "cgroup-procs") JoinCgroup(op.arg(1), init);
          else if (op.name() == "cgroup-into" && !joined_unified && !v1_only)
            JoinCgroup(op.arg(1) + "/cgroup.procs", init);
        }
      } catch (const SetupError& e) {
        // ESRCH: init already ended (its own report says why); that report must win.
        if (v1_only && e.err == ESRCH) return;
        kill(init, SIGKILL);
        waitpid(init, nullptr, 0);
        throw;
      }
    };
    if (!joined_unified) join(false);
    // Some containers need Node to act before they run (a network to attach): wait for its go.
    if (plan.Setting("hold")) {
      char c;
      std::string line;
      while (line != "go") {
        if (ReadFull(kControlFd, &c, 1) != 1) {
          kill(init, SIGKILL);
          waitpid(init, nullptr, 0);
          return 1;
        }
        if (c == '\n') {
          if (line != "go") line.clear();
        } else {
          line.push_back(c);
        }
      }
    }
    char go = 'g';
    if (!WriteFull(sync[0], &go, 1)) Fail("write", "sync socket");
    // Moving a process into a v1 cgroup waits for an RCU grace period (milliseconds on an idle
    // host). Init already sits in its cgroup2 group (CLONE_INTO_CGROUP), so it does its mounts
    // meanwhile, and waits for "joined" before its payload runs: limits still bind the payload
    // from its first instruction.
    if (joined_unified) join(true);
    char joined = 'j';
    WriteFull(sync[0], &joined, 1);  // fails only when init already ended, which it reports
    LogStream out(out_pipe[0], 'o', log.get()), err(err_pipe[0], 'e', log.get());
    // A terminal's output is one stream, logged as stdout, and also copied to Node's fd 1.
    LogStream console(-1, 'o', log.get());
    if (tty) console.Tee(1);
    console.Share(&attach);
    int payload_status = -1;
    int status = Supervise(init, sync[0], out, err, console, input, attach, sigfd, plan.Setting("init") != nullptr,
                           has_port_channel, detached, payload_status);
    attach.Close();
    ReportExit(plan, status, payload_status);
    return 0;
  } catch (const SetupError& e) {
    SendEvent(kControlFd, ErrorEventFields("host", e));
    return 1;
  } catch (const std::exception& e) {
    SendEvent(kControlFd, FatalEventFields(e));
    return 2;
  }
}

}  // namespace ctr
