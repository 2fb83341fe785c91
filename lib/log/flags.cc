#include "log/flags.h"

namespace ferry::log {

void AddFlags(CLI::App &app, Options *options) {
  app.add_option_function<int>(
         "-v,--v",
         [options](int v) {
           options->verbosity = v;
           Configure(*options);
         },
         "log verbosity: info lines of this level and below (0: state changes "
         "and errors; 2: "
         "every reconcile; 4: API requests)")
      ->default_str(std::to_string(options->verbosity))
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  app.add_option_function<std::string>(
         "--log-format",
         [options](const std::string &text) {
           auto f = ParseFormat(text);
           if (!f.ok()) throw CLI::ValidationError("--log-format", f.status().message());
           options->format = *f;
           Configure(*options);
         },
         "text (klog style, one line per record) or json (one JSON object per "
         "line)")
      ->default_str(FormatName(options->format))
      ->type_name("FORMAT");
}

}  // namespace ferry::log
