// Go durations ("1h30m", "1.5s", "300ms") and RFC 3339 times as specs and objects carry them.
// ParseDuration is checked against a small independent model of Go's time.ParseDuration:
//   [+-] ( "0" | ( number unit )+ ),  number: digits [. digits] or . digits,
//   unit: ns us µs μs ms s m h
// the model computes the value in long double; both must agree on acceptance and, away from
// the int64 limit, on the value. FormatDuration of any int64 parses back to itself. A parsed
// time prints (MicroTime) to a string that parses to the same instant at microseconds.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "api/time.h"
#include "fuzz_check.h"

namespace {

using std::chrono::nanoseconds;

struct Model {
  bool valid = false;
  long double ns = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Model GoDuration(std::string_view s) {
  Model m;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (s.substr(i) == "0") {
    m.valid = true;
    return m;
  }
  if (i == s.size()) return m;
  long double total = 0;
  while (i < s.size()) {
    long double v = 0;
    size_t digits = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i, ++digits) v = v * 10 + (s[i] - '0');
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 1;
      for (; i < s.size() && IsDigit(s[i]); ++i, ++digits) {
        scale /= 10;
        v += (s[i] - '0') * scale;
      }
    }
    if (digits == 0) return m;
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return m;
    total += v * mult;
    i = u;
  }
  m.valid = true;
  m.ns = neg ? -total : total;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string shown = "\"" + std::string(text) + "\"";

  // Durations.
  auto d = ferry::api::ParseDuration(text);
  Model m = GoDuration(text);
  const long double kLimit = 9.223372036854775807e18L;
  if (std::fabs(m.ns) < kLimit * 0.999L) {
    FUZZ_CHECK(d.ok() == m.valid,
               shown + (d.ok() ? " parsed, Go refuses it" : " refused: " + d.status().message()));
    if (d.ok()) {
      long double got = static_cast<long double>(d->count());
      // Go accumulates each number's integer and fraction parts separately and truncates the
      // fraction to whole nanoseconds per term: allow 1 ns per term.
      FUZZ_CHECK(
          std::fabs(got - m.ns) <= 1 + std::fabs(m.ns) * 1e-15L + static_cast<long double>(size),
          shown + " = " + std::to_string(d->count()) + " ns, the model says " +
              std::to_string(static_cast<double>(m.ns)));
    }
  } else if (m.valid && std::fabs(m.ns) > kLimit * 1.001L) {
    FUZZ_CHECK(!d.ok(), shown + " overflows int64 nanoseconds but parsed");
  }
  if (d.ok()) {
    std::string printed = ferry::api::FormatDuration(*d);
    auto back = ferry::api::ParseDuration(printed);
    FUZZ_CHECK(back.ok() && *back == *d,
               shown + " prints " + printed + ", which parses to another value");
  }
  if (size >= 8) {  // any int64 prints and parses back
    int64_t raw;
    std::memcpy(&raw, data, 8);
    std::string printed = ferry::api::FormatDuration(nanoseconds(raw));
    auto back = ferry::api::ParseDuration(printed);
    FUZZ_CHECK(back.ok() && back->count() == raw,
               std::to_string(raw) + " ns prints " + printed + ", which does not parse back");
  }

  // Times.
  auto t = ferry::api::ParseTime(text);
  if (t.ok()) {
    std::string micro = ferry::api::FormatMicroTime(*t);
    auto back = ferry::api::ParseTime(micro);
    FUZZ_CHECK(back.ok(), shown + " prints " + micro + ", which does not parse");
    FUZZ_CHECK(std::chrono::floor<std::chrono::microseconds>(*back) ==
                   std::chrono::floor<std::chrono::microseconds>(*t),
               shown + " prints " + micro + ", another instant");
    std::string whole = ferry::api::FormatTime(*t);
    FUZZ_CHECK(ferry::api::ParseTime(whole).ok(),
               shown + " prints " + whole + ", which does not parse");
  }
  return 0;
}
