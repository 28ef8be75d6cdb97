// dictionary: fuzz_yaml.dict
// libFuzzer target: `supervent-ctl convert`, the original tool's YAML turned
// into the native TOML (config::load_yaml_text, then config::to_toml). The
// contract fuzzed: any text is converted or refused with a ConfigError naming
// the file; what convert prints always loads back as TOML (the operator runs
// it next); nothing else escapes, nothing crashes, nothing leaks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "config/load.hpp"
#include "config/toml_write.hpp"
#include "config/yaml_load.hpp"

namespace {

[[noreturn]] void broken(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz_convert: invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    std::string toml;
    try {
        toml = supervent::config::to_toml(supervent::config::load_yaml_text(text, "fuzz.yaml"));
    } catch (const supervent::config::ConfigError& error) {
        if (!std::string_view(error.what()).starts_with("fuzz.yaml")) broken("a ConfigError without the file", error.what());
        return 0;
    } catch (const std::exception& error) {
        broken(typeid(error).name(), error.what());
    }
    try {
        (void)supervent::config::load_toml_text(toml, "converted.toml");
    } catch (const std::exception& error) {
        broken("what convert printed does not load", error.what());
    }
    return 0;
}
