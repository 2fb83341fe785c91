// LibvirtConnection against libvirt's own test:///default driver (no daemon): connections are
// handed out as counted references, so a reconnect (or the owner going away) on another
// thread never closes the connection a caller is using.
#include "libvirt/libvirt_connection.h"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ferry::libvirt {
namespace {

TEST(LibvirtConnection, ACallerKeepsItsConnectionWhenTheOwnerCloses) {
  ConnectPtr held;
  {
    LibvirtConnection c("test:///default");
    auto got = c.Get();
    ASSERT_TRUE(got.ok()) << got.status();
    held = std::move(*got);
  }                           // the owner closed its reference
  unsigned long version = 0;  // NOLINT(runtime/int): libvirt's type
  EXPECT_EQ(virConnectGetLibVersion(held.get(), &version), 0);
  EXPECT_GT(version, 0u);
  EXPECT_EQ(virConnectIsAlive(held.get()), 1);
}

TEST(LibvirtConnection, DomainsAndConnectionsFromManyThreads) {
  LibvirtConnection c("test:///default");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto d = c.Domain("test");
        if (!d.ok() || virDomainGetID(d->get()) == static_cast<unsigned>(-1)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(c.Alive());
  EXPECT_EQ(c.reconnects(), 0);
}

TEST(LibvirtConnection, ErrorsKeepLibvirtsMessage) {
  LibvirtConnection c("test:///default");
  auto d = c.Domain("no-such-domain");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("no-such-domain"), std::string::npos) << d.status();
  // A failed call on a domain: the message survives (the domain's connection is read after
  // the error is captured; every libvirt call resets the thread's last error).
  auto ok = c.Domain("test");
  ASSERT_TRUE(ok.ok());
  ASSERT_LT(virDomainMigrateStartPostCopy(ok->get(), 0), 0);
  const Status st = c.Failed("virDomainMigrateStartPostCopy", ok->get());
  EXPECT_NE(st.message().find("virDomainMigrateStartPostCopy"), std::string::npos);
  EXPECT_EQ(st.message().find("none recorded"), std::string::npos) << st;
}

}  // namespace
}  // namespace ferry::libvirt
