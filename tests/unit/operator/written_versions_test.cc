// WrittenVersions: a cached copy our own write replaced is stale until the cache moves on; a
// write that changed nothing (same resourceVersion, no event) records nothing.
#include "cluster/written_versions.h"

#include <gtest/gtest.h>

namespace ferry::op {
namespace {

kube::Json At(const std::string& rv) { return {{"metadata", {{"resourceVersion", rv}}}}; }

TEST(WrittenVersions, StaleUntilTheCacheMovesOn) {
  WrittenVersions w;
  EXPECT_FALSE(w.Stale("ns/a", At("1")));
  w.WroteOver("ns/a", At("1"), At("2"));  // metadata write
  w.WroteOver("ns/a", At("2"), At("3"));  // status write
  EXPECT_TRUE(w.Stale("ns/a", At("1")));
  EXPECT_TRUE(w.Stale("ns/a", At("2")));
  EXPECT_FALSE(w.Stale("ns/b", At("1"))) << "per key";
  EXPECT_FALSE(w.Stale("ns/a", At("3"))) << "our write arrived";
  EXPECT_FALSE(w.Stale("ns/a", At("1"))) << "the record went with it";
}

TEST(WrittenVersions, ANoOpWriteRecordsNothing) {
  WrittenVersions w;
  w.WroteOver("ns/a", At("5"), At("5"));  // the server changed nothing: no event will come
  EXPECT_FALSE(w.Stale("ns/a", At("5")));
}

TEST(WrittenVersions, ForgetAndEmptyVersions) {
  WrittenVersions w;
  w.WroteOver("ns/a", At("1"), At("2"));
  w.Forget("ns/a");
  EXPECT_FALSE(w.Stale("ns/a", At("1")));
  w.WroteOver("ns/a", kube::Json::object(), At("2"));
  EXPECT_FALSE(w.Stale("ns/a", kube::Json::object()));
}

}  // namespace
}  // namespace ferry::op
