// Ferry's own HTTP interface. cpprestsdk (in maintenance mode) is used only behind it, in
// cpprest_http.cc, as aspnet/SignalR-Client-Cpp keeps it behind default_http_client.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ferry::http {

struct TlsConfig {
  std::string ca_pem;           // trusted CA bundle (PEM); empty = system default
  std::string client_cert_pem;  // client certificate chain (PEM), optional
  std::string client_key_pem;   // client private key (PEM), optional
  bool insecure_skip_verify = false;
};

struct ClientConfig {
  std::string base_url;  // "https://127.0.0.1:6443"
  TlsConfig tls;
  std::chrono::milliseconds request_timeout{30000};
};

struct Request {
  std::string method = "GET";
  std::string path;  // path and query, already escaped: "/api/v1/nodes?limit=5"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For Send(): overrides ClientConfig::request_timeout when > 0. For Stream(): the longest
  // silence tolerated on the stream (0 = request_timeout).
  std::chrono::milliseconds timeout{0};
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // keys lower-case
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends a request and reads the whole response. Transport errors (refused, reset,
  // timeout, TLS) are kUnavailable/kDeadlineExceeded; any HTTP status is a Response.
  virtual StatusOr<Response> Send(const Request& req) = 0;
  // Sends a request and, for a 2xx response, hands the body to on_data chunk by chunk as it
  // arrives (any chunk boundaries) until the server ends it, on_data returns false, or `stop`
  // is requested (then kCancelled). The returned Response has the status and headers; its
  // body is filled only for a non-2xx status (the whole error body).
  virtual StatusOr<Response> Stream(const Request& req,
                                    const std::function<bool(std::string_view)>& on_data,
                                    std::stop_token stop) = 0;
};

std::unique_ptr<HttpClient> MakeHttpClient(ClientConfig config);

// A small HTTP server for /healthz, /readyz and /metrics.
struct ServerRequest {
  std::string method;
  std::string path;   // without query
  std::string query;  // raw
};
struct ServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using Handler = std::function<ServerResponse(const ServerRequest&)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Exact-path handlers; register before Start().
  virtual void Handle(const std::string& path, Handler handler) = 0;
  // Listens on host:port (port 0 = pick a free one); returns the bound port.
  virtual StatusOr<int> Start(const std::string& host, int port) = 0;
  virtual void Stop() = 0;
};

std::unique_ptr<HttpServer> MakeHttpServer();

}  // namespace ferry::http
