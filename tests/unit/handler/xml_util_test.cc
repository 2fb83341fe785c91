#include "xml/xml_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace ferry::xml {
namespace {

struct NumberCase {
  std::string text;
  bool ok;
  std::uint64_t value;
};

TEST(XmlNumber, DigitsOnly) {
  for (const NumberCase& c :
       {NumberCase{"0", true, 0}, NumberCase{"1024", true, 1024},
        NumberCase{"18446744073709551615", true, UINT64_MAX},
        NumberCase{"18446744073709551616", false, 0},  // 2^64
        NumberCase{"-1", false, 0},                    // stoull would read 2^64 - 1
        NumberCase{"+1", false, 0}, NumberCase{" 1", false, 0}, NumberCase{"1 ", false, 0},
        NumberCase{"1k", false, 0}, NumberCase{"0x10", false, 0}, NumberCase{"", false, 0}}) {
    auto v = Number(c.text, "count");
    ASSERT_EQ(v.ok(), c.ok) << "'" << c.text << "'";
    if (c.ok) {
      EXPECT_EQ(*v, c.value) << c.text;
    } else {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalid);
      EXPECT_NE(v.status().message().find("count"), std::string::npos) << v.status();
    }
  }
}

struct ScaledCase {
  std::string number, unit;
  bool ok;
  std::uint64_t bytes;
};

TEST(XmlScaledBytes, UnitsDefaultAndRange) {
  for (const ScaledCase& c :
       {ScaledCase{"1024", "", true, 1024ULL << 10},  // default KiB
        ScaledCase{"2", "MiB", true, 2ULL << 20}, ScaledCase{"2", "M", true, 2ULL << 20},
        ScaledCase{"3", "GiB", true, 3ULL << 30}, ScaledCase{"1", "TiB", true, 1ULL << 40},
        ScaledCase{"5", "MB", true, 5000000}, ScaledCase{"7", "bytes", true, 7},
        ScaledCase{"16777215", "TiB", true, 16777215ULL << 40},
        ScaledCase{"16777216", "TiB", false, 0},  // 2^64 bytes
        ScaledCase{"-1", "KiB", false, 0}, ScaledCase{"1", "parsec", false, 0},
        ScaledCase{"lots", "KiB", false, 0}}) {
    auto v = ScaledBytes(c.number, c.unit, "KiB");
    ASSERT_EQ(v.ok(), c.ok) << c.number << " " << c.unit;
    if (c.ok) {
      EXPECT_EQ(*v, c.bytes) << c.number << " " << c.unit;
    } else {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalid);
      EXPECT_FALSE(v.status().message().empty());
    }
  }
}

TEST(XmlParse, MalformedSaysWhatAndWhy) {
  for (const char* text : {"", "not xml", "<a><b></a>", "<!DOCTYPE x SYSTEM 'http://x/'><a"}) {
    auto doc = Parse(text, "pool XML");
    ASSERT_FALSE(doc.ok()) << text;
    EXPECT_EQ(doc.status().message().rfind("pool XML: malformed XML: ", 0), 0u) << doc.status();
  }
  auto doc = Parse("<pool><target><path> /var/lib/ferry </path></target></pool>", "pool XML");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(Text(Path(xmlDocGetRootElement(doc->get()), "target/path")), "/var/lib/ferry");
  EXPECT_EQ(Path(xmlDocGetRootElement(doc->get()), "target/missing"), nullptr);
}

}  // namespace
}  // namespace ferry::xml
