#include "payload.hh"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "seccomp.hh"
#include "util.hh"

namespace ctr {
namespace {

const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// A process inherits blocked signals and ignored dispositions across execve, and Node ignores
// SIGPIPE: the payload must start from a clean slate (libuv's child does the same).
void ResetSignals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Drops from the bounding set every capability the plan does not keep, then switches to the
// user, then sets the kept ones (runc's order: bounding, keepcaps, ids, capset).
void SetCredentials(const ProcessSpec& spec) {
  for (int cap = 0; cap < 64; ++cap) {
    if (spec.caps & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;  // past CAP_LAST_CAP
      Fail("prctl(PR_CAPBSET_DROP)", std::to_string(cap));
    }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) Fail("prctl(PR_SET_KEEPCAPS)", "");
  std::vector<gid_t> groups(spec.groups.begin(), spec.groups.end());
  if (spec.set_groups && setgroups(groups.size(), groups.data()) < 0) Fail("setgroups", "");
  if (setresgid(spec.gid, spec.gid, spec.gid) < 0) Fail("setresgid", std::to_string(spec.gid));
  if (setresuid(spec.uid, spec.uid, spec.uid) < 0) Fail("setresuid", std::to_string(spec.uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) Fail("prctl(PR_SET_KEEPCAPS)", "");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<__u32>(spec.caps >> (32 * i));
    // Inheritable stays empty: with it, a file with inheritable file capabilities would regain
    // them across execve even for a non-root user (CVE-2022-24769, fixed the same way in runc
    // 1.1.2 and moby 20.10.14).
    data[i].effective = data[i].permitted = word;
  }
  if (syscall(SYS_capset, &header, data) < 0) Fail("capset", "");
  // Ambient capabilities survive execve of unprivileged binaries; none are granted.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    Fail("prctl(PR_CAP_AMBIENT)", "");
}

std::string EnvValue(const std::vector<std::string>& env, const std::string& key) {
  for (const std::string& kv : env)
    if (kv.compare(0, key.size() + 1, key + "=") == 0) return kv.substr(key.size() + 1);
  return "";
}

// execvpe would search the *caller's* PATH; the container's PATH comes from the plan's env.
[[noreturn]] void ExecSearchingPath(const ProcessSpec& spec) {
  std::vector<char*> argv, envp;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string& file = spec.argv.at(0);
  if (file.find('/') != std::string::npos) {
    execve(file.c_str(), argv.data(), envp.data());
    Fail("execve", file);
  }
  std::string path = EnvValue(spec.env, "PATH");
  if (path.empty()) path = kDefaultPath;
  int saved = ENOENT;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(pos, end - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + file;
    execve(candidate.c_str(), argv.data(), envp.data());
    if (errno == EACCES) saved = EACCES;
    else if (errno != ENOENT && errno != ENOTDIR) saved = errno;
    pos = end + 1;
  }
  errno = saved;
  Fail("execve", file);
}

}  // namespace

void BlockForwardedSignals() {
  sigset_t set;
  sigfillset(&set);
  // Faults must still kill us rather than be queued (tini keeps the same ones unblocked).
  for (int sig : {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
}

void ExecProcess(const ProcessSpec& spec) {
  g_current_step = -1;
  if (spec.argv.empty()) {
    errno = EINVAL;
    Fail("execve", "(no command: the image has no entrypoint or cmd, and none was given)");
  }
  if (setsid() < 0 && errno != EPERM) Fail("setsid", "");
  // CVE-2024-21626: no host fd may survive into the container.
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) Fail("close_range", "");
  bool cwd_done = chdir(spec.cwd.c_str()) == 0;
  int cwd_errno = errno;
  // Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN, which the credentials may drop: load
  // the filter first, as runc does; the calls that follow must then be allowed by it.
  if (!spec.no_new_privs) LoadSeccomp(spec.seccomp);
  SetCredentials(spec);
  // A directory only the target user may enter is retried after switching (runc does both).
  if (!cwd_done && chdir(spec.cwd.c_str()) < 0) {
    errno = cwd_errno == EACCES ? errno : cwd_errno;
    Fail("chdir", spec.cwd);
  }
  if (spec.no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) Fail("prctl(PR_SET_NO_NEW_PRIVS)", "");
    // As late as possible: only the signal reset and execve run under the filter.
    LoadSeccomp(spec.seccomp);
  }
  ResetSignals();
  ExecSearchingPath(spec);
}

}  // namespace ctr
