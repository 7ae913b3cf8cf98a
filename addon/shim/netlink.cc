#include "netlink.hh"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "util.hh"

namespace ctr {
namespace {

// A netlink message under construction: header, then the family struct, then attributes.
class Message {
 public:
  Message(unsigned short type, unsigned short flags) {
    hdr()->nlmsg_len = NLMSG_LENGTH(0);
    hdr()->nlmsg_type = type;
    hdr()->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  }
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_); }
  template <typename T>
  T* Append() {
    T* p = reinterpret_cast<T*>(buf_ + NLMSG_ALIGN(hdr()->nlmsg_len));
    std::memset(p, 0, sizeof(T));
    hdr()->nlmsg_len = NLMSG_ALIGN(hdr()->nlmsg_len) + sizeof(T);
    return p;
  }
  rtattr* Attr(unsigned short type, const void* data, size_t len) {
    rtattr* a = reinterpret_cast<rtattr*>(buf_ + NLMSG_ALIGN(hdr()->nlmsg_len));
    a->rta_type = type;
    a->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    if (len) std::memcpy(RTA_DATA(a), data, len);
    hdr()->nlmsg_len = NLMSG_ALIGN(hdr()->nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
  }
  rtattr* Attr(unsigned short type, const std::string& s) { return Attr(type, s.c_str(), s.size() + 1); }
  rtattr* Begin(unsigned short type) { return Attr(type, nullptr, 0); }
  void End(rtattr* nest) {
    nest->rta_len = static_cast<unsigned short>(buf_ + hdr()->nlmsg_len - reinterpret_cast<char*>(nest));
  }
  size_t size() { return hdr()->nlmsg_len; }

 private:
  alignas(nlmsghdr) char buf_[1024] = {};
};

int IfIndex(const std::string& name) {
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) Fail("if_nametoindex", name);
  return static_cast<int>(index);
}

}  // namespace

Netlink::Netlink() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
  if (fd_ < 0) Fail("socket(AF_NETLINK)", "");
}

Netlink::~Netlink() { close(fd_); }

void Netlink::Request(void* msg, size_t len, const std::string& what, const std::string& subject) {
  nlmsghdr* h = static_cast<nlmsghdr*>(msg);
  h->nlmsg_seq = ++seq_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, msg, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    Fail("sendto(netlink)", subject);
  char reply[4096];
  ssize_t n = recv(fd_, reply, sizeof reply, 0);
  if (n < 0) Fail("recv(netlink)", subject);
  nlmsghdr* r = reinterpret_cast<nlmsghdr*>(reply);
  if (r->nlmsg_type == NLMSG_ERROR) {
    int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(r))->error;
    if (err != 0) {
      errno = err;
      Fail(what.c_str(), subject);
    }
  }
}

void Netlink::AddBridge(const std::string& name) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.Attr(IFLA_IFNAME, name);
  rtattr* info = m.Begin(IFLA_LINKINFO);
  m.Attr(IFLA_INFO_KIND, std::string("bridge"));
  m.End(info);
  Request(m.hdr(), m.size(), "netlink RTM_NEWLINK (bridge)", name);
}

void Netlink::AddVethPair(const std::string& name, const std::string& peer_name, int peer_ns_fd) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.Attr(IFLA_IFNAME, name);
  rtattr* info = m.Begin(IFLA_LINKINFO);
  m.Attr(IFLA_INFO_KIND, std::string("veth"));
  rtattr* data = m.Begin(IFLA_INFO_DATA);
  rtattr* peer = m.Begin(VETH_INFO_PEER);
  m.Append<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.Attr(IFLA_IFNAME, peer_name);
  m.Attr(IFLA_NET_NS_FD, &peer_ns_fd, sizeof peer_ns_fd);
  m.End(peer);
  m.End(data);
  m.End(info);
  Request(m.hdr(), m.size(), "netlink RTM_NEWLINK (veth)", name);
}

void Netlink::SetMaster(const std::string& name, const std::string& master) {
  Message m(RTM_NEWLINK, 0);
  ifinfomsg* ifi = m.Append<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = IfIndex(name);
  int master_index = IfIndex(master);
  m.Attr(IFLA_MASTER, &master_index, sizeof master_index);
  Request(m.hdr(), m.size(), "netlink RTM_NEWLINK (master)", name);
}

void Netlink::SetUp(const std::string& name) {
  Message m(RTM_NEWLINK, 0);
  ifinfomsg* ifi = m.Append<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = IfIndex(name);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  Request(m.hdr(), m.size(), "netlink RTM_NEWLINK (up)", name);
}

void Netlink::AddAddress(const std::string& name, const std::string& ipv4, int prefix) {
  in_addr addr{};
  if (inet_pton(AF_INET, ipv4.c_str(), &addr) != 1) {
    errno = EINVAL;
    Fail("inet_pton", ipv4);
  }
  Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg* ifa = m.Append<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
  ifa->ifa_index = static_cast<unsigned>(IfIndex(name));
  m.Attr(IFA_LOCAL, &addr, sizeof addr);
  m.Attr(IFA_ADDRESS, &addr, sizeof addr);
  Request(m.hdr(), m.size(), "netlink RTM_NEWADDR", name + " " + ipv4);
}

}  // namespace ctr
