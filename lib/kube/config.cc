#include "kube/config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace ferry::kube {
namespace {

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Base64 decoding for kubeconfig *-data fields; whitespace ignored.
StatusOr<std::string> Base64Decode(const std::string& in, const std::string& what) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) return InvalidError(what + " is not valid base64");
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// Reads `<key>-data` (base64) or `<key>` (file path) from a kubeconfig map.
StatusOr<std::string> DataOrFile(const YAML::Node& m, const std::string& key, const std::string& base_dir) {
  if (m[key + "-data"]) return Base64Decode(m[key + "-data"].as<std::string>(), key + "-data");
  if (m[key]) return ReadFile(Resolve(m[key].as<std::string>(), base_dir));
  return std::string();
}

// The `field` map of the entry called `name` in a kubeconfig list (clusters, contexts, users).
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name, const std::string& field) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name && item[field] && item[field].IsMap()) {
      return item[field];
    }
  }
  return std::nullopt;
}

}  // namespace

std::shared_ptr<TokenSource> TokenSource::Static(std::string token) {
  std::shared_ptr<TokenSource> t(new TokenSource());
  t->token_ = std::move(token);
  return t;
}

std::shared_ptr<TokenSource> TokenSource::File(std::string path, const Clock& clock, std::chrono::seconds refresh) {
  std::shared_ptr<TokenSource> t(new TokenSource());
  t->path_ = std::move(path);
  t->clock_ = &clock;
  t->refresh_ = refresh;
  return t;
}

StatusOr<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> l(mu_);
  if (path_.empty()) return token_;
  const auto now = clock_->Now();
  if (!read_once_ || now - read_at_ >= refresh_) {
    auto data = ReadFile(path_);
    if (!data.ok()) {
      // Keep serving the last good token if a rotation is momentarily unreadable.
      if (read_once_) return token_;
      return data.status().WithContext("bearer token file");
    }
    std::string tok = *data;
    while (!tok.empty() && (tok.back() == '\n' || tok.back() == '\r' || tok.back() == ' ')) tok.pop_back();
    token_ = std::move(tok);
    read_at_ = now;
    read_once_ = true;
  }
  return token_;
}

namespace {

StatusOr<ClusterConfig> FromRoot(const YAML::Node& root, const std::string& base_dir, const std::string& context,
                                 const Clock& clock);

// Fields of clusters/users that name files, resolved against the kubeconfig that has them.
constexpr const char* kFileFields[] = {"certificate-authority", "client-certificate", "client-key", "tokenFile"};

}  // namespace

StatusOr<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                        const std::string& context, const Clock& clock) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidError(std::string("kubeconfig is not valid YAML: ") + e.what());
  }
  return FromRoot(root, base_dir, context, clock);
}

std::vector<std::string> SplitKubeconfigList(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t colon = value.find(':', start);
    std::string p = value.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!p.empty()) out.push_back(std::move(p));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

StatusOr<ClusterConfig> LoadKubeconfigs(const std::vector<std::string>& paths, const std::string& context,
                                        const Clock& clock) {
  // kubectl's merge: files in order; the first file to define a cluster, user or context of
  // a given name wins, and so does the first current-context. Files that do not exist are
  // skipped; one that exists but cannot be parsed is an error.
  YAML::Node merged(YAML::NodeType::Map);
  std::map<std::string, std::set<std::string>> seen;  // list -> names taken
  bool any = false;
  for (const auto& path : paths) {
    std::ifstream probe(path);
    if (!probe) continue;
    auto text = ReadFile(path);
    if (!text.ok()) return text.status().WithContext("kubeconfig");
    any = true;
    std::string dir;
    if (auto slash = path.rfind('/'); slash != std::string::npos) dir = path.substr(0, slash);
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return InvalidError(path + ": kubeconfig is not valid YAML: " + e.what());
    }
    if (!root || root.IsNull()) continue;  // an empty file
    try {
      if (!merged["current-context"] && root["current-context"] &&
          !root["current-context"].as<std::string>().empty()) {
        merged["current-context"] = root["current-context"].as<std::string>();
      }
      for (const auto& [list, field] : {std::pair{"clusters", "cluster"}, {"users", "user"}, {"contexts", "context"}}) {
        if (!root[list] || !root[list].IsSequence()) continue;
        for (const auto& item : root[list]) {
          if (!item["name"] || !item[field] || !item[field].IsMap()) continue;
          const std::string name = item["name"].as<std::string>();
          if (!seen[list].insert(name).second) continue;  // an earlier file has it
          YAML::Node copy = YAML::Clone(item);
          for (const char* f : kFileFields) {
            if (copy[field][f]) copy[field][f] = Resolve(copy[field][f].as<std::string>(), dir);
          }
          merged[list].push_back(copy);
        }
      }
    } catch (const YAML::Exception& e) {
      return InvalidError(path + ": kubeconfig has an unexpected shape: " + e.what());
    }
  }
  if (!any) return NotFoundError("kubeconfig: none of the files exists");
  return FromRoot(merged, "", context, clock);
}

namespace {

StatusOr<ClusterConfig> FromRoot(const YAML::Node& root, const std::string& base_dir, const std::string& context,
                                 const Clock& clock) {
  try {
    std::string ctx_name = context;
    if (ctx_name.empty() && root["current-context"]) ctx_name = root["current-context"].as<std::string>();
    if (ctx_name.empty()) return InvalidError("kubeconfig has no current-context and none was given");
    auto found_ctx = FindNamed(root["contexts"], ctx_name, "context");
    if (!found_ctx) return InvalidError("kubeconfig has no context named \"" + ctx_name + "\"");
    const YAML::Node& ctx = *found_ctx;
    if (!ctx["cluster"]) return InvalidError("context \"" + ctx_name + "\" names no cluster");
    const std::string cluster_name = ctx["cluster"].as<std::string>();
    auto found_cluster = FindNamed(root["clusters"], cluster_name, "cluster");
    if (!found_cluster) return InvalidError("kubeconfig has no cluster named \"" + cluster_name + "\"");
    const YAML::Node& cluster = *found_cluster;
    if (!cluster["server"]) return InvalidError("cluster \"" + cluster_name + "\" has no server");

    ClusterConfig cfg;
    cfg.server = cluster["server"].as<std::string>();
    while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
    auto ca = DataOrFile(cluster, "certificate-authority", base_dir);
    if (!ca.ok()) return ca.status().WithContext("cluster \"" + cluster_name + "\"");
    cfg.tls.ca_pem = *ca;
    if (cluster["insecure-skip-tls-verify"]) cfg.tls.insecure_skip_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    if (ctx["namespace"]) cfg.default_namespace = ctx["namespace"].as<std::string>();

    if (ctx["user"]) {
      const std::string user_name = ctx["user"].as<std::string>();
      auto found_user = FindNamed(root["users"], user_name, "user");
      if (!found_user) return InvalidError("kubeconfig has no user named \"" + user_name + "\"");
      const YAML::Node& user = *found_user;
      auto cert = DataOrFile(user, "client-certificate", base_dir);
      if (!cert.ok()) return cert.status().WithContext("user \"" + user_name + "\"");
      auto key = DataOrFile(user, "client-key", base_dir);
      if (!key.ok()) return key.status().WithContext("user \"" + user_name + "\"");
      if (cert->empty() != key->empty()) {
        return InvalidError("user \"" + user_name + "\" has a client certificate without a key or a key without a certificate");
      }
      cfg.tls.client_cert_pem = *cert;
      cfg.tls.client_key_pem = *key;
      if (user["token"]) {
        cfg.token = TokenSource::Static(user["token"].as<std::string>());
      } else if (user["tokenFile"]) {
        cfg.token = TokenSource::File(Resolve(user["tokenFile"].as<std::string>(), base_dir), clock);
      }
      if (user["exec"] || user["auth-provider"]) {
        return InvalidError("user \"" + user_name + "\" uses exec/auth-provider credentials, which Ferry does not support");
      }
    }
    return cfg;
  } catch (const YAML::Exception& e) {
    return InvalidError(std::string("kubeconfig has an unexpected shape: ") + e.what());
  }
}

}  // namespace

StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context, const Clock& clock) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status().WithContext("kubeconfig");
  std::string dir;
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = path.substr(0, slash);
  auto cfg = ParseKubeconfig(*text, dir, context, clock);
  if (!cfg.ok()) return cfg.status().WithContext(path);
  return cfg;
}

StatusOr<ClusterConfig> LoadInCluster(const std::string& sa_dir, const Clock& clock) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return FailedPreconditionError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  ClusterConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  cfg.server = "https://" + h + ":" + port;
  auto ca = ReadFile(sa_dir + "/ca.crt");
  if (!ca.ok()) return ca.status().WithContext("in-cluster CA");
  cfg.tls.ca_pem = *ca;
  cfg.token = TokenSource::File(sa_dir + "/token", clock);
  auto first = cfg.token->Token();
  if (!first.ok()) return first.status();
  if (auto ns = ReadFile(sa_dir + "/namespace"); ns.ok() && !ns->empty()) cfg.default_namespace = *ns;
  return cfg;
}

StatusOr<ClusterConfig> LoadDefaultConfig(const Clock& clock) {
  if (const char* kc = std::getenv("KUBECONFIG"); kc != nullptr && *kc != '\0') {
    const auto paths = SplitKubeconfigList(kc);
    if (paths.size() == 1) return LoadKubeconfig(paths[0], "", clock);
    return LoadKubeconfigs(paths, "", clock);
  }
  if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) return LoadInCluster("/var/run/secrets/kubernetes.io/serviceaccount", clock);
  const char* home = std::getenv("HOME");
  if (home == nullptr) return FailedPreconditionError("no KUBECONFIG, not in a cluster, and no HOME");
  return LoadKubeconfig(std::string(home) + "/.kube/config", "", clock);
}

}  // namespace ferry::kube
