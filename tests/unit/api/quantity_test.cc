// Quantity semantics follow k8s.io/apimachinery resource.Quantity; the cases mirror the edge
// cases upstream's quantity_test.go exercises (parse, canonical String, rounding, limits).
#include "api/quantity.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ferry::api {
namespace {

using F = Quantity::Format;

Quantity MustParse(const std::string& s) {
  auto q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status();
  return q.ok() ? *q : Quantity();
}

Quantity Max() { return Quantity::FromInt(std::numeric_limits<int64_t>::max(), F::kBinarySI); }

struct ParseCase {
  std::string input;
  Quantity expect;
  F format;
};

class QuantityParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(QuantityParseTest, ParsesValueAndFormat) {
  const auto& c = GetParam();
  auto q = Quantity::Parse(c.input);
  ASSERT_TRUE(q.ok()) << c.input << ": " << q.status();
  EXPECT_EQ(q->Cmp(c.expect), 0) << c.input << " parsed as " << q->String() << ", want " << c.expect.String();
  EXPECT_EQ(q->format(), c.format) << c.input;
}

TEST_P(QuantityParseTest, NegativeIsTheNegation) {
  const auto& c = GetParam();
  auto q = Quantity::Parse("-" + c.input);
  ASSERT_TRUE(q.ok()) << "-" << c.input << ": " << q.status();
  auto want = Quantity().Sub(c.expect);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(q->Cmp(*want), 0) << "-" << c.input << " parsed as " << q->String();
  EXPECT_EQ(q->format(), c.format) << "-" << c.input;
}

TEST_P(QuantityParseTest, ExplicitPlusIsTheSame) {
  const auto& c = GetParam();
  auto q = Quantity::Parse("+" + c.input);
  ASSERT_TRUE(q.ok()) << "+" << c.input << ": " << q.status();
  EXPECT_EQ(q->Cmp(c.expect), 0) << "+" << c.input;
  EXPECT_EQ(q->format(), c.format);
}

TEST_P(QuantityParseTest, CanonicalStringParsesBackToTheSameValue) {
  const auto& c = GetParam();
  auto q = Quantity::Parse(c.input);
  ASSERT_TRUE(q.ok());
  auto again = Quantity::Parse(q->String());
  ASSERT_TRUE(again.ok()) << q->String();
  EXPECT_EQ(again->Cmp(*q), 0) << c.input << " -> " << q->String();
}

Quantity D(int64_t v, int e) { return Quantity::FromScaled(v, e); }

INSTANTIATE_TEST_SUITE_P(
    Upstream, QuantityParseTest,
    ::testing::Values(
        ParseCase{"0", D(0, 0), F::kDecimalSI}, ParseCase{"0n", D(0, 0), F::kDecimalSI},
        ParseCase{"0u", D(0, 0), F::kDecimalSI}, ParseCase{"0m", D(0, 0), F::kDecimalSI},
        ParseCase{"0Ki", D(0, 0), F::kBinarySI}, ParseCase{"0k", D(0, 0), F::kDecimalSI},
        ParseCase{"0Mi", D(0, 0), F::kBinarySI}, ParseCase{"0Ti", D(0, 0), F::kBinarySI},
        ParseCase{"1", D(1, 0), F::kDecimalSI},
        // binary suffixes
        ParseCase{"1Ki", D(1024, 0), F::kBinarySI}, ParseCase{"8Ki", D(8 * 1024, 0), F::kBinarySI},
        ParseCase{"7Mi", D(7LL << 20, 0), F::kBinarySI}, ParseCase{"6Gi", D(6LL << 30, 0), F::kBinarySI},
        ParseCase{"5Ti", D(5LL << 40, 0), F::kBinarySI}, ParseCase{"4Pi", D(4LL << 50, 0), F::kBinarySI},
        ParseCase{"3Ei", D(3LL << 60, 0), F::kBinarySI}, ParseCase{"100Ti", D(100LL << 40, 0), F::kBinarySI},
        // decimal suffixes
        ParseCase{"5n", D(5, -9), F::kDecimalSI}, ParseCase{"4u", D(4, -6), F::kDecimalSI},
        ParseCase{"3m", D(3, -3), F::kDecimalSI}, ParseCase{"9", D(9, 0), F::kDecimalSI},
        ParseCase{"8k", D(8, 3), F::kDecimalSI}, ParseCase{"50k", D(5, 4), F::kDecimalSI},
        ParseCase{"7M", D(7, 6), F::kDecimalSI}, ParseCase{"6G", D(6, 9), F::kDecimalSI},
        ParseCase{"5T", D(5, 12), F::kDecimalSI}, ParseCase{"300T", D(3, 14), F::kDecimalSI},
        ParseCase{"2P", D(2, 15), F::kDecimalSI}, ParseCase{"1E", D(1, 18), F::kDecimalSI},
        // decimal exponents
        ParseCase{"1E-3", D(1, -3), F::kDecimalExponent}, ParseCase{"1e3", D(1, 3), F::kDecimalExponent},
        ParseCase{"1E6", D(1, 6), F::kDecimalExponent}, ParseCase{"1e14", D(1, 14), F::kDecimalExponent},
        ParseCase{"1E18", D(1, 18), F::kDecimalExponent}, ParseCase{"100.035k", D(100035, 0), F::kDecimalSI},
        // things that look like floating point
        ParseCase{"0.001", D(1, -3), F::kDecimalSI}, ParseCase{"0.0005k", D(5, -1), F::kDecimalSI},
        ParseCase{"0.00050k", D(5, -1), F::kDecimalSI}, ParseCase{"0.50000", D(5, -1), F::kDecimalSI},
        ParseCase{"0.5e0", D(5, -1), F::kDecimalExponent}, ParseCase{"0.5e-2", D(5, -3), F::kDecimalExponent},
        ParseCase{"10.035M", D(10035, 3), F::kDecimalSI}, ParseCase{"1.2e3", D(12, 2), F::kDecimalExponent},
        ParseCase{"1.3E+6", D(13, 5), F::kDecimalExponent}, ParseCase{"1.40e9", D(14, 8), F::kDecimalExponent},
        ParseCase{"1.7E18", D(17, 17), F::kDecimalExponent}, ParseCase{"9.01", D(901, -2), F::kDecimalSI},
        ParseCase{"7.123456M", D(7123456, 0), F::kDecimalSI},
        ParseCase{"6.987654321G", D(6987654321, 0), F::kDecimalSI},
        ParseCase{"2.5P", D(25, 14), F::kDecimalSI}, ParseCase{"1.01E", D(101, 16), F::kDecimalSI},
        // rounding up to nano precision
        ParseCase{"3.001n", D(4, -9), F::kDecimalSI}, ParseCase{"1.1E-9", D(2, -9), F::kDecimalExponent},
        ParseCase{"0.0000000001", D(1, -9), F::kDecimalSI},
        ParseCase{"0.00000000050", D(1, -9), F::kDecimalSI}, ParseCase{"0.5e-9", D(1, -9), F::kDecimalExponent},
        ParseCase{"0.9n", D(1, -9), F::kDecimalSI}, ParseCase{"0.00000012345", D(124, -9), F::kDecimalSI},
        // binary values saturate at int64 max
        ParseCase{"9Ei", Max(), F::kBinarySI}, ParseCase{"9223372036854775807Ki", Max(), F::kBinarySI},
        ParseCase{"12E", D(12, 18), F::kDecimalSI},
        // fractional binary
        ParseCase{"100.035Ki", D(10243584, -2), F::kBinarySI}, ParseCase{"0.5Mi", D(524288, 0), F::kBinarySI},
        ParseCase{"0.05Gi", D(536870912, -1), F::kBinarySI}, ParseCase{"0.025Ti", D(274877906944, -1), F::kBinarySI},
        ParseCase{"1.5Gi", D(1610612736, 0), F::kBinarySI},
        // odd but accepted by Kubernetes
        ParseCase{"0.000000000001Ki", D(2, -9), F::kDecimalSI},  // rounds up, becomes decimal
        ParseCase{".001", D(1, -3), F::kDecimalSI}, ParseCase{".0001k", D(100, -3), F::kDecimalSI},
        ParseCase{"1.", D(1, 0), F::kDecimalSI}, ParseCase{"1.G", D(1, 9), F::kDecimalSI},
        ParseCase{".", D(0, 0), F::kDecimalSI}, ParseCase{"007", D(7, 0), F::kDecimalSI},
        ParseCase{"1e2147483647", Quantity::FromScaled(1, 2147483647), F::kDecimalExponent}));

TEST(QuantityParse, RejectsMalformedInputWithAReason) {
  for (const char* bad : {"", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
                          "1e4294967297", "1E-2147483648", " 1", "1 ", "1K", "1e", "1Kib", "--1", "1,5",
                          "4Gx", "0x10"}) {
    auto q = Quantity::Parse(bad);
    EXPECT_FALSE(q.ok()) << "\"" << bad << "\" parsed as " << (q.ok() ? q->String() : "");
    if (!q.ok()) {
      EXPECT_EQ(q.status().code(), StatusCode::kInvalid);
      EXPECT_NE(q.status().message().find("quantity"), std::string::npos) << q.status();
    }
  }
}

TEST(QuantityParse, RejectsMoreSignificantDigitsThanSupported) {
  EXPECT_FALSE(Quantity::Parse("123456789012345678901234567890123456789").ok());
  // Digits below nano precision only round; they do not count.
  EXPECT_TRUE(Quantity::Parse("1.0000000001234567890123456789012345678901").ok());
  EXPECT_EQ(MustParse("1.0000000001234567890123456789012345678901").String(), "1000000001n");
  EXPECT_EQ(MustParse("1.0000000000000000000000000000000000000001").String(), "1000000001n");
  EXPECT_EQ(MustParse("0.9999999999").String(), "1");
}

struct StringCase {
  Quantity in;
  std::string expect;
  std::string alternate;  // another spelling that must print as `expect`
};

class QuantityStringTest : public ::testing::TestWithParam<StringCase> {};

TEST_P(QuantityStringTest, Canonical) {
  const auto& c = GetParam();
  EXPECT_EQ(c.in.String(), c.expect);
  auto back = Quantity::Parse(c.expect);
  ASSERT_TRUE(back.ok()) << c.expect;
  EXPECT_EQ(back->String(), c.expect);
  if (!c.alternate.empty()) {
    EXPECT_EQ(MustParse(c.alternate).String(), c.expect) << c.alternate;
  }
  if (!c.in.IsZero()) {
    auto neg = Quantity().Sub(c.in);
    ASSERT_TRUE(neg.ok());
    // Sub from a zero takes the right-hand format, as Kubernetes' Add does.
    EXPECT_EQ(neg->String(), "-" + c.expect);
  }
}

Quantity B(int64_t v, int e) { return Quantity::FromScaled(v, e, F::kBinarySI); }
Quantity X(int64_t v, int e) { return Quantity::FromScaled(v, e, F::kDecimalExponent); }

INSTANTIATE_TEST_SUITE_P(
    Upstream, QuantityStringTest,
    ::testing::Values(
        StringCase{B(1LL << 30, 0), "1Gi", "1024Mi"}, StringCase{B(300LL << 20, 0), "300Mi", "307200Ki"},
        StringCase{B(6 * 1024, 0), "6Ki", ""}, StringCase{B(1001LL << 30, 0), "1001Gi", "1025024Mi"},
        StringCase{B(1LL << 40, 0), "1Ti", "1024Gi"}, StringCase{B(5, 0), "5", "5000m"},
        StringCase{B(500, -3), "500m", "0.5"}, StringCase{D(1, 9), "1G", "1000M"},
        StringCase{D(1000, 6), "1G", "0.001T"}, StringCase{D(1000000000, 0), "1G", ""},
        StringCase{D(1, -3), "1m", "1000u"}, StringCase{D(80, -3), "80m", ""},
        StringCase{D(1080, -3), "1080m", "1.08"}, StringCase{D(108, -2), "1080m", "1080000000n"},
        StringCase{D(10800, -4), "1080m", ""}, StringCase{D(300, 6), "300M", ""},
        StringCase{D(1, 12), "1T", ""}, StringCase{D(1, 18), "1E", ""},
        // no suffix beyond E: exponent notation instead of a lost magnitude
        StringCase{D(1, 21), "1e21", "1000E"}, StringCase{D(5, 21), "5e21", "5000E"},
        StringCase{D(1, 24), "1e24", "1000000E"}, StringCase{B(1, 70), "10e69", ""},
        StringCase{D(1234567, 6), "1234567M", ""}, StringCase{B(1234567, -3), "1234567m", ""},
        StringCase{D(3, 3), "3k", ""}, StringCase{B(1025, 0), "1025", ""},
        StringCase{D(0, 0), "0", "00"}, StringCase{B(0, 0), "0", ""}, StringCase{X(0, 0), "0", ""},
        StringCase{X(1, 9), "1e9", ".001e12"}, StringCase{X(1, -3), "1e-3", "0.001e0"},
        StringCase{X(1, -9), "1e-9", "1000e-12"}, StringCase{X(80, -3), "80e-3", ""},
        StringCase{X(300, 6), "300e6", ""}, StringCase{X(3, 3), "3e3", ""},
        StringCase{D(1, -9), "1n", ""}, StringCase{D(1080, -9), "1080n", ""},
        StringCase{D(10800, -10), "1080n", ""}, StringCase{D(1, -6), "1u", ""},
        StringCase{D(1080, -6), "1080u", ""}));

TEST(QuantityString, BinaryWithoutBinarySuffixPrintsPlainDigits) {
  // 2000 is not a multiple of 1024: printed as "2000" (parsing that back gives DecimalSI "2k").
  EXPECT_EQ(B(2000, 0).String(), "2000");
  EXPECT_EQ(B(-2000, 0).String(), "-2000");
  EXPECT_EQ(MustParse("2000").String(), "2k");
}

TEST(QuantityString, BelowNanoUsesExponentNotation) {
  EXPECT_EQ(D(1, -12).String(), "1e-12");
  EXPECT_EQ(D(1, -10).String(), "100e-12");
}

TEST(QuantityString, ParseEmit) {
  const std::pair<const char*, const char*> cases[] = {
      {"1Ki", "1Ki"},         {"1Mi", "1Mi"},           {"1024Mi", "1Gi"},          {"1000M", "1G"},
      {".001Ki", "1024m"},    {".000001Ki", "1024u"},   {".000000001Ki", "1024n"},  {".000000000001Ki", "2n"},
      {"1.5Gi", "1536Mi"},    {"100.035Ki", "102435840m"}, {"01", "1"},
      {"1e0", "1"},           {"1.5e3", "1500"},        {"0.5Mi", "512Ki"},         {"1e-3", "1e-3"}};
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(MustParse(in).String(), out) << in;
    EXPECT_EQ(MustParse(std::string("-") + in).String(), std::string("-") + out) << "-" << in;
  }
  EXPECT_EQ(MustParse("+1").String(), "1");  // Kubernetes would echo "+1" verbatim (see quantity.h)
}

TEST(QuantityValue, RoundsUpAwayFromZero) {
  struct Case {
    const char* in;
    int64_t value, milli;
  };
  const Case cases[] = {{"1.5Gi", 1610612736, 1610612736000}, {"500m", 1, 500},   {"-500m", -1, -500},
                        {"0.1", 1, 100},                      {"1n", 1, 1},       {"-1n", -1, -1},
                        {"2Gi", 2147483648, 2147483648000},   {"100m", 1, 100},   {"1.5", 2, 1500},
                        {"0.0001", 1, 1},                     {"1e-3", 1, 1},     {"4", 4, 4000},
                        {"0", 0, 0},                          {"1500m", 2, 1500}, {"1.0001", 2, 1001}};
  for (const auto& c : cases) {
    EXPECT_EQ(MustParse(c.in).Value(), c.value) << c.in;
    EXPECT_EQ(MustParse(c.in).MilliValue(), c.milli) << c.in;
  }
}

TEST(QuantityValue, SaturatesAtInt64Limits) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(MustParse("9Ei").Value(), kMax);
  EXPECT_EQ(MustParse("1e30").Value(), kMax);
  EXPECT_EQ(MustParse("-1e30").Value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustParse("9Ei").MilliValue(), kMax);
  EXPECT_EQ(MustParse("8Ei").Value(), kMax);  // 2^63 does not fit; capped at parse
}

// Found by fuzzing (tests/fuzz/corpus/quantity_fuzz/crash-*).
TEST(QuantityValue, HugeValuesSaturateWithTheirSign) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // 10^37: MilliValue needed 10^40, past what the 128-bit mantissa holds.
  EXPECT_EQ(MustParse("10000000000000000000E").MilliValue(), kMax);
  EXPECT_EQ(MustParse("-10000000000000000000E").MilliValue(), std::numeric_limits<int64_t>::min());
  // Between 2^127 and 2^128 nanos: was read as a negative number.
  Quantity q = MustParse("199999999999999999999.0000000000395Gi");
  EXPECT_EQ(q.Sign(), 1);
  EXPECT_EQ(q.Value(), kMax);
  EXPECT_EQ(q.String(), MustParse(q.String()).String());
  // An exponent past int32 once normalised would print a form that does not parse.
  EXPECT_FALSE(Quantity::Parse("100000000000000000000e2147483647").ok());
  EXPECT_EQ(MustParse("1e2147483647").String(), "10e2147483646");
  EXPECT_TRUE(Quantity::Parse("10e2147483646").ok());
}

TEST(QuantityValue, ScaledValueRoundsLikeRoundUp) {
  // Upstream TestQuantityRoundUp: 9.01 at scales -3..2.
  const std::pair<int, int64_t> cases[] = {{-3, 9010}, {-2, 901}, {-1, 91}, {0, 10}, {1, 1}, {2, 1}};
  for (const auto& [scale, want] : cases) {
    EXPECT_EQ(MustParse("9.01").ScaledValue(scale), want) << scale;
    EXPECT_EQ(MustParse("-9.01").ScaledValue(scale), -want) << scale;
  }
}

TEST(QuantityCmp, ComparesValuesAcrossFormats) {
  struct Case {
    const char *a, *b;
    int want;
  };
  const Case cases[] = {{"0", "0", 0},          {"100m", "50m", 1},  {"50m", "100m", -1}, {"10000T", "100Gi", 1},
                        {"1Ki", "1024", 0},     {"-1", "1", -1},     {"-2", "-1", -1},    {"1e3", "1k", 0},
                        {"0.5", "500m", 0},     {"1E", "1Ei", -1},   {"-1e21", "-1E", -1}, {"1n", "0", 1},
                        {"999999999n", "1", -1}};
  for (const auto& c : cases) {
    EXPECT_EQ(MustParse(c.a).Cmp(MustParse(c.b)), c.want) << c.a << " vs " << c.b;
    EXPECT_EQ(MustParse(c.b).Cmp(MustParse(c.a)), -c.want) << c.b << " vs " << c.a;
  }
}

TEST(QuantityArithmetic, AddAndSubKeepTheLeftFormat) {
  auto sum = MustParse("1Gi").Add(MustParse("512Mi"));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->String(), "1536Mi");
  auto zero_plus = Quantity().Add(MustParse("100m"));  // a zero takes the other's format
  ASSERT_TRUE(zero_plus.ok());
  EXPECT_EQ(zero_plus->String(), "100m");
  auto diff = MustParse("100m").Sub(MustParse("100m"));
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->String(), "0");
  auto mixed = MustParse("1").Add(MustParse("1n"));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->String(), "1000000001n");
  EXPECT_FALSE(MustParse("1e100").Add(MustParse("1n")).ok());  // beyond 38 digits
}

TEST(QuantityJson, StringsNumbersAndErrors) {
  using nlohmann::json;
  json j = MustParse("1536Mi");
  EXPECT_EQ(j, json("1536Mi"));
  auto from_int = QuantityFromJson(json(2));
  ASSERT_TRUE(from_int.ok());
  EXPECT_EQ(from_int->Value(), 2);
  auto from_float = QuantityFromJson(json(1.5));
  ASSERT_TRUE(from_float.ok());
  EXPECT_EQ(from_float->String(), "1500m");
  auto spaced = QuantityFromJson(json(" 4Gi "));
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->String(), "4Gi");
  auto null = QuantityFromJson(json(nullptr));
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->IsZero());
  EXPECT_FALSE(QuantityFromJson(json(true)).ok());
  EXPECT_FALSE(QuantityFromJson(json::object()).ok());
  EXPECT_FALSE(QuantityFromJson(json("4Gx")).ok());
}

}  // namespace
}  // namespace ferry::api
