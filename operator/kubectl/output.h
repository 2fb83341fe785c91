// Output of `kubectl ferry`: a table by default, or the command's model as JSON or YAML
// (`-o json|yaml`), as kubectl prints. Every command builds one JSON model and renders it, so
// the three formats always say the same thing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ferry::kubectl {

using Json = nlohmann::json;

enum class OutputFormat { kTable, kJson, kYaml };

// "" or "table" → kTable, "json", "yaml"; anything else is kInvalid.
StatusOr<OutputFormat> ParseOutputFormat(std::string_view text);

// kubectl's table: upper-case headers, columns left-aligned and separated by three spaces,
// the last column not padded. Cells are single lines.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// YAML block style (yaml-cpp), keys in the model's order; strings that would read as another
// type are quoted.
std::string ToYaml(const Json& model);

// kJson: indented by two; kYaml: ToYaml. kTable is the caller's (each command has its own).
std::string RenderData(const Json& model, OutputFormat format);

// A model's string field, "" when missing or not a string; an integer field, 0 likewise.
std::string Str(const Json& j, const char* key);
int64_t Int(const Json& j, const char* key);

}  // namespace ferry::kubectl
