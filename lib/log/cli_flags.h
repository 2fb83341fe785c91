// Flag types ferry-operator and ferry-handler share, for CLI11 command lines: a listen address
// and Go durations. Bad values are CLI11 validation errors (a usage message, exit 106), never
// exceptions of their own.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

namespace ferry::cli {

// HOST:PORT, port 0-65535 (0: any free port); the host may be empty or an IPv6 address in
// brackets ("[::1]:8080"). The default shown is the current value.
void AddHostPortFlag(CLI::App& app, const std::string& name, std::string* host, int* port,
                     const std::string& help);

// Parses a positive Go duration ("40s", "5m", "1m30s"); throws CLI::ValidationError.
std::chrono::nanoseconds ParsePositiveDuration(const std::string& name, const std::string& text);
std::string FormatDurationFlag(std::chrono::nanoseconds d);

// A positive duration flag in Go's syntax, stored in `out`'s own unit (truncated).
template <typename Rep, typename Period>
void AddDurationFlag(CLI::App& app, const std::string& name,
                     std::chrono::duration<Rep, Period>* out, const std::string& help) {
  app.add_option_function<std::string>(
         name,
         [out, name](const std::string& text) {
           *out = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
               ParsePositiveDuration(name, text));
         },
         help)
      ->default_str(FormatDurationFlag(std::chrono::duration_cast<std::chrono::nanoseconds>(*out)))
      ->type_name("DURATION");
}

}  // namespace ferry::cli
