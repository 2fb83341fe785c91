// Kubernetes resource quantities ("4Gi", "500m", "1.5e3") with the semantics of
// k8s.io/apimachinery/pkg/api/resource.Quantity: the same grammar, the same rounding
// (non-zero values round up, away from zero, to nano precision), the same cap for binary
// quantities (2^63-1) and the same canonical String().
//
// Representation: value = mantissa * 10^exponent with exponent >= -9, normalized so the
// mantissa has no trailing decimal zeros. The mantissa is 128 bits, so values with more
// than 38 significant digits at nano precision are rejected (Kubernetes accepts them through
// arbitrary-precision decimals; no resource Ferry handles comes near).
//
// Known difference: Kubernetes echoes an input string verbatim when it is "close enough" to
// canonical (e.g. "+1" or "01" print as given). Ferry always prints the canonical form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ferry::api {

__extension__ typedef __int128 Int128;  // __extension__: silence -Wpedantic

class Quantity {
 public:
  // The suffix family a quantity was written in; String() keeps it.
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;  // zero, DecimalSI

  // Parses like resource.ParseQuantity. Errors are kInvalid with the reason.
  static StatusOr<Quantity> Parse(std::string_view text);
  // Builds value * 10^exponent, e.g. FromScaled(500, -3) == "500m".
  static Quantity FromScaled(int64_t value, int exponent, Format format = Format::kDecimalSI);
  // Whole bytes/cores, e.g. FromInt(4 << 30, kBinarySI) prints "4Gi".
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI) {
    return FromScaled(value, 0, format);
  }

  // The value in base units (bytes, cores), rounded up away from zero like Value().
  // Saturates at the int64 limits.
  int64_t Value() const { return ScaledValue(0); }
  // The value in thousandths (millicores), rounded up like MilliValue().
  int64_t MilliValue() const { return ScaledValue(-3); }
  // The value in units of 10^scale, rounded up away from zero; saturates.
  int64_t ScaledValue(int scale) const;

  bool IsZero() const { return mantissa_ == 0; }
  int Sign() const { return mantissa_ > 0 ? 1 : (mantissa_ < 0 ? -1 : 0); }
  Format format() const { return format_; }

  // Canonical form, as Kubernetes' Quantity.String().
  std::string String() const;

  // -1, 0, 1 comparing values (the format is not compared).
  int Cmp(const Quantity& other) const;
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Cmp(b) == 0; }
  friend bool operator<(const Quantity& a, const Quantity& b) { return a.Cmp(b) < 0; }

  // Exact sum/difference; the format of the left operand is kept (as Quantity.Add).
  // Returns an error when the result leaves the representable range.
  StatusOr<Quantity> Add(const Quantity& other) const;
  StatusOr<Quantity> Sub(const Quantity& other) const;

  // Internal representation, for tests.
  Int128 mantissa() const { return mantissa_; }
  int64_t exponent() const { return exponent_; }

 private:
  Quantity(Int128 mantissa, int64_t exponent, Format format);
  void Normalize();

  Int128 mantissa_ = 0;
  int64_t exponent_ = 0;  // power of ten; >= -9 for parsed values
  Format format_ = Format::kDecimalSI;
};

std::ostream& operator<<(std::ostream& os, const Quantity& q);

// JSON: a string ("4Gi"); decoding also accepts a JSON number (as Kubernetes does).
void to_json(nlohmann::json& j, const Quantity& q);
StatusOr<Quantity> QuantityFromJson(const nlohmann::json& j);

}  // namespace ferry::api
