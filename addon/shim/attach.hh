// `bento attach`: other processes reach a detached container's terminal through an abstract
// unix socket its helper listens on. Only root and the helper's own user may connect (checked
// with SO_PEERCRED: an abstract socket has no file mode).
// A client sends frames: 'i' <u32 length> <bytes> (typed input) or 'r' <u32 length> "<rows>
// <columns>" (resize); it receives the terminal's output as it comes, and EOF when it ended.
#pragma once
#include <poll.h>

#include <string>
#include <vector>

#include "util.hh"

namespace ctr {

class AttachServer {
 public:
  // Listens on "\0<name>"; false (and no server) when that fails.
  bool Open(const std::string& name);
  bool open() const { return listen_.valid(); }
  // The listening socket, which init must not keep (it never execs, so close-on-exec is no help).
  int listen_fd() const { return listen_.get(); }
  void AppendPollFds(std::vector<pollfd>& fds) const;
  // Accepts and reads what is ready among fds[from...]; input and resizes go to `console`.
  void Handle(const std::vector<pollfd>& fds, size_t from, int console);
  // Sends output to every client; a client that cannot keep up or left is dropped.
  void Broadcast(const char* data, size_t n);
  void Close();

 private:
  struct Client {
    Fd fd;
    std::string pending;
  };
  void Accept();
  bool Read(Client& c, int console);
  Fd listen_;
  std::vector<Client> clients_;
};

}  // namespace ctr
