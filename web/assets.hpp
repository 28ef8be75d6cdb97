#pragma once
// The dashboard's files (web/*.html, *.js, *.css), embedded in the binary at
// build time by web/embed.cmake, so the page needs nothing from the network
// or the disk.
#include <array>
#include <cstddef>
#include <string_view>

namespace supervent::web {

struct Asset {
    std::string_view path;          // "/" for index.html, else "/NAME"
    std::string_view content_type;
    std::string_view body;
};

// The asset served at `path`, or nullptr.
[[nodiscard]] const Asset* find_asset(std::string_view path);

// All assets together: what the page weighs (kept under 300 KB by a test).
[[nodiscard]] std::size_t assets_bytes();

}  // namespace supervent::web
