#include "api/quantity.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry::api {
namespace {

constexpr int kNanoExponent = -9;     // parsed quantities are rounded up to 10^-9
constexpr int kMaxSignificant = 38;   // decimal digits that always fit in Int128
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// The canonical binary cap: ParseQuantity clamps BinarySI values to int64 max.
constexpr int64_t kMaxBinary = std::numeric_limits<int64_t>::max();

struct Suffix {
  std::string_view text;
  int base;  // 10 or 2
  int exponent;
};
constexpr std::array<Suffix, 16> kSuffixes = {{
    {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"", 10, 0}, {"k", 10, 3}, {"M", 10, 6},
    {"G", 10, 9}, {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18},
    {"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Unsigned arbitrary-precision integer, just enough for exact binary-suffix arithmetic.
class BigUint {
 public:
  explicit BigUint(std::string_view digits) {
    for (char c : digits) {
      MulSmall(10);
      AddSmall(static_cast<uint32_t>(c - '0'));
    }
  }
  bool IsZero() const { return limbs_.empty(); }
  void MulSmall(uint32_t m) {
    uint64_t carry = 0;
    for (auto& limb : limbs_) {
      uint64_t v = uint64_t{limb} * m + carry;
      limb = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) limbs_.push_back(static_cast<uint32_t>(carry));
    Trim();
  }
  void AddSmall(uint32_t a) {
    uint64_t carry = a;
    for (auto& limb : limbs_) {
      if (carry == 0) break;
      uint64_t v = uint64_t{limb} + carry;
      limb = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) limbs_.push_back(static_cast<uint32_t>(carry));
  }
  // Divides in place; returns the remainder.
  uint32_t DivSmall(uint32_t d) {
    uint64_t rem = 0;
    for (size_t i = limbs_.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | limbs_[i];
      limbs_[i] = static_cast<uint32_t>(cur / d);
      rem = cur % d;
    }
    Trim();
    return static_cast<uint32_t>(rem);
  }
  // True when the value exceeds `limit` (a non-negative Int128).
  bool GreaterThan(Int128 limit) const {
    // From 2^127 on the value does not fit in Int128 (found by fuzzing: such a value read as
    // negative, and "199999999999999999999.0000000000395Gi" parsed to a negative quantity).
    if (limbs_.size() > 4 || (limbs_.size() == 4 && (limbs_[3] & 0x80000000u) != 0)) return true;
    return ToInt128Unchecked() > limit;
  }
  // Only valid when the value is below 2^127.
  Int128 ToInt128Unchecked() const {
    Int128 v = 0;
    for (size_t i = limbs_.size(); i-- > 0;) v = (v << 32) | limbs_[i];
    return v;
  }

 private:
  void Trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }
  std::vector<uint32_t> limbs_;  // little-endian base 2^32
};

std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  std::string out;
  // Work on negative values so that the minimum does not overflow.
  Int128 n = negative ? v : -v;
  while (n != 0) {
    out.push_back(static_cast<char>('0' - static_cast<int>(n % 10)));
    n /= 10;
  }
  if (negative) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

Int128 DigitsToInt128(std::string_view digits) {
  Int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// 10^n for n in [0, 38].
Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

bool MulOverflows(Int128 a, Int128 b, Int128* out) { return __builtin_mul_overflow(a, b, out); }

Status FormatError(std::string_view text, std::string_view why) {
  return InvalidError("invalid quantity \"" + std::string(text) + "\": " + std::string(why));
}

// The pieces of a quantity string, split as Kubernetes' parseQuantityString does.
struct Parts {
  bool positive = true;
  std::string_view num;    // integer digits, leading zeros stripped
  std::string_view denom;  // fraction digits
  std::string_view suffix;
};

StatusOr<Parts> Split(std::string_view s) {
  Parts p;
  size_t pos = 0;
  const size_t end = s.size();
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) {
    p.positive = s[pos] == '+';
    ++pos;
  }
  while (pos < end && s[pos] == '0') ++pos;
  size_t start = pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  p.num = s.substr(start, pos - start);
  if (pos < end && s[pos] == '.') {
    ++pos;
    start = pos;
    while (pos < end && IsDigit(s[pos])) ++pos;
    p.denom = s.substr(start, pos - start);
  }
  const size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) ++pos;
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) ++pos;
  while (pos < end && IsDigit(s[pos])) ++pos;
  if (pos != end) return FormatError(s, "unexpected character '" + std::string(1, s[pos]) + "'");
  p.suffix = s.substr(suffix_start);
  return p;
}

struct Interpretation {
  int base;
  int64_t exponent;
  Quantity::Format format;
};

StatusOr<Interpretation> Interpret(std::string_view text, std::string_view suffix) {
  for (const auto& s : kSuffixes) {
    if (s.text == suffix) {
      return Interpretation{s.base, s.exponent,
                            s.base == 2 ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI};
    }
  }
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view digits = suffix.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    int64_t e = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || e > kMaxInt32) {
      return FormatError(text, "exponent out of range or malformed in suffix \"" + std::string(suffix) + "\"");
    }
    return Interpretation{10, negative ? -e : e, Quantity::Format::kDecimalExponent};
  }
  return FormatError(text, "unknown suffix \"" + std::string(suffix) + "\"");
}

}  // namespace

Quantity::Quantity(Int128 mantissa, int64_t exponent, Format format)
    : mantissa_(mantissa), exponent_(exponent), format_(format) {
  Normalize();
}

void Quantity::Normalize() {
  if (mantissa_ == 0) {
    exponent_ = 0;
    return;
  }
  while (mantissa_ % 10 == 0) {
    mantissa_ /= 10;
    ++exponent_;
  }
}

Quantity Quantity::FromScaled(int64_t value, int exponent, Format format) {
  return Quantity(value, exponent, format);
}

StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return InvalidError("invalid quantity: empty string");
  auto parts = Split(text);
  if (!parts.ok()) return parts.status();
  auto interp = Interpret(text, parts->suffix);
  if (!interp.ok()) return interp.status();

  std::string digits(parts->num);
  digits += parts->denom;
  const size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "" : digits.substr(first);
  const int sign = parts->positive ? 1 : -1;
  if (digits.empty()) return Quantity(0, 0, interp->format);

  if (interp->base == 2) {
    // Exact: nanos = ceil(digits * 2^e * 10^9 / 10^len(denom)), then cap at int64 max.
    BigUint v(digits);
    for (int64_t i = 0; i < interp->exponent; i += 10) v.MulSmall(1024);
    const int64_t shift = 9 - static_cast<int64_t>(parts->denom.size());
    bool sticky = false;
    for (int64_t i = 0; i < shift; ++i) v.MulSmall(10);
    for (int64_t i = 0; i < -shift && !v.IsZero(); ++i) sticky |= v.DivSmall(10) != 0;
    if (sticky) v.AddSmall(1);  // round up, away from zero
    const Int128 cap = Int128{kMaxBinary} * 1000000000;
    Int128 nanos = v.GreaterThan(cap) ? cap : v.ToInt128Unchecked();
    Format format = nanos < 1000000000 ? Format::kDecimalSI : Format::kBinarySI;
    return Quantity(sign * nanos, kNanoExponent, format);
  }

  int64_t exponent = interp->exponent - static_cast<int64_t>(parts->denom.size());
  bool round_up = false;
  if (exponent < kNanoExponent) {
    const int64_t drop = kNanoExponent - exponent;
    if (drop >= static_cast<int64_t>(digits.size())) {
      digits = "0";
      round_up = true;  // digits is non-zero here
    } else {
      const size_t keep = digits.size() - static_cast<size_t>(drop);
      round_up = digits.find_first_not_of('0', keep) != std::string::npos;
      digits.resize(keep);
    }
    exponent = kNanoExponent;
  }
  // Trailing zeros move into the exponent, unless the last kept digit is about to be rounded up.
  const size_t last = digits.find_last_not_of('0');
  if (last != std::string::npos && !round_up) {
    exponent += static_cast<int64_t>(digits.size() - last - 1);
    digits.resize(last + 1);
  }
  if (static_cast<int>(digits.size()) > kMaxSignificant) {
    return FormatError(text, "more than 38 significant digits are not supported");
  }
  // The canonical form writes the exponent in a suffix, which holds an int32 as in Kubernetes
  // (found by fuzzing: "100000000000000000000e2147483647" printed an unparseable 1e2147483667).
  if (exponent > std::numeric_limits<int32_t>::max()) return FormatError(text, "exponent out of range");
  Int128 mantissa = DigitsToInt128(digits) + (round_up ? 1 : 0);
  return Quantity(sign * mantissa, exponent, interp->format);
}

int64_t Quantity::ScaledValue(int scale) const {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (mantissa_ == 0) return 0;
  const int64_t diff = exponent_ - scale;
  Int128 v = mantissa_;
  if (diff >= 0) {
    // |mantissa| >= 1, so a factor of 10^39 or more saturates (Pow10 holds at most 10^38).
    if (diff > kMaxSignificant || MulOverflows(v, Pow10(static_cast<int>(diff)), &v)) {
      return mantissa_ > 0 ? kMax : kMin;
    }
  } else if (-diff > kMaxSignificant) {
    return mantissa_ > 0 ? 1 : -1;  // |mantissa| < 10^38: a non-zero fraction rounds to ±1
  } else {
    const Int128 d = Pow10(static_cast<int>(-diff));
    const Int128 q = v / d;
    v = q + ((v % d == 0) ? 0 : (v > 0 ? 1 : -1));
  }
  if (v > kMax) return kMax;
  if (v < kMin) return kMin;
  return static_cast<int64_t>(v);
}

int Quantity::Cmp(const Quantity& other) const {
  if (Sign() != other.Sign()) return Sign() < other.Sign() ? -1 : 1;
  if (Sign() == 0) return 0;
  // Same sign: compare magnitudes by order of magnitude, then digit by digit.
  std::string a = Int128ToString(mantissa_ < 0 ? -mantissa_ : mantissa_);
  std::string b = Int128ToString(other.mantissa_ < 0 ? -other.mantissa_ : other.mantissa_);
  const int64_t mag_a = static_cast<int64_t>(a.size()) + exponent_;
  const int64_t mag_b = static_cast<int64_t>(b.size()) + other.exponent_;
  int magnitude = 0;
  if (mag_a != mag_b) {
    magnitude = mag_a < mag_b ? -1 : 1;
  } else {
    const size_t n = std::max(a.size(), b.size());
    a.resize(n, '0');
    b.resize(n, '0');
    magnitude = a < b ? -1 : (a > b ? 1 : 0);
  }
  return Sign() > 0 ? magnitude : -magnitude;
}

StatusOr<Quantity> Quantity::Add(const Quantity& other) const {
  Format format = format_;
  if (IsZero()) format = other.format_;
  if (other.IsZero()) return Quantity(mantissa_, exponent_, format);
  if (IsZero()) return Quantity(other.mantissa_, other.exponent_, format);
  const int64_t e = std::min(exponent_, other.exponent_);
  Int128 a = mantissa_, b = other.mantissa_, sum = 0;
  const int64_t da = exponent_ - e, db = other.exponent_ - e;
  if (da > kMaxSignificant || db > kMaxSignificant ||
      MulOverflows(a, Pow10(static_cast<int>(da)), &a) ||
      MulOverflows(b, Pow10(static_cast<int>(db)), &b) || __builtin_add_overflow(a, b, &sum)) {
    return InvalidError("quantity arithmetic out of range: " + String() + " + " + other.String());
  }
  return Quantity(sum, e, format);
}

StatusOr<Quantity> Quantity::Sub(const Quantity& other) const {
  Quantity negated(-other.mantissa_, other.exponent_, other.format_);
  return Add(negated);
}

std::string Quantity::String() const {
  if (mantissa_ == 0) return "0";
  Format format = format_;
  const bool negative = mantissa_ < 0;
  const Int128 magnitude = negative ? -mantissa_ : mantissa_;

  if (format == Format::kBinarySI) {
    Int128 whole = 0;
    const bool integral = exponent_ >= 0 && exponent_ <= kMaxSignificant &&
                          !MulOverflows(magnitude, Pow10(static_cast<int>(exponent_)), &whole);
    if (!integral || whole < 1024) {
      format = Format::kDecimalSI;  // small or fractional binary values print in decimal
    } else {
      int power = 0;
      while (whole % 1024 == 0 && whole >= 1024) {
        whole /= 1024;
        ++power;
      }
      if (power <= 6) {
        static constexpr std::array<std::string_view, 7> kBinary = {"", "Ki", "Mi", "Gi",
                                                                    "Ti", "Pi", "Ei"};
        std::string out = negative ? "-" : "";
        return out + Int128ToString(whole) + std::string(kBinary[static_cast<size_t>(power)]);
      }
      format = Format::kDecimalSI;  // beyond Ei: exact decimal instead of a lost suffix
    }
  }

  // Decimal: floor the exponent to a multiple of three, padding the mantissa with zeros.
  std::string digits = Int128ToString(magnitude);
  int64_t e = exponent_;
  const int64_t r = ((e % 3) + 3) % 3;
  digits.append(static_cast<size_t>(r), '0');
  e -= r;
  std::string suffix;
  if (format == Format::kDecimalSI && e >= -9 && e <= 18) {
    for (const auto& s : kSuffixes) {
      if (s.base == 10 && s.exponent == e) suffix = s.text;
    }
  } else if (e != 0) {
    suffix = "e" + std::to_string(e);
  }
  return (negative ? "-" : "") + digits + suffix;
}

std::ostream& operator<<(std::ostream& os, const Quantity& q) { return os << q.String(); }

void to_json(nlohmann::json& j, const Quantity& q) { j = q.String(); }

StatusOr<Quantity> QuantityFromJson(const nlohmann::json& j) {
  if (j.is_null()) return Quantity();
  if (j.is_number()) return Quantity::Parse(j.dump());
  if (!j.is_string()) return InvalidError("quantity must be a string or a number, got " + std::string(j.type_name()));
  std::string_view s = j.get_ref<const std::string&>();
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return Quantity::Parse(s);
}

}  // namespace ferry::api
