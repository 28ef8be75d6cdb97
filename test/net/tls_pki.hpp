#pragma once
// A throwaway PKI for the TLS tests, made by tls_certs.sh with the
// openssl command line in a fresh temp dir (once per test process), and an
// in-process supervent-sink serving HTTPS with one of its certificates.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>

#include "sink/server.hpp"

#ifndef SUPERVENT_TLS_CERTS_SCRIPT
#error "the build must define SUPERVENT_TLS_CERTS_SCRIPT (test/net/CMakeLists.txt)"
#endif

namespace supervent::net::test {

inline const std::string& pki_dir() {
    static const std::string dir = [] {
        char pattern[] = "/tmp/supervent-tls-test-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        REQUIRE(made != nullptr);
        const std::string command =
            std::string("sh '") + SUPERVENT_TLS_CERTS_SCRIPT + "' '" + made + "' >/dev/null";
        INFO("making the test PKI: " << command);
        REQUIRE(std::system(command.c_str()) == 0);
        return std::string(made);
    }();
    return dir;
}

inline std::string pki_file(const std::string& name) { return pki_dir() + "/" + name; }

// supervent-sink on 127.0.0.1 (kernel-chosen port) serving `certificate`.
// delay_ms: each answer held that long (a far sink).
inline std::unique_ptr<sink::Server> start_tls_sink(const std::string& certificate,
                                                    std::uint64_t max_body_bytes = sink::max_body_bytes_default,
                                                    std::uint32_t delay_ms = 0) {
    sink::ServerConfig config;
    config.delay_ms = delay_ms;
    config.host = "127.0.0.1";
    config.port = 0;
    config.verify = true;
    config.max_body_bytes = max_body_bytes;
    config.tls_cert_file = pki_file(certificate);
    config.tls_key_file = pki_file("server.key");
    auto server = std::make_unique<sink::Server>(config);
    server->start();
    return server;
}

}  // namespace supervent::net::test
