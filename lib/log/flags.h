// Logging flags for a CLI11 command line: -v/--v N (klog's verbosity) and
// --log-format text|json. Parsing configures lib/log at once, so later flag
// errors are logged as chosen.
#pragma once

#include <CLI/CLI.hpp>

#include "log/log.h"

namespace ferry::log {

// Adds -v,--v and --log-format to `app`; each takes effect (log::Configure)
// when parsed. `options` (owned by the caller, alive while `app` parses)
// receives the values.
void AddFlags(CLI::App &app, Options *options);

}  // namespace ferry::log
