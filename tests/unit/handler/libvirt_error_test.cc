#include "libvirt/libvirt_error.h"

#include <gtest/gtest.h>
#include <libvirt/virterror.h>

#include <string>

namespace ferry::libvirt {
namespace {

struct Case {
  std::string name;
  int code;
  int domain;
  StatusCode want;
  bool lost;
};

class ErrorMappingTest : public ::testing::TestWithParam<Case> {};

TEST_P(ErrorMappingTest, Maps) {
  const Case& c = GetParam();
  LibvirtError e{c.code, c.domain, "boom"};
  EXPECT_EQ(IsConnectionLost(e), c.lost);
  const Status st = ToStatus(e, "virDoThing");
  EXPECT_EQ(st.code(), c.want);
  EXPECT_NE(st.message().find("virDoThing: boom"), std::string::npos) << st;
  EXPECT_NE(st.message().find("libvirt error " + std::to_string(c.code)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, ErrorMappingTest,
    ::testing::Values(
        Case{"no_domain", VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, StatusCode::kNotFound, false},
        Case{"exists", VIR_ERR_DOM_EXIST, VIR_FROM_QEMU, StatusCode::kAlreadyExists, false},
        Case{"invalid_op", VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU,
             StatusCode::kFailedPrecondition, false},
        Case{"unsupported", VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_QEMU,
             StatusCode::kFailedPrecondition, false},
        Case{"unsafe", VIR_ERR_MIGRATE_UNSAFE, VIR_FROM_QEMU, StatusCode::kFailedPrecondition,
             false},
        Case{"aborted", VIR_ERR_OPERATION_ABORTED, VIR_FROM_QEMU, StatusCode::kCancelled, false},
        Case{"timeout", VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, StatusCode::kDeadlineExceeded,
             false},
        Case{"bad_arg", VIR_ERR_INVALID_ARG, VIR_FROM_NONE, StatusCode::kInvalid, false},
        Case{"xml", VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, StatusCode::kInvalid, false},
        Case{"denied", VIR_ERR_ACCESS_DENIED, VIR_FROM_ACCESS, StatusCode::kPermissionDenied,
             false},
        Case{"auth", VIR_ERR_AUTH_FAILED, VIR_FROM_REMOTE, StatusCode::kUnauthenticated, false},
        Case{"op_failed", VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU, StatusCode::kUnknown, false},
        Case{"internal_qemu", VIR_ERR_INTERNAL_ERROR, VIR_FROM_QEMU, StatusCode::kInternal, false},
        Case{"no_connect", VIR_ERR_NO_CONNECT, VIR_FROM_REMOTE, StatusCode::kUnavailable, true},
        Case{"invalid_conn", VIR_ERR_INVALID_CONN, VIR_FROM_NONE, StatusCode::kUnavailable, true},
        Case{"rpc", VIR_ERR_RPC, VIR_FROM_RPC, StatusCode::kUnavailable, true},
        Case{"socket_closed", VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, StatusCode::kUnavailable, true},
        Case{"io_error_remote", VIR_ERR_SYSTEM_ERROR, VIR_FROM_REMOTE, StatusCode::kUnavailable,
             true},
        Case{"io_error_local", VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, StatusCode::kUnavailable,
             false}),
    [](const auto& i) { return i.param.name; });

TEST(CaptureLastError, NoErrorRecordedIsStillAnError) {
  (void)CaptureLastError();  // initializes libvirt and clears whatever was recorded
  const LibvirtError e = CaptureLastError();
  EXPECT_EQ(e.code, 0);
  EXPECT_FALSE(e.message.empty());
  EXPECT_FALSE(ToStatus(e, "x").ok());
}

TEST(CaptureLastError, CapturesTheFailingCallsError) {
  // A real libvirt failure: the test driver does not know this domain.
  virConnectPtr c = virConnectOpen("test:///default");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(virDomainLookupByName(c, "no-such-domain"), nullptr);
  const Status st = LastErrorStatus("virDomainLookupByName");
  virConnectClose(c);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("Domain not found"), std::string::npos) << st;
}

}  // namespace
}  // namespace ferry::libvirt
