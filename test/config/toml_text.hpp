#pragma once
// Loading TOML text in tests, and catching the error it must raise.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "config/load.hpp"

namespace supervent::test {

// Loads `text` as if it were the file `origin` (which error messages name).
inline config::Settings load_toml_as(std::string_view text, const std::string& origin) {
    return config::load_toml_text(text, origin);
}

// The message of the ConfigError that loading `text` as `origin` throws.
inline std::string toml_error_as(std::string_view text, const std::string& origin) {
    try {
        (void)load_toml_as(text, origin);
    } catch (const config::ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError for:\n" << text);
    return {};
}

}  // namespace supervent::test
