// The only file in Ferry that includes cpprestsdk. Every cpprest/Boost exception is caught
// here and turned into a Status.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <cpprest/http_listener.h>

#include "http/http.h"

namespace ferry::http {
namespace {

namespace wh = web::http;
namespace whc = web::http::client;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Maps a transport-level exception to a Status.
Status TransportError(const std::string& what, const std::string& base_url) {
  const std::string lower = Lower(what);
  if (lower.find("timed out") != std::string::npos || lower.find("timeout") != std::string::npos) {
    return DeadlineExceededError("HTTP request to " + base_url + " timed out: " + what);
  }
  return UnavailableError("HTTP transport error talking to " + base_url + ": " + what);
}

// Loads the TLS material into a throw-away context, so that a CA, certificate or key that
// OpenSSL cannot use is reported as what it is (kInvalid) before any request, instead of
// surfacing as a failed handshake or a 401 from a server that never saw the client cert.
Status CheckTls(const TlsConfig& tls) {
  namespace ssl = boost::asio::ssl;
  try {
    ssl::context ctx(ssl::context::tls_client);
    boost::system::error_code ec;
    if (!tls.ca_pem.empty()) {
      ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem), ec);
      if (ec) return InvalidError("TLS setup: cannot load the CA certificate: " + ec.message());
    }
    if (tls.client_cert_pem.empty() != tls.client_key_pem.empty()) {
      return InvalidError("TLS setup: a client certificate needs its key and a key its certificate");
    }
    if (!tls.client_cert_pem.empty()) {
      ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem), ec);
      if (ec) return InvalidError("TLS setup: cannot load the client certificate: " + ec.message());
      ctx.use_private_key(boost::asio::buffer(tls.client_key_pem), ssl::context::pem, ec);
      if (ec) return InvalidError("TLS setup: cannot load the client key: " + ec.message());
      if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
        return InvalidError("TLS setup: the client key does not match the client certificate");
      }
    }
  } catch (const std::exception& e) {
    return InvalidError(std::string("TLS setup: ") + e.what());
  }
  return OkStatus();
}

// Methods a client may send again after a transport failure without asking its caller
// (RFC 9110 §9.2.2 lists PUT and DELETE too, but for the API server a repeated PUT turns into
// a 409 and a repeated DELETE into a 404 the caller would misread; those, and POST and
// PATCH, which may have been applied already, are left to the caller).
bool SafeToResend(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// True when a transport error says the request never reached the server whole: the
// connection could not be made, or writing the request failed (a server cannot act on a
// request it did not receive completely). Typical of a kept-alive connection the server
// closed (it restarted). Then any method may be sent again.
bool NothingReachedServer(const std::string& what) {
  const std::string lower = Lower(what);
  return lower.find("failed to write request") != std::string::npos ||
         lower.find("failed to connect") != std::string::npos ||
         lower.find("connection refused") != std::string::npos;
}

whc::http_client_config MakeConfig(const ClientConfig& c, std::chrono::milliseconds timeout) {
  whc::http_client_config cfg;
  cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  cfg.set_validate_certificates(!c.tls.insecure_skip_verify);
  TlsConfig tls = c.tls;
  cfg.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
    // Errors here surface as a failed handshake, reported by the request.
    boost::system::error_code ec;
    if (!tls.ca_pem.empty()) {
      ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem), ec);
    }
    if (!tls.client_cert_pem.empty()) {
      ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem), ec);
    }
    if (!tls.client_key_pem.empty()) {
      ctx.use_private_key(boost::asio::buffer(tls.client_key_pem), boost::asio::ssl::context::pem, ec);
    }
  });
  return cfg;
}

wh::http_request MakeRequest(const Request& req) {
  wh::http_request r(wh::method(req.method));
  r.set_request_uri(web::uri(req.path));
  for (const auto& [k, v] : req.headers) r.headers().add(k, v);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    std::string content_type = "application/json";
    for (const auto& [k, v] : req.headers) {
      if (Lower(k) == "content-type") content_type = v;
    }
    r.set_body(req.body, content_type);
  }
  return r;
}

void CopyHead(const wh::http_response& resp, Response* out) {
  out->status = resp.status_code();
  for (const auto& [k, v] : resp.headers()) out->headers[Lower(k)] = v;
}

// Attempts of a request on the pooled client when the transport fails (stale keep-alive).
constexpr int kStaleConnectionAttempts = 3;

class CppRestHttpClient final : public HttpClient {
 public:
  explicit CppRestHttpClient(ClientConfig c) : config_(std::move(c)), tls_error_(CheckTls(config_.tls)) {}

  StatusOr<Response> Send(const Request& req) override {
    if (!tls_error_.ok()) return tls_error_;
    try {
      // One client (and so one pool of kept-alive TLS connections) serves every request with
      // the default timeout; a request with its own timeout gets a client of its own.
      std::unique_ptr<whc::http_client> own;
      whc::http_client* client = nullptr;
      if (req.timeout.count() > 0 && req.timeout != config_.request_timeout) {
        own = std::make_unique<whc::http_client>(config_.base_url, MakeConfig(config_, req.timeout));
        client = own.get();
      } else {
        client = &DefaultClient();
      }
      // A kept-alive connection the server has since closed (e.g. it restarted) fails on
      // first use; like Go's net/http, retry on a fresh connection — but only a request that
      // is safe to send twice, or one that never reached the server whole (the write
      // failed): otherwise the failure may have come after the server applied it (a timeout,
      // a reset while reading the answer), and a POST or a JSON patch must not be applied
      // twice. The pool may hold more than one stale connection, hence a few attempts.
      const int attempts = own ? 1 : kStaleConnectionAttempts;
      for (int attempt = 1;; ++attempt) {
        try {
          wh::http_response resp = client->request(MakeRequest(req)).get();
          Response out;
          CopyHead(resp, &out);
          out.body = resp.extract_utf8string(true).get();
          return out;
        } catch (const std::exception& e) {
          if (attempt >= attempts || !(SafeToResend(req.method) || NothingReachedServer(e.what()))) throw;
        }
      }
    } catch (const std::exception& e) {
      return TransportError(e.what(), config_.base_url);
    }
  }

  StatusOr<Response> Stream(const Request& req, const std::function<bool(std::string_view)>& on_data,
                            std::stop_token stop) override {
    if (!tls_error_.ok()) return tls_error_;
    const auto timeout = req.timeout.count() > 0 ? req.timeout : config_.request_timeout;
    pplx::cancellation_token_source cts;
    std::stop_callback on_stop(stop, [&cts] { cts.cancel(); });
    Response out;
    try {
      whc::http_client client(config_.base_url, MakeConfig(config_, timeout));
      wh::http_response resp = client.request(MakeRequest(req), cts.get_token()).get();
      CopyHead(resp, &out);
      if (out.status < 200 || out.status >= 300) {
        out.body = resp.extract_utf8string(true).get();
        return out;
      }
      auto sb = resp.body().streambuf();
      std::string buf(64 * 1024, '\0');
      auto* p = reinterpret_cast<uint8_t*>(buf.data());
      for (;;) {
        if (stop.stop_requested()) return CancelledError("stream cancelled");
        // Wait for at least one byte, then take whatever else is already buffered, so
        // events are delivered as they arrive rather than when a full buffer fills.
        size_t got = sb.getn(p, 1).get();
        if (got == 0) break;  // end of body
        const size_t avail = std::min(sb.in_avail(), buf.size() - 1);
        if (avail > 0) got += sb.getn(p + 1, avail).get();
        if (!on_data(std::string_view(buf.data(), got))) {
          // The consumer is done before the server is: cancel the request so the connection
          // is closed now rather than left open (and read into a buffer) until the server
          // ends the stream minutes later.
          cts.cancel();
          try {
            sb.close().wait();
          } catch (const std::exception&) {
            // Closing a cancelled stream may report the cancellation; it is what we asked.
          }
          break;
        }
      }
      return out;
    } catch (const pplx::task_canceled&) {
      return CancelledError("stream cancelled");
    } catch (const std::exception& e) {
      if (stop.stop_requested()) return CancelledError("stream cancelled");
      return TransportError(e.what(), config_.base_url);
    }
  }

 private:
  whc::http_client& DefaultClient() {
    std::lock_guard<std::mutex> l(mu_);
    if (!default_client_) {
      default_client_ = std::make_unique<whc::http_client>(config_.base_url, MakeConfig(config_, config_.request_timeout));
    }
    return *default_client_;
  }

  ClientConfig config_;
  Status tls_error_;
  std::mutex mu_;
  std::unique_ptr<whc::http_client> default_client_;
};

// Picks a free loopback port by binding port 0 (http_listener cannot report its port).
StatusOr<int> PickFreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return InvalidError("not an IPv4 address: " + host);
  }
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return UnavailableError("cannot bind a free port on " + host);
  }
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

class CppRestHttpServer final : public HttpServer {
 public:
  ~CppRestHttpServer() override { Stop(); }

  void Handle(const std::string& path, Handler handler) override { handlers_[path] = std::move(handler); }

  StatusOr<int> Start(const std::string& host, int port) override {
    constexpr int kAttempts = 5;  // a port picked by PickFreePort can be taken before we bind
    Status last = UnavailableError("not started");
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      int p = port;
      if (p == 0) {
        auto picked = PickFreePort(host);
        if (!picked.ok()) return picked.status();
        p = *picked;
      }
      try {
        auto listener = std::make_unique<web::http::experimental::listener::http_listener>(
            "http://" + host + ":" + std::to_string(p) + "/");
        listener->support([this](wh::http_request req) { Dispatch(std::move(req)); });
        listener->open().wait();
        std::lock_guard<std::mutex> l(mu_);
        listener_ = std::move(listener);
        return p;
      } catch (const std::exception& e) {
        last = UnavailableError("cannot listen on " + host + ":" + std::to_string(p) + ": " + e.what());
        if (port != 0) break;
      }
    }
    return last;
  }

  void Stop() override {
    std::unique_ptr<web::http::experimental::listener::http_listener> l;
    {
      std::lock_guard<std::mutex> lock(mu_);
      l = std::move(listener_);
    }
    if (l) {
      try {
        l->close().wait();
      } catch (const std::exception&) {
        // Closing a listener that failed is not an error worth reporting.
      }
    }
  }

 private:
  void Dispatch(wh::http_request req) {
    ServerRequest sr;
    sr.method = req.method();
    sr.path = req.relative_uri().path();
    sr.query = req.relative_uri().query();
    ServerResponse resp{404, "text/plain; charset=utf-8", "not found\n"};
    auto it = handlers_.find(sr.path);
    if (it != handlers_.end()) {
      try {
        resp = it->second(sr);
      } catch (const std::exception& e) {
        resp = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
      }
    }
    wh::http_response r(static_cast<wh::status_code>(resp.status));
    r.set_body(resp.body, resp.content_type);
    try {
      req.reply(r).wait();
    } catch (const std::exception&) {
      // The client went away; nothing to do.
    }
  }

  std::map<std::string, Handler> handlers_;
  std::mutex mu_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeHttpClient(ClientConfig config) {
  return std::make_unique<CppRestHttpClient>(std::move(config));
}

std::unique_ptr<HttpServer> MakeHttpServer() { return std::make_unique<CppRestHttpServer>(); }

}  // namespace ferry::http
