// Quantities ("4Gi", "500m", "1e3") as users write them in specs. Checked against a small
// independent model of the grammar of k8s.io/apimachinery's ParseQuantity:
//   [+-] digits [. digits] suffix,   suffix: "" n u m k M G T P E | Ki Mi Gi Ti Pi Ei |
//   (e|E)[+-]digits
// where, as in Kubernetes, a number without digits is zero ("-", ".", "Ki" and "e3" are 0;
// hack/fuzz/oracle.sh checks such cases against Kubernetes itself). A string the model accepts
// parses, unless it has more significant digits than Ferry's documented 38 or leaves the
// representable range; a string the model rejects does not parse. Whatever parses prints a
// canonical form that parses to the same value and prints the same again, and the scaled values
// agree with each other.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/quantity.h"
#include "fuzz_check.h"

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Model {
  bool valid = false;
  size_t significant_digits = 0;  // digits of the number without leading zeros
  bool big_exponent = false;      // an exponent with more than 2 digits
};

Model Grammar(std::string_view s) {
  Model m;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool leading = true;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (s[i] != '0') leading = false;
    if (!leading) ++m.significant_digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (s[i] != '0') leading = false;
      if (!leading) ++m.significant_digits;
    }
  }
  if (s.empty()) return m;
  std::string_view suffix = s.substr(i);
  static constexpr std::string_view kSuffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                                   "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (auto k : kSuffixes) {
    if (suffix == k) {
      m.valid = true;
      return m;
    }
  }
  if (suffix[0] != 'e' && suffix[0] != 'E') return m;
  size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
  size_t exp_digits = 0;
  for (; j < suffix.size() && IsDigit(suffix[j]); ++j) ++exp_digits;
  m.valid = exp_digits > 0 && j == suffix.size();
  m.big_exponent = exp_digits > 2;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = ferry::api::Quantity::Parse(text);
  Model m = Grammar(text);
  const std::string shown = "\"" + std::string(text) + "\"";
  if (!m.valid) {
    FUZZ_CHECK(!q.ok(), "outside the grammar but parsed: " + shown + " -> " + q->String());
    return 0;
  }
  if (!q.ok()) {
    FUZZ_CHECK(m.significant_digits > 38 || m.big_exponent,
               "in the grammar but refused: " + shown + ": " + q.status().message());
    return 0;
  }
  std::string canonical = q->String();
  auto again = ferry::api::Quantity::Parse(canonical);
  FUZZ_CHECK(again.ok(), shown + " prints " + canonical + ", which does not parse: " +
                             (again.ok() ? "" : again.status().message()));
  FUZZ_CHECK(again->Cmp(*q) == 0, shown + " prints " + canonical + ", a different value");
  // Stable when the printed form keeps the format: a binary value that is no whole multiple
  // of 1024 prints bare digits, which read back as decimal ("1312.5Ki" prints 1344000, which
  // prints 1344k) - Kubernetes does the same (hack/fuzz/oracle.sh).
  if (again->format() == q->format()) {
    FUZZ_CHECK(again->String() == canonical,
               shown + ": canonical form not stable: " + canonical + " -> " + again->String());
  }
  // Value() and MilliValue() both round up away from zero: Value is MilliValue / 1000 rounded
  // the same way, unless either saturated.
  int64_t v = q->Value(), mv = q->MilliValue();
  const int64_t kMax = INT64_MAX, kMin = INT64_MIN;
  if (mv != kMax && mv != kMin && v != kMax && v != kMin) {
    int64_t expect = mv / 1000 + (mv % 1000 > 0 ? 1 : 0) - (mv % 1000 < 0 ? 1 : 0);
    FUZZ_CHECK(v == expect,
               shown + ": Value " + std::to_string(v) + " but MilliValue " + std::to_string(mv));
  }
  // Rounding away from zero keeps the sign: 1n is 1 byte, -1n is -1.
  FUZZ_CHECK((v > 0) - (v < 0) == q->Sign(),
             shown + ": Value " + std::to_string(v) + " has another sign than the quantity");
  auto sum = q->Add(*q);
  if (sum.ok()) {
    auto diff = sum->Sub(*q);
    FUZZ_CHECK(diff.ok() && diff->Cmp(*q) == 0, shown + ": (q + q) - q != q");
  }
  return 0;
}
