// Which certificates a node needs for TLS migrations, and --tls auto/on/off against them.
#include "migration/tls.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ferry::migration {
namespace {

class TlsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-tls-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Put(const std::vector<std::string>& files) {
    for (const auto& f : files) std::ofstream(dir_ + "/" + f) << "-----BEGIN CERTIFICATE-----\n";
  }
  std::string dir_;
};

TEST_F(TlsDir, EmptyDirNamesEveryMissingFile) {
  const Status st = CheckQemuTlsDir(dir_, TlsRole::kSource);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  for (const char* f : {"ca-cert.pem", "client-cert.pem", "client-key.pem"}) {
    EXPECT_NE(st.message().find(f), std::string::npos) << st;
  }
  EXPECT_NE(st.message().find("as the source"), std::string::npos) << st;
}

TEST_F(TlsDir, RolesNeedTheirOwnFiles) {
  Put({"ca-cert.pem", "client-cert.pem", "client-key.pem"});
  EXPECT_TRUE(CheckQemuTlsDir(dir_, TlsRole::kSource).ok());
  const Status target = CheckQemuTlsDir(dir_, TlsRole::kTarget);
  EXPECT_FALSE(target.ok());
  EXPECT_NE(target.message().find("server-cert.pem, server-key.pem"), std::string::npos) << target;
}

struct ResolveCase {
  TlsSetting setting;
  bool certificates;
  bool ok;
  bool tls;
};

TEST_F(TlsDir, Resolve) {
  for (const ResolveCase& c : {ResolveCase{TlsSetting::kAuto, false, true, false},
                               ResolveCase{TlsSetting::kAuto, true, true, true},
                               ResolveCase{TlsSetting::kOff, true, true, false},
                               ResolveCase{TlsSetting::kOn, true, true, true},
                               ResolveCase{TlsSetting::kOn, false, false, false}}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    if (c.certificates) Put(QemuTlsFiles(TlsRole::kSource));
    auto r = ResolveTls(c.setting, dir_, TlsRole::kSource);
    ASSERT_EQ(r.ok(), c.ok) << static_cast<int>(c.setting) << " " << c.certificates;
    if (r.ok()) {
      EXPECT_EQ(*r, c.tls);
    } else {
      EXPECT_NE(r.status().message().find("TLS migration refused"), std::string::npos);
    }
  }
}

TEST(ExplainTlsFailure, NamesTheCertificatesForTlsErrorsOnly) {
  EXPECT_NE(ExplainTlsFailure("virDomainMigrateToURI3: internal error: unable to execute QEMU "
                              "command 'object-add': Unable to access credentials "
                              "/etc/pki/qemu/ca-cert.pem: No such file or directory")
                .find("certificates are missing or not valid"),
            std::string::npos);
  EXPECT_EQ(ExplainTlsFailure("operation failed: Lost connection to destination host"), "");
}

}  // namespace
}  // namespace ferry::migration
