#include "log/cli_flags.h"

#include <charconv>

#include "api/time.h"

namespace ferry::cli {

void AddHostPortFlag(CLI::App& app, const std::string& name, std::string* host, int* port,
                     const std::string& help) {
  app.add_option_function<std::string>(
         name,
         [name, host, port](const std::string& hp) {
           const auto colon = hp.rfind(':');
           const std::string want = "HOST:PORT with a port of 0-65535, got '" + hp + "'";
           if (colon == std::string::npos) throw CLI::ValidationError(name, want);
           const std::string p = hp.substr(colon + 1);
           int value = -1;
           auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
           if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value < 0 ||
               value > 65535) {
             throw CLI::ValidationError(name, want);
           }
           *host = hp.substr(0, colon);
           *port = value;
         },
         help)
      ->default_str(*host + ":" + std::to_string(*port))
      ->type_name("HOST:PORT");
}

std::chrono::nanoseconds ParsePositiveDuration(const std::string& name, const std::string& text) {
  auto d = api::ParseDuration(text);
  if (!d.ok() || d->count() <= 0) {
    throw CLI::ValidationError(name, "a positive duration such as 40s or 5m, got '" + text + "'");
  }
  return *d;
}

std::string FormatDurationFlag(std::chrono::nanoseconds d) { return api::FormatDuration(d); }

}  // namespace ferry::cli
