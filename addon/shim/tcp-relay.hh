// TCP publishing for a detached container: its starter (and the starter's port proxy) is gone,
// so the shim itself listens on the host port and relays each connection to a socket it makes
// inside the container's network namespace (the same service Node's proxy asks for).
#pragma once
#include <poll.h>

#include <string>
#include <vector>

namespace ctr {

class PortService;

class TcpRelay {
 public:
  explicit TcpRelay(PortService& ports) : ports_(ports) {}
  ~TcpRelay();
  // Listens on host_port for container port ctr_port, on host_address, or on both loopbacks when
  // it is empty; errno on failure.
  int Publish(int host_port, int ctr_port, const std::string& host_address);
  void AppendPollFds(std::vector<pollfd>& fds) const;
  // Acts on what poll reported for the fds AppendPollFds added, starting at `from`.
  void Handle(const std::vector<pollfd>& fds, size_t from);

 private:
  struct Listener {
    int fd;
    int ctr_port;
  };
  // One relayed connection: bytes read from one side wait in a buffer until the other takes them.
  struct Pair {
    int client;
    int inside;
    std::string to_inside, to_client;
    bool client_eof = false, inside_eof = false, inside_shut = false, client_shut = false, dead = false;
  };
  void Accept(const Listener& l);
  static void Pump(Pair& p, int from, std::string& buffer, bool& eof, bool readable);
  static void Flush(Pair& p, int to, std::string& buffer, bool eof, bool& shut);
  PortService& ports_;
  std::vector<Listener> listeners_;
  std::vector<Pair> pairs_;
};

}  // namespace ctr
