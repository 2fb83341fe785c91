#include "kube/watch_decoder.h"

#include <gtest/gtest.h>

namespace ferry::kube {
namespace {

// A realistic stream: several frames, strings with escaped quotes, braces and newlines
// inside strings, unicode, a bookmark and an error event.
const std::string kStream =
    R"({"type":"ADDED","object":{"kind":"VirtualMachine","metadata":{"name":"vm-a","resourceVersion":"10"},"spec":{"cmdline":"console=ttyS0 \"quoted\" {not a brace}","tags":["a","b}"]}}})"
    "\n"
    R"({"type":"MODIFIED","object":{"kind":"VirtualMachine","metadata":{"name":"vm-a","resourceVersion":"11"},"status":{"message":"back\\slash \\\" and \u00e9 \n"}}})"
    "\n"
    R"({"type":"BOOKMARK","object":{"kind":"VirtualMachine","metadata":{"resourceVersion":"12"}}})"
    "\n"
    R"({"type":"DELETED","object":{"kind":"VirtualMachine","metadata":{"name":"vm-a","resourceVersion":"13"}}})"
    "\n"
    R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (13)","reason":"Expired","code":410}})json"
    "\n";

void ExpectFullStream(const std::vector<WatchEvent>& evs, const std::string& label) {
  ASSERT_EQ(evs.size(), 5u) << label;
  EXPECT_EQ(evs[0].type, WatchEvent::Type::kAdded) << label;
  EXPECT_EQ(evs[0].object["spec"]["cmdline"], "console=ttyS0 \"quoted\" {not a brace}") << label;
  EXPECT_EQ(evs[0].object["spec"]["tags"][1], "b}") << label;
  EXPECT_EQ(evs[1].type, WatchEvent::Type::kModified) << label;
  EXPECT_EQ(evs[1].object["status"]["message"], "back\\slash \\\" and \xc3\xa9 \n") << label;
  EXPECT_EQ(evs[2].type, WatchEvent::Type::kBookmark) << label;
  EXPECT_EQ(evs[2].object["metadata"]["resourceVersion"], "12") << label;
  EXPECT_EQ(evs[3].type, WatchEvent::Type::kDeleted) << label;
  EXPECT_EQ(evs[4].type, WatchEvent::Type::kError) << label;
  EXPECT_EQ(evs[4].object["code"], 410) << label;
}

TEST(WatchDecoderTest, WholeStreamInOneChunk) {
  WatchDecoder d;
  std::vector<WatchEvent> evs;
  ASSERT_TRUE(d.Feed(kStream, &evs).ok());
  ExpectFullStream(evs, "one chunk");
  EXPECT_FALSE(d.HasPartialFrame());
}

TEST(WatchDecoderTest, CutAtEveryBytePosition) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    WatchDecoder d;
    std::vector<WatchEvent> evs;
    ASSERT_TRUE(d.Feed(std::string_view(kStream).substr(0, cut), &evs).ok()) << cut;
    ASSERT_TRUE(d.Feed(std::string_view(kStream).substr(cut), &evs).ok()) << cut;
    ExpectFullStream(evs, "cut at " + std::to_string(cut));
    EXPECT_FALSE(d.HasPartialFrame());
  }
}

TEST(WatchDecoderTest, CutIntoThreeAtEveryPairOfNearbyPositions) {
  // Every pair of cut points up to 8 bytes apart, anywhere in the whole five-frame stream:
  // two boundaries inside one escape, string, number or frame gap. (Every pair over the
  // whole stream is 280,000 decodes of five frames: minutes under the sanitizers.)
  const size_t span = kStream.size();
  for (size_t a = 0; a <= span; ++a) {
    for (size_t b = a; b <= std::min(span, a + 8); ++b) {
      WatchDecoder d;
      std::vector<WatchEvent> evs;
      std::string_view s(kStream);
      ASSERT_TRUE(d.Feed(s.substr(0, a), &evs).ok());
      ASSERT_TRUE(d.Feed(s.substr(a, b - a), &evs).ok());
      ASSERT_TRUE(d.Feed(s.substr(b), &evs).ok());
      ExpectFullStream(evs, "cuts " + std::to_string(a) + "," + std::to_string(b));
    }
  }
}

TEST(WatchDecoderTest, ByteAtATime) {
  WatchDecoder d;
  std::vector<WatchEvent> evs;
  for (char c : kStream) {
    ASSERT_TRUE(d.Feed(std::string_view(&c, 1), &evs).ok());
  }
  ExpectFullStream(evs, "byte at a time");
}

TEST(WatchDecoderTest, PartialFrameIsReported) {
  WatchDecoder d;
  std::vector<WatchEvent> evs;
  ASSERT_TRUE(d.Feed(R"({"type":"ADDED","object":{"a":)", &evs).ok());
  EXPECT_TRUE(evs.empty());
  EXPECT_TRUE(d.HasPartialFrame());
}

TEST(WatchDecoderTest, MalformedInput) {
  struct Case {
    std::string name;
    std::string input;
    std::string error;
  };
  const Case cases[] = {
      {"garbage between frames", "x{}", "unexpected byte 'x'"},
      {"unknown type", R"({"type":"SHRUG","object":{}})", "unknown type \"SHRUG\""},
      {"no type", R"({"object":{}})", "no \"type\""},
      {"object not an object", R"({"type":"ADDED","object":3})", "no \"object\""},
      {"invalid json inside", R"({"type":"ADDED","object":{"a":tru}})", "not valid JSON"},
  };
  for (const auto& c : cases) {
    WatchDecoder d;
    std::vector<WatchEvent> evs;
    Status st = d.Feed(c.input, &evs);
    EXPECT_EQ(st.code(), StatusCode::kInvalid) << c.name;
    EXPECT_NE(st.message().find(c.error), std::string::npos) << c.name << ": " << st.message();
    // Poisoned: later input keeps failing.
    EXPECT_FALSE(d.Feed(R"({"type":"ADDED","object":{}})", &evs).ok()) << c.name;
  }
}

TEST(ParseWatchFrameTest, Types) {
  const std::pair<const char*, WatchEvent::Type> cases[] = {
      {"ADDED", WatchEvent::Type::kAdded},       {"MODIFIED", WatchEvent::Type::kModified},
      {"DELETED", WatchEvent::Type::kDeleted},   {"BOOKMARK", WatchEvent::Type::kBookmark},
      {"ERROR", WatchEvent::Type::kError},
  };
  for (const auto& [name, type] : cases) {
    auto ev = ParseWatchFrame(Json{{"type", name}, {"object", {{"k", 1}}}});
    ASSERT_TRUE(ev.ok()) << name;
    EXPECT_EQ(ev->type, type);
    EXPECT_STREQ(WatchEventTypeName(ev->type), name);
    EXPECT_EQ(ev->object["k"], 1);
  }
}

}  // namespace
}  // namespace ferry::kube
