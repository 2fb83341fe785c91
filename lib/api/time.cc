#include "api/time.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace ferry::api {
namespace {

using std::chrono::nanoseconds;
__extension__ typedef unsigned __int128 UInt128;  // __extension__: silence -Wpedantic

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::string Format(WallTime t, bool micros) {
  // floor, not duration_cast (toward zero): before 1970 truncation moved the instant forward
  // (found by fuzzing: ...59.2222222222Z printed as ...59.222223Z).
  const auto us = std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {  // floor toward the past for pre-1970 times
    frac += 1000000;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  const Civil c = CivilFromDays(days);
  char buf[64];
  if (micros) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60),
                  static_cast<long long>(frac));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(c.year),
                  c.month, c.day, static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60));
  }
  return buf;
}

bool ReadFixed(std::string_view s, size_t& pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string FormatTime(WallTime t) { return Format(t, false); }
std::string FormatMicroTime(WallTime t) { return Format(t, true); }

StatusOr<WallTime> ParseTime(std::string_view s) {
  const auto bad = [&](std::string_view why) {
    return InvalidError("invalid RFC3339 time \"" + std::string(s) + "\": " + std::string(why));
  };
  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadFixed(s, pos, 4, &year) || !Expect(s, pos, '-') || !ReadFixed(s, pos, 2, &month) ||
      !Expect(s, pos, '-') || !ReadFixed(s, pos, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!Expect(s, pos, 'T')) {
    return bad("expected 'T' after the date");
  }
  if (!ReadFixed(s, pos, 2, &hour) || !Expect(s, pos, ':') || !ReadFixed(s, pos, 2, &minute) ||
      !Expect(s, pos, ':') || !ReadFixed(s, pos, 2, &second)) {
    return bad("expected hh:mm:ss");
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month))) {
    return bad("day out of range");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("time of day out of range");
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad("expected digits after '.'");
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh = 0, om = 0;
    if (!ReadFixed(s, pos, 2, &oh) || !Expect(s, pos, ':') || !ReadFixed(s, pos, 2, &om) || oh > 23 ||
        om > 59) {
      return bad("malformed UTC offset");
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return bad("missing time zone (Z or +hh:mm)");
  }
  if (pos != s.size()) return bad("trailing characters");
  const int64_t secs = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                       hour * 3600 + minute * 60 + second - offset_seconds;
  // The wall clock counts int64 nanoseconds: years 1678-2262. Later or earlier instants are
  // refused rather than wrapped (found by fuzzing: "3000-01-01T00:00:00Z" overflowed).
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return bad("outside the years 1678-2262 Ferry's clock holds");
  const auto since_epoch = std::chrono::seconds(secs) + nanoseconds(nanos);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

std::string FormatDuration(nanoseconds d) {
  // Mirrors Go's time.Duration.String().
  int64_t v = d.count();
  if (v == 0) return "0s";
  const bool negative = v < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const auto frac = [](uint64_t value, int prec, std::string* out) {
    // Appends value/10^prec with trailing zeros (and a trailing '.') trimmed; returns value/10^prec.
    std::string digits;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      const uint64_t digit = value % 10;
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      value /= 10;
    }
    if (print) *out = "." + digits;
    return value;
  };
  std::string out;
  if (u < 1000000000ULL) {
    int prec = 0;
    std::string unit;
    if (u < 1000ULL) {
      unit = "ns";
    } else if (u < 1000000ULL) {
      prec = 3;
      unit = "µs";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string fraction;
    const uint64_t whole = frac(u, prec, &fraction);
    out = std::to_string(whole) + fraction + unit;
  } else {
    std::string fraction;
    uint64_t secs = frac(u, 9, &fraction);
    out = std::to_string(secs % 60) + fraction + "s";
    secs /= 60;
    if (secs > 0) {
      out = std::to_string(secs % 60) + "m" + out;
      secs /= 60;
      if (secs > 0) out = std::to_string(secs) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

StatusOr<nanoseconds> ParseDuration(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return InvalidError("invalid duration \"" + std::string(text) + "\": " + std::string(why));
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return nanoseconds(0);
  if (s.empty()) return bad("empty");
  // Exact integer arithmetic: whole * unit + fraction * unit / 10^digits.
  UInt128 total = 0;
  constexpr UInt128 kLimit = static_cast<UInt128>(std::numeric_limits<int64_t>::max()) + 1;
  while (!s.empty()) {
    uint64_t whole = 0;
    size_t n = 0;
    bool whole_overflow = false;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
      if (whole > (std::numeric_limits<uint64_t>::max() - 9) / 10) whole_overflow = true;
      whole = whole * 10 + static_cast<uint64_t>(s[n] - '0');
      ++n;
    }
    const bool had_whole = n > 0;
    s.remove_prefix(n);
    uint64_t frac = 0, scale = 1;
    bool had_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      n = 0;
      while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
        if (scale < 1000000000000000000ULL) {  // further digits cannot matter at ns precision
          frac = frac * 10 + static_cast<uint64_t>(s[n] - '0');
          scale *= 10;
        }
        ++n;
      }
      had_frac = n > 0;
      s.remove_prefix(n);
    }
    if (!had_whole && !had_frac) return bad("expected a number");
    if (whole_overflow) return bad("overflow");
    n = 0;
    while (n < s.size() && s[n] != '.' && (s[n] < '0' || s[n] > '9')) ++n;
    const std::string_view unit = s.substr(0, n);
    s.remove_prefix(n);
    uint64_t unit_ns = 0;
    if (unit == "ns") unit_ns = 1;
    else if (unit == "us" || unit == "µs" || unit == "μs") unit_ns = 1000;
    else if (unit == "ms") unit_ns = 1000000;
    else if (unit == "s") unit_ns = 1000000000ULL;
    else if (unit == "m") unit_ns = 60ULL * 1000000000ULL;
    else if (unit == "h") unit_ns = 3600ULL * 1000000000ULL;
    else if (unit.empty()) return bad("missing unit");
    else return bad("unknown unit \"" + std::string(unit) + "\"");
    total += static_cast<UInt128>(whole) * unit_ns;
    total += static_cast<UInt128>(frac) * unit_ns / scale;
    if (total > kLimit) return bad("overflow");
  }
  if (!negative && total == kLimit) return bad("overflow");
  const int64_t magnitude = total == kLimit ? std::numeric_limits<int64_t>::min()
                                            : static_cast<int64_t>(total);
  return nanoseconds(negative && total != kLimit ? -magnitude : magnitude);
}

}  // namespace ferry::api
