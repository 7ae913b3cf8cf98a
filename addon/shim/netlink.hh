// Just enough rtnetlink (rtnetlink(7)) to build a container network: a bridge, veth pairs whose
// peer is created directly in another network namespace, addresses, and links set up. Each call
// works in the network namespace the calling process is in.
#pragma once
#include <string>

namespace ctr {

class Netlink {
 public:
  Netlink();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  void AddBridge(const std::string& name);
  // Creates `name` here and its peer `peer_name` in the network namespace open at `peer_ns_fd`.
  void AddVethPair(const std::string& name, const std::string& peer_name, int peer_ns_fd);
  void SetMaster(const std::string& name, const std::string& master);
  void SetUp(const std::string& name);
  void AddAddress(const std::string& name, const std::string& ipv4, int prefix);

 private:
  void Request(void* msg, size_t len, const std::string& what, const std::string& subject);
  int fd_;
  unsigned seq_ = 0;
};

}  // namespace ctr
