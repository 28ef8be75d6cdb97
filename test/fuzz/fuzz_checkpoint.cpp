// libFuzzer target: the backfill checkpoint reader (daemon::parse_checkpoint).
// A checkpoint file may be damaged (a full disk, a hand edit). The contract
// fuzzed: any text is either read or refused with a std::runtime_error naming
// the file; nothing else escapes, nothing crashes; what is read writes back
// to text that reads as the same checkpoint.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <typeinfo>

#include "daemon/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(bytes), size);
    try {
        const supervent::daemon::Checkpoint read = supervent::daemon::parse_checkpoint(text, "fuzz.checkpoint");
        const supervent::daemon::Checkpoint again =
            supervent::daemon::parse_checkpoint(supervent::daemon::checkpoint_text(read), "again");
        if (!(again == read)) {
            std::fprintf(stderr, "fuzz_checkpoint: written and read back, the checkpoint changed\n");
            std::abort();
        }
    } catch (const std::runtime_error& error) {
        if (!std::string_view(error.what()).starts_with("fuzz.checkpoint")) {
            std::fprintf(stderr, "fuzz_checkpoint: an error that does not name the file: %s\n", error.what());
            std::abort();
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "fuzz_checkpoint: %s escaped the reader: %s\n", typeid(error).name(), error.what());
        std::abort();
    }
    return 0;
}
