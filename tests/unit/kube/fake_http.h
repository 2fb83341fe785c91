// A scripted http::HttpClient for unit tests of the client's retry, throttling and watch
// logic (RestApiClient over it). Behaviour against a real server is tested in
// tests/integration; this fake exists to produce what a real server rarely does on demand
// (429 with Retry-After, a 410 at watch start, a bookmark, a handler-breaking object).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "http/http.h"
#include "kube/rest_client.h"

namespace ferry::kube::testing {

using Steady = std::chrono::steady_clock;

class FakeHttp final : public http::HttpClient {
 public:
  using SendFn = std::function<StatusOr<http::Response>(const http::Request&)>;
  // Writes the stream's body through `emit` (each call one chunk); returns the response head.
  using StreamFn = std::function<StatusOr<http::Response>(
      const http::Request&, const std::function<bool(std::string_view)>& emit, std::stop_token)>;

  SendFn send;
  StreamFn stream;

  StatusOr<http::Response> Send(const http::Request& req) override {
    Record(req);
    return send(req);
  }
  StatusOr<http::Response> Stream(const http::Request& req,
                                  const std::function<bool(std::string_view)>& on_data,
                                  std::stop_token stop) override {
    Record(req);
    return stream(req, on_data, stop);
  }

  struct Seen {
    std::string method, path;
    Steady::time_point at;
  };
  std::vector<Seen> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // Requests whose path contains `part`.
  std::vector<Seen> requests(const std::string& part) {
    std::vector<Seen> out;
    for (auto& r : requests()) {
      if (r.path.find(part) != std::string::npos) out.push_back(r);
    }
    return out;
  }

 private:
  void Record(const http::Request& req) {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back({req.method, req.path, Steady::now()});
  }
  std::mutex mu_;
  std::vector<Seen> requests_;
};

inline http::Response JsonResponse(int status, const Json& body,
                                   std::map<std::string, std::string> headers = {}) {
  http::Response r;
  r.status = status;
  r.body = body.dump();
  r.headers = std::move(headers);
  return r;
}

inline http::Response StatusResponse(int code, const std::string& reason, int retry_after = -1) {
  std::map<std::string, std::string> h;
  if (retry_after >= 0) h["retry-after"] = std::to_string(retry_after);
  return JsonResponse(code,
                      Json{{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"status", "Failure"},
                           {"code", code},
                           {"reason", reason},
                           {"message", reason}},
                      std::move(h));
}

inline Json ListBody(const std::string& rv, std::vector<Json> items) {
  return Json{{"kind", "List"},
              {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", rv}}},
              {"items", items}};
}

inline Json Obj(const std::string& name, const std::string& rv, Json labels = Json::object()) {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata",
               {{"name", name},
                {"namespace", "ns"},
                {"resourceVersion", rv},
                {"uid", "uid-" + name},
                {"labels", std::move(labels)}}}};
}

inline std::string Frame(const std::string& type, const Json& obj) {
  return Json{{"type", type}, {"object", obj}}.dump() + "\n";
}

// Blocks until `stop` (a watch that stays open with nothing to say).
inline void WaitForStop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> l(m);
  cv.wait(l, stop, [] { return false; });
}

inline ClusterConfig FakeConfig() {
  ClusterConfig c;
  c.server = "http://fake";
  return c;
}

inline RestOptions NoLimits() {
  RestOptions o;
  o.qps = 0;
  return o;
}

}  // namespace ferry::kube::testing
