#include "udp-relay.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ports.hh"

namespace ctr {
namespace {

constexpr long long kIdleMs = 60'000;

long long NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1'000'000;
}

int BindAddress(int family, const sockaddr_storage& a, socklen_t len) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (family == AF_INET6) {
    int on = 1;  // an IPv6 address means that address only, never the IPv4 ones too
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), len) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int BindLoopback(int family, int port) {
  sockaddr_storage a;
  socklen_t len = LoopbackAddress(family, port, a);
  return BindAddress(family, a, len);
}

}  // namespace

UdpRelay::~UdpRelay() {
  for (auto& l : listeners_) close(l.fd);
  for (auto& [key, f] : flows_) close(f.fd);
}

int UdpRelay::Publish(int host_port, int ctr_port, const std::string& host_address) {
  if (!host_address.empty()) {
    // One address Node chose (and checked): bind it alone.
    sockaddr_storage a{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
    int family = AF_INET;
    socklen_t len = sizeof(sockaddr_in);
    if (inet_pton(AF_INET, host_address.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<uint16_t>(host_port));
    } else if (inet_pton(AF_INET6, host_address.c_str(), &v6->sin6_addr) == 1) {
      family = AF_INET6;
      len = sizeof(sockaddr_in6);
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<uint16_t>(host_port));
    } else {
      return EINVAL;
    }
    int fd = BindAddress(family, a, len);
    if (fd < 0) return errno;
    listeners_.push_back({fd, ctr_port});
    return 0;
  }
  int v4 = BindLoopback(AF_INET, host_port);
  if (v4 < 0) return errno;
  listeners_.push_back({v4, ctr_port});
  int v6 = BindLoopback(AF_INET6, host_port);
  if (v6 >= 0) listeners_.push_back({v6, ctr_port});
  else if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT) {
    int saved = errno;
    close(v4);
    listeners_.pop_back();
    return saved;
  }
  return 0;
}

void UdpRelay::AppendPollFds(std::vector<pollfd>& fds) const {
  for (const auto& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  for (const auto& [key, f] : flows_) fds.push_back({f.fd, POLLIN, 0});
}

void UdpRelay::Handle(int fd) {
  for (const auto& l : listeners_)
    if (l.fd == fd) return FromClient(l);
  auto it = flow_by_fd_.find(fd);
  if (it != flow_by_fd_.end()) FromContainer(flows_.at(it->second));
}

void UdpRelay::FromClient(const Listener& l) {
  char buf[65536];
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(l.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return;
  std::string key = std::to_string(l.fd) + ":" + std::string(reinterpret_cast<char*>(&from), len);
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    int err = 0;
    int fd = ports_.ConnectInside(l.ctr_port, err, SOCK_DGRAM);
    if (fd < 0) return;  // the datagram is dropped, as with no route
    Flow flow{fd, l.fd, from, len, NowMs()};
    it = flows_.emplace(key, flow).first;
    flow_by_fd_[fd] = key;
  }
  it->second.last_ms = NowMs();
  send(it->second.fd, buf, static_cast<size_t>(n), MSG_DONTWAIT);
}

void UdpRelay::FromContainer(Flow& f) {
  char buf[65536];
  ssize_t n = recv(f.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) return;
  f.last_ms = NowMs();
  sendto(f.listener, buf, static_cast<size_t>(n), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&f.client), f.client_len);
}

int UdpRelay::TimeoutMs() const {
  if (flows_.empty()) return -1;
  long long oldest = NowMs();
  for (const auto& [key, f] : flows_) oldest = std::min(oldest, f.last_ms);
  long long left = oldest + kIdleMs - NowMs();
  return static_cast<int>(left < 0 ? 0 : left);
}

void UdpRelay::Expire() {
  long long now = NowMs();
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second.last_ms >= kIdleMs) {
      close(it->second.fd);
      flow_by_fd_.erase(it->second.fd);
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ctr
