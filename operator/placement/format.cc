#include "placement/format.h"

#include <array>
#include <cstdio>

namespace ferry::placement {
namespace {

struct Unit {
  const char* suffix;
  int shift;
};
constexpr std::array<Unit, 6> kUnits = {
    {{"Ei", 60}, {"Pi", 50}, {"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10}}};

}  // namespace

std::string FormatBytes(int64_t bytes) {
  if (bytes < 0) {
    // -INT64_MIN overflows; clamp it, no real quantity gets there.
    if (bytes == INT64_MIN) bytes = INT64_MIN + 1;
    std::string positive = FormatBytes(-bytes);
    positive.insert(positive.begin(), '-');
    return positive;
  }
  if (bytes == 0) return "0";
  for (const Unit& u : kUnits) {
    const int64_t unit = int64_t{1} << u.shift;
    if (bytes % unit == 0) return std::to_string(bytes / unit) + u.suffix;
  }
  for (const Unit& u : kUnits) {
    const int64_t unit = int64_t{1} << u.shift;
    if (bytes >= unit) {
      const int64_t whole = bytes / unit;
      // Hundredths, truncated, from the top 10 bits of the remainder (no overflow).
      const int64_t rem_kib = (bytes % unit) >> (u.shift - 10);
      const int64_t hundredths = rem_kib * 100 / 1024;
      char buf[48];
      std::snprintf(buf, sizeof buf, "%lld.%02lld%s", static_cast<long long>(whole),
                    static_cast<long long>(hundredths), u.suffix);
      return buf;
    }
  }
  return std::to_string(bytes);
}

std::string FormatBytesUp(int64_t bytes) {
  if (bytes <= 0) return FormatBytes(bytes);
  for (const Unit& u : kUnits) {
    const int64_t unit = int64_t{1} << u.shift;
    if (bytes % unit == 0) return std::to_string(bytes / unit) + u.suffix;
  }
  for (const Unit& u : kUnits) {
    const int64_t unit = int64_t{1} << u.shift;
    if (bytes >= unit) {
      int64_t whole = bytes / unit;
      const int64_t rem = bytes % unit;  // > 0: exact multiples returned above
      // Hundredths rounded up: the smallest h with h × unit / 100 >= rem (no overflow: the
      // remainder is scaled down to 1/1024ths of the unit, rounding up).
      const int64_t rem_kib = (rem + (int64_t{1} << (u.shift - 10)) - 1) >> (u.shift - 10);
      int64_t hundredths = (rem_kib * 100 + 1023) / 1024;
      if (hundredths >= 100) {
        ++whole;
        hundredths = 0;
      }
      if (hundredths == 0) return std::to_string(whole) + u.suffix;
      char buf[48];
      std::snprintf(buf, sizeof buf, "%lld.%02lld%s", static_cast<long long>(whole),
                    static_cast<long long>(hundredths), u.suffix);
      return buf;
    }
  }
  return std::to_string(bytes);
}

int64_t FormatBytesStep(int64_t bytes) {
  if (bytes < 0) bytes = bytes == INT64_MIN ? INT64_MAX : -bytes;
  if (bytes == 0) return 0;
  for (const Unit& u : kUnits) {
    if (bytes % (int64_t{1} << u.shift) == 0) return 0;
  }
  for (const Unit& u : kUnits) {
    const int64_t unit = int64_t{1} << u.shift;
    if (bytes >= unit) return unit / 100;
  }
  return 0;
}

std::string FormatMillicores(int64_t millis) {
  if (millis % 1000 == 0) return std::to_string(millis / 1000);
  return std::to_string(millis) + "m";
}

std::string FormatVersion(int64_t version) {
  if (version < 0) return std::to_string(version);
  return std::to_string(version / 1000000) + "." + std::to_string(version / 1000 % 1000) + "." +
         std::to_string(version % 1000);
}

}  // namespace ferry::placement
