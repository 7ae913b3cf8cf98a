#include "tcp-relay.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "ports.hh"

namespace ctr {
namespace {

constexpr size_t kBufferLimit = 256 * 1024;  // stop reading a side while this much waits for the other

int ListenAt(int family, const sockaddr_storage& a, socklen_t len) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // restart while old connections linger
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), len) < 0 || listen(fd, 128) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int ListenLoopback(int family, int port) {
  sockaddr_storage a;
  socklen_t len = LoopbackAddress(family, port, a);
  return ListenAt(family, a, len);
}

}  // namespace

TcpRelay::~TcpRelay() {
  for (auto& l : listeners_) close(l.fd);
  for (auto& p : pairs_) {
    close(p.client);
    close(p.inside);
  }
}

int TcpRelay::Publish(int host_port, int ctr_port, const std::string& host_address) {
  if (!host_address.empty()) {
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
    int fd = ListenAt(family, a, len);
    if (fd < 0) return errno;
    listeners_.push_back({fd, ctr_port});
    return 0;
  }
  int v4 = ListenLoopback(AF_INET, host_port);
  if (v4 < 0) return errno;
  int v6 = ListenLoopback(AF_INET6, host_port);
  if (v6 < 0 && errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT) {
    int saved = errno;
    close(v4);
    return saved;
  }
  listeners_.push_back({v4, ctr_port});
  if (v6 >= 0) listeners_.push_back({v6, ctr_port});
  return 0;
}

void TcpRelay::AppendPollFds(std::vector<pollfd>& fds) const {
  for (const auto& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  for (const auto& p : pairs_) {
    short client = 0, inside = 0;
    if (!p.client_eof && p.to_inside.size() < kBufferLimit) client |= POLLIN;
    if (!p.inside_eof && p.to_client.size() < kBufferLimit) inside |= POLLIN;
    if (!p.to_client.empty()) client |= POLLOUT;
    // The inside socket is still connecting until it is first writable.
    if (!p.to_inside.empty()) inside |= POLLOUT;
    fds.push_back({p.client, client, 0});
    fds.push_back({p.inside, inside, 0});
  }
}

void TcpRelay::Accept(const Listener& l) {
  int client = accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (client < 0) return;
  int err = 0;
  int inside = ports_.ConnectInside(l.ctr_port, err);
  if (inside < 0) {
    close(client);  // the client sees the connection reset, as with nothing listening
    return;
  }
  pairs_.push_back(Pair{client, inside, {}, {}});
}

void TcpRelay::Pump(Pair& p, int from, std::string& buffer, bool& eof, bool readable) {
  if (!readable || eof) return;
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n > 0) buffer.append(buf, static_cast<size_t>(n));
  else if (n == 0) eof = true;
  else if (errno != EAGAIN && errno != EINTR) p.dead = true;  // refused or reset
}

void TcpRelay::Flush(Pair& p, int to, std::string& buffer, bool eof, bool& shut) {
  // Tried whenever bytes wait: a full (or still connecting) socket only says EAGAIN.
  if (!buffer.empty()) {
    ssize_t n = send(to, buffer.data(), buffer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) buffer.erase(0, static_cast<size_t>(n));
    else if (n < 0 && errno != EAGAIN && errno != EINTR) p.dead = true;
  }
  // Half-close: the other side's end of input is passed on once its bytes are.
  if (eof && buffer.empty() && !shut) {
    shutdown(to, SHUT_WR);
    shut = true;
  }
}

void TcpRelay::Handle(const std::vector<pollfd>& fds, size_t from) {
  size_t i = from;
  size_t listeners = listeners_.size();
  for (size_t k = 0; k < listeners; ++k, ++i)
    if (fds[i].revents & POLLIN) Accept(listeners_[k]);
  size_t polled = (fds.size() - from - listeners) / 2;
  for (size_t k = 0; k < polled && k < pairs_.size(); ++k) {
    Pair& p = pairs_[k];
    const pollfd& c = fds[i++];
    const pollfd& in = fds[i++];
    short bad = POLLERR | POLLNVAL;
    Pump(p, p.client, p.to_inside, p.client_eof, c.revents & (POLLIN | POLLHUP | bad));
    Pump(p, p.inside, p.to_client, p.inside_eof, in.revents & (POLLIN | POLLHUP | bad));
    Flush(p, p.inside, p.to_inside, p.client_eof, p.inside_shut);
    Flush(p, p.client, p.to_client, p.inside_eof, p.client_shut);
  }
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    bool done = it->dead || (it->client_shut && it->inside_shut);
    if (done) {
      close(it->client);
      close(it->inside);
      it = pairs_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ctr
