#pragma once
// Programs of the scenarios built into the binary.
#include <memory>

#include "core/program.hpp"

namespace supervent::core {

// Web access logs: an Apache combined log line as message plus its fields as
// attributes, in the DESIGN.md §4 shape.
[[nodiscard]] std::shared_ptr<const Program> web_access_program();

}  // namespace supervent::core
