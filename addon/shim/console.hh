// A container's pseudo-terminal (tty: true): opened inside the container's own devpts instance,
// its master handed to the helper over a unix socket (SCM_RIGHTS, as runc's --console-socket),
// its slave made the controlling terminal and stdio of the process.
#pragma once
#include <string>

#include "plan.hh"
#include "util.hh"

namespace ctr {

// Opens /dev/ptmx (the container's pts/ptmx once its root is in place), unlocks it, sets the
// window size of a "tty <rows> <columns>" setting, and opens its slave into `slave`.
Fd OpenConsole(const Op& tty, Fd& slave);

// setsid, then the slave becomes the controlling terminal and fds 0, 1 and 2.
void TakeConsole(int slave);

// TIOCSWINSZ on the master; the kernel sends SIGWINCH to the terminal's foreground group.
void SetWindowSize(int master, unsigned rows, unsigned columns);

// Sends one event message with `fd` attached (SCM_RIGHTS).
void SendEventWithFd(int sock, const std::string& json_fields, int fd);

// Handles "resize <rows> <columns>" from Node; false when `line` is not a resize.
bool HandleResize(const std::string& line, int master);

}  // namespace ctr
