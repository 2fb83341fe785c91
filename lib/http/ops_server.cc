#include "http/ops_server.h"

#include <prometheus/text_serializer.h>

namespace ferry::http {

OpsServer::OpsServer(std::shared_ptr<prometheus::Registry> registry) : registry_(std::move(registry)) {}

OpsServer::~OpsServer() { Stop(); }

void OpsServer::AddLivenessCheck(std::string name, Check check) {
  std::lock_guard<std::mutex> l(mu_);
  liveness_.emplace_back(std::move(name), std::move(check));
}

void OpsServer::AddReadinessCheck(std::string name, Check check) {
  std::lock_guard<std::mutex> l(mu_);
  readiness_.emplace_back(std::move(name), std::move(check));
}

ServerResponse OpsServer::RunChecks(const std::vector<std::pair<std::string, Check>>& checks) {
  ServerResponse r;
  bool ok = true;
  for (const auto& [name, check] : checks) {
    Status st = check();
    if (st.ok()) {
      r.body += "[+]" + name + " ok\n";
    } else {
      ok = false;
      r.body += "[-]" + name + " failed: " + st.message() + "\n";
    }
  }
  r.status = ok ? 200 : 503;
  r.body += ok ? "ok\n" : "failed\n";
  return r;
}

StatusOr<int> OpsServer::Start(const std::string& host, int port) {
  server_ = MakeHttpServer();
  server_->Handle("/healthz", [this](const ServerRequest&) {
    std::lock_guard<std::mutex> l(mu_);
    return RunChecks(liveness_);
  });
  server_->Handle("/readyz", [this](const ServerRequest&) {
    std::lock_guard<std::mutex> l(mu_);
    return RunChecks(readiness_);
  });
  server_->Handle("/metrics", [this](const ServerRequest&) {
    ServerResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(registry_->Collect());
    return r;
  });
  return server_->Start(host, port);
}

void OpsServer::Stop() {
  if (server_) server_->Stop();
}

}  // namespace ferry::http
