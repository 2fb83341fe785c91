// Ferry's quantity and duration parsers against the answers of Kubernetes' and Go's own
// (tests/fuzz/oracle/*.tsv, written by hack/fuzz/oracle.sh for every input of the fuzz
// corpora): the same inputs accepted, the same canonical form, the same scaled values. Where
// Ferry differs on purpose the difference is listed here and in docs/fuzzing.md.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/quantity.h"
#include "api/time.h"

namespace ferry::api {
namespace {

struct Row {
  std::string input;
  std::vector<std::string> fields;  // "error", or the oracle's values
};

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<Row> Load(const std::string& name) {
  std::ifstream in(std::string(FERRY_FUZZ_ORACLE_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string field;
    Row r;
    std::getline(s, field, '\t');
    r.input = Unhex(field);
    while (std::getline(s, field, '\t')) r.fields.push_back(field);
    rows.push_back(r);
  }
  return rows;
}

std::string Shown(const std::string& s) { return "\"" + s + "\""; }

// Inputs Kubernetes accepts and Ferry refuses on purpose: more significant digits than the
// 128-bit mantissa holds (documented in quantity.h).
bool TooPrecise(const std::string& s) {
  int digits = 0;
  bool leading = true;
  for (char c : s) {
    if (c == '+' || c == '-' || c == '.') continue;
    if (c < '0' || c > '9') break;  // the suffix
    leading = leading && c == '0';
    digits += leading ? 0 : 1;
  }
  return digits > 38;
}

TEST(QuantityOracleTest, AgreesWithKubernetes) {
  auto rows = Load("quantity.tsv");
  ASSERT_GT(rows.size(), 100u);
  int compared = 0, upstream_wrapped = 0;
  for (const auto& r : rows) {
    if (r.fields.at(0) == "skip") continue;  // no reference answer (see hack/fuzz/oracle)
    auto q = Quantity::Parse(r.input);
    if (r.fields.at(0) == "error") {
      EXPECT_FALSE(q.ok()) << Shown(r.input) << " Kubernetes refuses it, Ferry gives "
                           << q->String();
      continue;
    }
    if (!q.ok() && TooPrecise(r.input)) continue;
    ASSERT_TRUE(q.ok()) << Shown(r.input) << " Kubernetes gives " << r.fields[0]
                        << ", Ferry: " << q.status();
    // The exact value (Go's inf.Dec, a plain decimal) must match; the canonical form too,
    // except where Kubernetes v1.20 prints a wrapped int64: a value past 2^63 written with a
    // suffix ("1000E" prints "1"; Ferry prints "1e21").
    auto exact = Quantity::Parse(r.fields.at(3));
    ASSERT_TRUE(exact.ok()) << r.fields[3];
    EXPECT_EQ(q->Cmp(*exact), 0) << Shown(r.input) << " is " << r.fields[3]
                                 << ", Ferry: " << q->String();
    auto upstream = Quantity::Parse(r.fields[0]);
    if (upstream.ok() && upstream->Cmp(*exact) == 0) {
      EXPECT_EQ(q->String(), r.fields[0]) << Shown(r.input);
    } else {
      ++upstream_wrapped;
    }
    if (r.fields.at(1) != "overflow") {
      EXPECT_EQ(std::to_string(q->Value()), r.fields[1]) << Shown(r.input);
    }
    if (r.fields.at(2) != "overflow") {
      EXPECT_EQ(std::to_string(q->MilliValue()), r.fields[2]) << Shown(r.input);
    }
    ++compared;
  }
  EXPECT_GT(compared, 50);
  EXPECT_LT(upstream_wrapped, compared / 10) << "most answers must be comparable";
}

TEST(DurationOracleTest, AgreesWithGo) {
  auto rows = Load("duration.tsv");
  ASSERT_GT(rows.size(), 50u);
  for (const auto& r : rows) {
    auto d = ParseDuration(r.input);
    if (r.fields.at(0) == "error") {
      EXPECT_FALSE(d.ok()) << Shown(r.input) << " Go refuses it, Ferry gives " << d->count()
                           << " ns";
      continue;
    }
    ASSERT_TRUE(d.ok()) << Shown(r.input) << " Go gives " << r.fields[0]
                        << " ns, Ferry: " << d.status();
    EXPECT_EQ(std::to_string(d->count()), r.fields[0]) << Shown(r.input);
    EXPECT_EQ(FormatDuration(*d), r.fields.at(1)) << Shown(r.input);
  }
}

}  // namespace
}  // namespace ferry::api
