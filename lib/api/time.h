// Kubernetes time encodings:
//  * metav1.Time: RFC3339 with whole seconds, written in UTC ("2024-05-01T12:00:00Z").
//  * metav1.MicroTime: RFC3339 with exactly six fractional digits ("...12:00:00.000123Z").
//  * metav1.Duration: Go duration strings ("1h2m3.5s", "300ms").
// Parsing accepts what Go's time.Parse(time.RFC3339, ...) accepts: optional fractional
// seconds of any length and a "Z" or "+hh:mm"/"-hh:mm" offset.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ferry::api {

using WallTime = std::chrono::system_clock::time_point;

// metav1.Time: truncates to whole seconds (toward the past), UTC, "Z".
std::string FormatTime(WallTime t);
// metav1.MicroTime: truncates to microseconds, UTC, six fractional digits.
std::string FormatMicroTime(WallTime t);
// Parses RFC3339 (with or without fractional seconds, any offset). Precision beyond the
// clock's resolution is truncated.
StatusOr<WallTime> ParseTime(std::string_view text);

// Go's time.Duration.String(): "0s", "1.5s", "2m0s", "1h0m0s", "300ms", "1µs", "-5s".
std::string FormatDuration(std::chrono::nanoseconds d);
// Go's time.ParseDuration: a signed sequence of decimal numbers with units
// ns, us, µs, ms, s, m, h (e.g. "1h30m", "1.5s", "-300ms"). Overflow is an error.
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);

}  // namespace ferry::api
