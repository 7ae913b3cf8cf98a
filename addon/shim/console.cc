#include "console.hh"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace ctr {

Fd OpenConsole(const Op& tty, Fd& slave) {
  // /dev/ptmx is the symlink to pts/ptmx the plan made: a pty of the container's own devpts
  // (newinstance), so the slave is /dev/pts/<n> inside and nothing of the host's terminals shows.
  Fd master(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) Fail("open", "/dev/ptmx");
  int unlock = 0;
  if (ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) Fail("ioctl(TIOCSPTLCK)", "/dev/ptmx");
  SetWindowSize(master.get(), static_cast<unsigned>(tty.num(1)), static_cast<unsigned>(tty.num(2)));
  // TIOCGPTPEER opens the slave through the master, not by a path an image could have replaced.
  slave.Reset(ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid()) Fail("ioctl(TIOCGPTPEER)", "/dev/ptmx");
  return master;
}

void TakeConsole(int slave) {
  if (setsid() < 0 && errno != EPERM) Fail("setsid", "");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) Fail("ioctl(TIOCSCTTY)", "console");
  for (int fd = 0; fd < 3; ++fd)
    if (dup2(slave, fd) < 0) Fail("dup2", "console");
}

void SetWindowSize(int master, unsigned rows, unsigned columns) {
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(columns);
  if (ioctl(master, TIOCSWINSZ, &ws) < 0) Fail("ioctl(TIOCSWINSZ)", "console");
}

void SendEventWithFd(int sock, const std::string& json_fields, int fd) {
  std::string line = "{" + json_fields + "}\n";
  if (SendWithFd(sock, line.data(), line.size(), fd) < 0) Fail("sendmsg", "console");
}

bool HandleResize(const std::string& line, int master) {
  if (line.compare(0, 7, "resize ") != 0) return false;
  unsigned rows = 0, columns = 0;
  if (sscanf(line.c_str() + 7, "%u %u", &rows, &columns) == 2 && master >= 0) {
    try {
      SetWindowSize(master, rows, columns);
    } catch (const SetupError&) {
      // The terminal is gone (the process ended): nothing to resize.
    }
  }
  return true;
}

}  // namespace ctr
