// Formatting of engine quantities for human-readable reasons ("memory: needs 4Gi, free 2Gi").
#pragma once

#include <cstdint>
#include <string>

namespace ferry::placement {

// Bytes as a Kubernetes-style binary quantity: exact multiples use the largest exact unit
// ("4Gi", "1536Mi"); other values use the largest unit below them with two decimals,
// truncated ("2.79Gi"), so a "free" figure is never overstated. Negative values keep the sign.
std::string FormatBytes(int64_t bytes);
// The same, rounded up instead ("6.01Gi" for 6Gi + 1 byte): for what something needs, which
// must never look smaller than it is.
std::string FormatBytesUp(int64_t bytes);
// The step of the last digit FormatBytes/FormatBytesUp show for `bytes` (0 when exact).
int64_t FormatBytesStep(int64_t bytes);

// Millicores as Kubernetes writes CPU: whole CPUs as "4", otherwise "2500m".
std::string FormatMillicores(int64_t millis);

// libvirt's version encoding (major × 1,000,000 + minor × 1,000 + micro) as "9.0.0".
std::string FormatVersion(int64_t version);

// Builds a libvirt-encoded version from its parts.
constexpr int64_t MakeVersion(int64_t major, int64_t minor, int64_t micro) {
  return major * 1000000 + minor * 1000 + micro;
}

inline constexpr int64_t kKi = int64_t{1} << 10;
inline constexpr int64_t kMi = int64_t{1} << 20;
inline constexpr int64_t kGi = int64_t{1} << 30;
inline constexpr int64_t kTi = int64_t{1} << 40;

}  // namespace ferry::placement
