// UDP publishing: the shim binds the host port (127.0.0.1 and ::1, one number) and relays each
// client's datagrams through a per-flow socket made inside the container's network namespace,
// connected to the container port. Flows idle for a minute are dropped, as conntrack would.
#pragma once
#include <poll.h>
#include <sys/socket.h>

#include <map>
#include <string>
#include <vector>

namespace ctr {

class PortService;

class UdpRelay {
 public:
  explicit UdpRelay(PortService& ports) : ports_(ports) {}
  ~UdpRelay();
  // Binds host_port for container port ctr_port, on host_address, or on both loopbacks when it
  // is empty; errno on failure.
  int Publish(int host_port, int ctr_port, const std::string& host_address);
  void AppendPollFds(std::vector<pollfd>& fds) const;
  void Handle(int fd);
  // Milliseconds until the next flow may expire (-1: none).
  int TimeoutMs() const;
  void Expire();

 private:
  struct Listener {
    int fd;
    int ctr_port;
  };
  struct Flow {
    int fd;
    int listener;
    sockaddr_storage client;
    socklen_t client_len;
    long long last_ms;
  };
  void FromClient(const Listener& l);
  void FromContainer(Flow& f);
  PortService& ports_;
  std::vector<Listener> listeners_;
  std::map<std::string, Flow> flows_;  // by listener fd + client address
  std::map<int, std::string> flow_by_fd_;
};

}  // namespace ctr
