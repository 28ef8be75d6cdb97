#pragma once
// supervent-sink's command line, parsed apart from main so tests can check it.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sink/server.hpp"

namespace supervent::sink {

// A bad command line: main prints it and exits 2.
struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct Options {
    ServerConfig server;
    std::string port_file;    // write the bound port here once listening
    std::string report_file;  // write the final counters here on SIGINT/SIGTERM
    std::string faults_spec;  // as given to --faults
    std::uint64_t faults_seed = 1;
    bool help = false;
};

// Throws UsageError.
[[nodiscard]] Options parse_options(const std::vector<std::string_view>& args);

// "HOST:PORT" or "[IPV6]:PORT". Throws UsageError.
void parse_listen(std::string_view text, std::string& host, std::uint16_t& port);

[[nodiscard]] const char* usage_text() noexcept;

}  // namespace supervent::sink
