// The port-socket service: Node asks for a TCP connection to a port inside the container, the
// shim makes the socket inside the container's network namespace, connects it, and passes it
// back over SCM_RIGHTS (rootlesskit's builtin port driver works the same way).
#pragma once
#include <sys/socket.h>
#include <sys/types.h>

namespace ctr {

// 127.0.0.1:port or [::1]:port, by family; returns the address length.
socklen_t LoopbackAddress(int family, int port, sockaddr_storage& out);

class PortService {
 public:
  // Opens the network namespaces of the container (through init's pid) and of the shim.
  bool Open(pid_t init);
  // Serves one request from `channel`; false when the channel closed.
  bool Serve(int channel);
  // A socket of `type` made inside the container and connected to its loopback `port`.
  int ConnectInside(int port, int& err, int type = 0);

 private:
  int container_ns_ = -1;
  int host_ns_ = -1;
};

}  // namespace ctr
