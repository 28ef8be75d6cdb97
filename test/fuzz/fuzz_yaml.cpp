// dictionary: fuzz_yaml.dict
// libFuzzer target: the YAML loader for the original tool's files (config::load_yaml_text), which
// also compiles their sources. The contract fuzzed: any text is
// either loaded or refused with a ConfigError naming where ("ORIGIN:LINE: ..."
// or "ORIGIN: ..."); nothing else escapes, nothing crashes, nothing leaks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "config/load.hpp"
#include "config/yaml_load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    try {
        const supervent::config::Settings settings = supervent::config::load_yaml_text(text, "fuzz.yaml");
        (void)supervent::config::describe(settings);
    } catch (const supervent::config::ConfigError& error) {
        if (!std::string_view(error.what()).starts_with("fuzz.yaml")) {
            std::fprintf(stderr, "fuzz_yaml: a ConfigError that does not name the file: %s\n", error.what());
            std::abort();
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "fuzz_yaml: %s escaped the loader (not a ConfigError): %s\n", typeid(error).name(),
                     error.what());
        std::abort();
    }
    return 0;
}
