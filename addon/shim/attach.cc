#include "attach.hh"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "console.hh"

namespace ctr {

bool AttachServer::Open(const std::string& name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  // The whole sun_path, zero-padded: Node (libuv) connects to an abstract name with that length.
  socklen_t len = sizeof addr;
  if (!fd.valid() || bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0 || listen(fd.get(), 8) < 0)
    return false;
  listen_ = std::move(fd);
  return true;
}

void AttachServer::AppendPollFds(std::vector<pollfd>& fds) const {
  if (!listen_.valid()) return;
  fds.push_back(pollfd{listen_.get(), POLLIN, 0});
  for (const Client& c : clients_) fds.push_back(pollfd{c.fd.get(), POLLIN, 0});
}

void AttachServer::Accept() {
  Fd fd(accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd.valid()) return;
  ucred peer{};
  socklen_t len = sizeof peer;
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) return;
  if (peer.uid != 0 && peer.uid != getuid()) return;  // someone else's container: refused
  clients_.push_back(Client{std::move(fd), ""});
}

bool AttachServer::Read(Client& c, int console) {
  char buf[4096];
  ssize_t n = read(c.fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  c.pending.append(buf, static_cast<size_t>(n));
  while (c.pending.size() >= 5) {
    uint32_t len;
    std::memcpy(&len, c.pending.data() + 1, 4);
    if (len > 1 << 20) return false;  // not a client of ours
    if (c.pending.size() < 5 + len) break;
    std::string payload = c.pending.substr(5, len);
    char type = c.pending[0];
    c.pending.erase(0, 5 + len);
    if (type == 'i' && console >= 0) WriteFull(console, payload.data(), payload.size());
    else if (type == 'r') HandleResize("resize " + payload, console);
  }
  return true;
}

void AttachServer::Handle(const std::vector<pollfd>& fds, size_t from, int console) {
  if (!listen_.valid() || from >= fds.size()) return;
  // Clients first: fds[from + 1 + i] is clients_[i] as AppendPollFds listed them.
  std::vector<Client> kept;
  for (size_t i = 0; i < clients_.size(); ++i) {
    const pollfd& p = fds[from + 1 + i];
    bool alive = !(p.revents & (POLLIN | POLLHUP | POLLERR)) || Read(clients_[i], console);
    if (alive) kept.push_back(std::move(clients_[i]));
  }
  clients_ = std::move(kept);
  if (fds[from].revents & POLLIN) Accept();
}

void AttachServer::Broadcast(const char* data, size_t n) {
  std::vector<Client> kept;
  for (Client& c : clients_) {
    ssize_t sent = send(c.fd.get(), data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(n)) kept.push_back(std::move(c));
  }
  clients_ = std::move(kept);
}

void AttachServer::Close() {
  clients_.clear();
  listen_.Reset();
}

}  // namespace ctr
