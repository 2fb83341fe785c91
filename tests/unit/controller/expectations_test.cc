#include "controller/expectations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace ferry::controller {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Each case runs a script of operations on key "ns/vm" and checks SatisfiedExpectations after.
struct Op {
  const char* what;
  std::function<void(Expectations&, FakeClock&)> run;
  bool satisfied;
};

TEST(ExpectationsTest, Scripts) {
  const std::string k = "ns/vm";
  auto expect_creations = [&](int n) {
    return [=](Expectations& e, FakeClock&) { e.ExpectCreations(k, n); };
  };
  auto expect_deletions = [&](int n) {
    return [=](Expectations& e, FakeClock&) { e.ExpectDeletions(k, n); };
  };
  auto created = [&](Expectations& e, FakeClock&) { e.CreationObserved(k); };
  auto deleted = [&](Expectations& e, FakeClock&) { e.DeletionObserved(k); };
  auto advance = [](Clock::Duration d) {
    return [=](Expectations&, FakeClock& c) { c.Advance(d); };
  };

  const struct {
    const char* name;
    std::vector<Op> ops;
  } cases[] = {
      {"no record is satisfied", {{"nothing", [](Expectations&, FakeClock&) {}, true}}},
      {"creations pending until all observed",
       {{"expect 2", expect_creations(2), false},
        {"observe 1", created, false},
        {"observe 2", created, true}}},
      {"deletions pending until all observed",
       {{"expect 1 delete", expect_deletions(1), false}, {"observe delete", deleted, true}}},
      {"a creation does not satisfy a deletion",
       {{"expect 1 delete", expect_deletions(1), false}, {"observe create", created, false}}},
      {"expectation expires after the TTL",
       {{"expect 1", expect_creations(1), false},
        {"at ttl", advance(minutes(5)), false},
        {"past ttl", advance(seconds(1)), true}}},
      {"re-setting renews the timestamp",
       {{"expect 1", expect_creations(1), false},
        {"4 min", advance(minutes(4)), false},
        {"expect again", expect_creations(1), false},
        {"4 more min", advance(minutes(4)), false}}},
      {"extra observations never bank credit for a later expectation",
       {{"expect 1", expect_creations(1), false},
        {"observe", created, true},
        {"observe twice (relist)", created, true},
        {"raise by 1", [&](Expectations& e, FakeClock&) { e.RaiseExpectations(k, 1, 0); }, false}}},
      {"raise adds to pending",
       {{"expect 1", expect_creations(1), false},
        {"raise 1 add, 1 delete",
         [&](Expectations& e, FakeClock&) { e.RaiseExpectations(k, 1, 1); }, false},
        {"create", created, false},
        {"create", created, false},
        {"delete", deleted, true}}},
      {"delete drops the record",
       {{"expect 3", expect_creations(3), false},
        {"delete record", [&](Expectations& e, FakeClock&) { e.DeleteExpectations(k); }, true}}},
      {"negative counts are zero",
       {{"set -1/-1", [&](Expectations& e, FakeClock&) { e.SetExpectations(k, -1, -1); }, true}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    Expectations e(clock);
    for (const auto& op : c.ops) {
      op.run(e, clock);
      EXPECT_EQ(e.SatisfiedExpectations(k), op.satisfied) << "after " << op.what;
    }
  }
}

TEST(ExpectationsTest, KeysAreIndependentAndGetReportsPending) {
  FakeClock clock;
  Expectations e(clock, seconds(30));
  e.ExpectCreations("a", 2);
  e.CreationObserved("b");  // no record for b: ignored, does not create one
  EXPECT_FALSE(e.Get("b").has_value());
  EXPECT_TRUE(e.SatisfiedExpectations("b"));
  e.CreationObserved("a");
  auto pending = e.Get("a");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->adds, 1);
  EXPECT_EQ(pending->deletes, 0);
  clock.Advance(seconds(31));  // custom TTL
  EXPECT_TRUE(e.SatisfiedExpectations("a"));
}

TEST(ExpectationsTest, NonPositiveTtlUsesTheDefault) {
  FakeClock clock;
  Expectations e(clock, Clock::Duration::zero());
  e.ExpectCreations("a", 1);
  clock.Advance(Expectations::kDefaultTtl);
  EXPECT_FALSE(e.SatisfiedExpectations("a"));
  clock.Advance(seconds(1));
  EXPECT_TRUE(e.SatisfiedExpectations("a"));
}

}  // namespace
}  // namespace ferry::controller
