// A loopback TCP proxy for tests: forwards every connection to a target port until told to
// cut, after which it forwards nothing in either direction and answers no new connection —
// to the client the API server has vanished from the network (as with a firewall DROP for
// this process only), while the server keeps running for everyone else.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace ferry::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return;
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::jthread([this](std::stop_token st) { AcceptLoop(st); });
  }
  ~TcpProxy() {
    acceptor_.request_stop();
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard<std::mutex> l(mu_);
    for (auto& t : pumps_) t.request_stop();
    for (auto& t : pumps_) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  int port() const { return port_; }
  // From now on nothing passes (connections stay open, bytes stay where they are).
  void Cut() { cut_ = true; }

 private:
  static int Connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  void AcceptLoop(std::stop_token st) {
    while (!st.stop_requested()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (cut_) continue;  // leave it in the backlog: the client's connect/handshake stalls
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c < 0) continue;
      int s = Connect(target_port_);
      if (s < 0) {
        ::close(c);
        continue;
      }
      std::lock_guard<std::mutex> l(mu_);
      pumps_.emplace_back([this, c, s](std::stop_token pst) { Pump(pst, c, s); });
    }
  }
  void Pump(std::stop_token st, int a, int b) {
    char buf[16384];
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    while (!st.stop_requested()) {
      if (cut_) {  // hold everything
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      if (::poll(p, 2, 50) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !cut_; ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {
          closed = true;
          break;
        }
        const int to = p[1 - i].fd;
        for (ssize_t off = 0; off < n;) {
          const ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) {
            closed = true;
            break;
          }
          off += w;
        }
      }
      if (closed) break;
    }
    ::close(a);
    ::close(b);
  }

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::mutex mu_;
  std::vector<std::jthread> pumps_;
  std::jthread acceptor_;
};

}  // namespace ferry::testing
