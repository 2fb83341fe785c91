#include "kube/config.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace ferry::kube {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ferry-config-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(path_ + "/" + name) << text; }

 private:
  std::string path_;
};

// "CA PEM\n" and "CERT\n" / "KEY\n" base64-encoded.
constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EgUEVNCg==
- name: files
  cluster:
    server: https://10.0.0.1
    certificate-authority: ca.crt
contexts:
- name: admin
  context: {cluster: local, user: admin, namespace: ferry-system}
- name: token
  context: {cluster: local, user: tok}
- name: file-user
  context: {cluster: files, user: fileuser}
- name: broken
  context: {cluster: nowhere, user: admin}
- name: exec
  context: {cluster: local, user: execuser}
users:
- name: admin
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
- name: tok
  user: {token: abc123}
- name: fileuser
  user: {client-certificate: certs/c.crt, client-key: certs/c.key, tokenFile: tok}
- name: execuser
  user:
    exec: {command: aws}
)";

TEST(KubeconfigTest, CurrentContextWithInlineData) {
  auto cfg = ParseKubeconfig(kKubeconfig, "/nonexistent");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg->tls.ca_pem, "CA PEM\n");
  EXPECT_EQ(cfg->tls.client_cert_pem, "CERT\n");
  EXPECT_EQ(cfg->tls.client_key_pem, "KEY\n");
  EXPECT_EQ(cfg->default_namespace, "ferry-system");
  EXPECT_EQ(cfg->token, nullptr);
}

TEST(KubeconfigTest, NamedContextWithToken) {
  auto cfg = ParseKubeconfig(kKubeconfig, "", "token");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_NE(cfg->token, nullptr);
  EXPECT_EQ(*cfg->token->Token(), "abc123");
  EXPECT_EQ(cfg->default_namespace, "default");
}

TEST(KubeconfigTest, FilesResolveRelativeToKubeconfig) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/certs");
  dir.Write("ca.crt", "FILE CA");
  dir.Write("certs/c.crt", "FILE CERT");
  dir.Write("certs/c.key", "FILE KEY");
  dir.Write("tok", "file-token\n");
  dir.Write("config", kKubeconfig);
  auto cfg = LoadKubeconfig(dir.path() + "/config", "file-user");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://10.0.0.1");
  EXPECT_EQ(cfg->tls.ca_pem, "FILE CA");
  EXPECT_EQ(cfg->tls.client_cert_pem, "FILE CERT");
  EXPECT_EQ(cfg->tls.client_key_pem, "FILE KEY");
  ASSERT_NE(cfg->token, nullptr);
  EXPECT_EQ(*cfg->token->Token(), "file-token");
}

TEST(KubeconfigTest, Errors) {
  struct Case {
    std::string name, text, context, want;
  };
  const Case cases[] = {
      {"not yaml", "a: [", "", "not valid YAML"},
      {"no current context", "apiVersion: v1\nclusters: []\n", "", "no current-context"},
      {"missing context", kKubeconfig, "nope", "no context named \"nope\""},
      {"missing cluster", kKubeconfig, "broken", "no cluster named \"nowhere\""},
      {"exec credentials", kKubeconfig, "exec", "exec/auth-provider"},
      {"missing file", kKubeconfig, "file-user", "cannot read"},
      {"bad base64", "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                     "clusters: [{name: k, cluster: {server: https://x, certificate-authority-data: '!!'}}]\n",
       "", "not valid base64"},
  };
  for (const auto& c : cases) {
    auto cfg = ParseKubeconfig(c.text, "/nonexistent", c.context);
    ASSERT_FALSE(cfg.ok()) << c.name;
    EXPECT_NE(cfg.status().message().find(c.want), std::string::npos) << c.name << ": " << cfg.status();
  }
  EXPECT_EQ(LoadKubeconfig("/nonexistent/kubeconfig").status().code(), StatusCode::kNotFound);
}

TEST(TokenSourceTest, FileTokenIsReReadAfterRefreshInterval) {
  TempDir dir;
  dir.Write("token", "one\n");
  FakeClock clock;
  auto src = TokenSource::File(dir.path() + "/token", clock, std::chrono::seconds(60));
  EXPECT_EQ(*src->Token(), "one");
  dir.Write("token", "two\n");  // rotated by the kubelet
  clock.Advance(std::chrono::seconds(59));
  EXPECT_EQ(*src->Token(), "one");  // cached within the refresh interval
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*src->Token(), "two");
  std::filesystem::remove(dir.path() + "/token");  // momentarily missing during rotation
  clock.Advance(std::chrono::seconds(60));
  EXPECT_EQ(*src->Token(), "two");  // last good token kept
}

TEST(TokenSourceTest, MissingFileAtStartIsAnError) {
  FakeClock clock;
  auto src = TokenSource::File("/nonexistent/token", clock);
  EXPECT_EQ(src->Token().status().code(), StatusCode::kNotFound);
}

TEST(InClusterTest, ReadsServiceAccountFiles) {
  TempDir dir;
  dir.Write("ca.crt", "SA CA");
  dir.Write("token", "sa-token");
  dir.Write("namespace", "ferry-system");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto cfg = LoadInCluster(dir.path());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
  EXPECT_EQ(cfg->tls.ca_pem, "SA CA");
  EXPECT_EQ(*cfg->token->Token(), "sa-token");
  EXPECT_EQ(cfg->default_namespace, "ferry-system");
  EXPECT_EQ(LoadInCluster(dir.path()).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ferry::kube

namespace ferry::kube {
namespace {

// $KUBECONFIG with several files, merged as kubectl does.
TEST(KubeconfigMergeTest, FirstDefinitionWinsAndPathsResolvePerFile) {
  TempDir a, b;
  std::filesystem::create_directories(b.path() + "/pki");
  b.Write("pki/ca.crt", "B's CA");
  a.Write("config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: shared
  cluster: {server: "https://first:6443", certificate-authority-data: Q0EgUEVNCg==}
users:
- name: me
  user: {token: first-token}
contexts:
- name: dev
  context: {cluster: prod, user: me}
)");
  b.Write("config", R"(apiVersion: v1
kind: Config
current-context: other
clusters:
- name: shared
  cluster: {server: "https://second:6443"}
- name: prod
  cluster: {server: "https://prod:6443", certificate-authority: pki/ca.crt}
users:
- name: me
  user: {token: second-token}
contexts:
- name: dev
  context: {cluster: shared, user: me}
- name: other
  context: {cluster: shared, user: me, namespace: x}
)");
  const std::string list = a.path() + "/config::/nonexistent/config:" + b.path() + "/config";
  const auto paths = SplitKubeconfigList(list);
  ASSERT_EQ(paths.size(), 3u);
  // current-context "dev" from the first file; context dev from the first file (cluster prod
  // only the second file has, its CA path relative to the second file); user from the first.
  auto cfg = LoadKubeconfigs(paths);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://prod:6443");
  EXPECT_EQ(cfg->tls.ca_pem, "B's CA");
  ASSERT_NE(cfg->token, nullptr);
  EXPECT_EQ(*cfg->token->Token(), "first-token");
  // A context only the second file has; cluster "shared" as the first file defines it.
  cfg = LoadKubeconfigs(paths, "other");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://first:6443");
  EXPECT_EQ(cfg->tls.ca_pem, "CA PEM\n");
  EXPECT_EQ(cfg->default_namespace, "x");
  // Through the environment, as kubectl reads it.
  ::setenv("KUBECONFIG", list.c_str(), 1);
  cfg = LoadDefaultConfig();
  ::unsetenv("KUBECONFIG");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server, "https://prod:6443");
  EXPECT_EQ(LoadKubeconfigs({"/nonexistent/a", "/nonexistent/b"}).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ferry::kube
