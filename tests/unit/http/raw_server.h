// A loopback TCP server that speaks just enough HTTP/1.1 by hand for tests of the client's
// transport behaviour: what it does when the server reads a request and hangs up, and
// whether streamed chunks are delivered as they arrive.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace ferry::http::testing {

class RawServer {
 public:
  // handler(fd, request_head) serves one connection; the server closes fd afterwards.
  using Handler = std::function<void(int fd, const std::string& request)>;

  explicit RawServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
  }
  ~RawServer() {
    thread_.request_stop();
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

  // Reads one request head (and a Content-Length body); "" when the peer closed first.
  static std::string ReadRequest(int fd) {
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return "";
      in.append(buf, static_cast<size_t>(n));
    }
    size_t want = 0;
    for (const char* h : {"Content-Length: ", "content-length: "}) {
      auto p = in.find(h);
      if (p != std::string::npos) want = std::stoul(in.substr(p + 16));
    }
    while (in.size() < head_end + 4 + want) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  static void Send(int fd, const std::string& s) {
    (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
  }
  static std::string Chunk(const std::string& data) {
    char len[32];
    std::snprintf(len, sizeof len, "%zx\r\n", data.size());
    return len + data + "\r\n";
  }
  // True once the peer has closed the connection (within `ms`).
  static bool PeerClosed(int fd, int ms) {
    for (int waited = 0; waited < ms; waited += 10) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        char c;
        const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
      }
    }
    return false;
  }
  void CountRequest() { ++requests_; }

 private:
  void Loop(std::stop_token st) {
    while (!st.stop_requested()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      handler_(c, ReadRequest(c));
      ::close(c);
    }
  }
  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::jthread thread_;
};

}  // namespace ferry::http::testing
