#pragma once
// The scenarios built into the binary, written in the source model.
#include <memory>

#include "core/program.hpp"
#include "core/schema.hpp"

namespace supervent::core {

// Web access logs: an Apache combined log line as message plus its fields as
// attributes, in the DESIGN.md §4 shape.
[[nodiscard]] SourceSpec web_access_spec();
[[nodiscard]] std::shared_ptr<const Program> web_access_program();

}  // namespace supervent::core
