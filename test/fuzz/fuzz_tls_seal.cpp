// The TLS 1.3 record sealer (net/tls_record_sealer.hpp), differentially:
// requests of the sizes the input picks are sealed by a TlsSession on a
// connection that lives across inputs (so sequence numbers keep counting),
// and an OpenSSL server in memory must decrypt exactly those bytes.
// The first byte picks the cipher and the record size (12 connections).
#include <openssl/ssl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "net/tls_client.hpp"

#ifndef SUPERVENT_TLS_CERTS_SCRIPT
#error "the build must define SUPERVENT_TLS_CERTS_SCRIPT"
#endif

namespace {

using namespace supervent::net;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_tls_seal: %s\n", what);
        std::abort();
    }
}

const std::string& pki() {
    static const std::string dir = [] {
        char pattern[] = "/tmp/supervent-fuzz-tls-XXXXXX";
        check(::mkdtemp(pattern) != nullptr, "mkdtemp");
        const std::string command =
            std::string("sh '") + SUPERVENT_TLS_CERTS_SCRIPT + "' '" + pattern + "' >/dev/null 2>&1";
        check(std::system(command.c_str()) == 0, "tls_certs.sh");
        return std::string(pattern);
    }();
    return dir;
}

struct Connection {
    Connection(const char* suite, std::size_t record) {
        TlsClientConfig config;
        config.enabled = true;
        config.server_name = "localhost";
        config.ca_file = pki() + "/ca.pem";
        config.ktls = false;
        config.record_plain_bytes = record;
        context = std::make_unique<TlsContext>(config);
        client = std::make_unique<TlsSession>(*context, tls_out_capacity(1 << 16, record), tls_in_capacity);
        server_ctx = SSL_CTX_new(TLS_server_method());
        check(SSL_CTX_use_certificate_chain_file(server_ctx, (pki() + "/server.pem").c_str()) == 1, "cert");
        check(SSL_CTX_use_PrivateKey_file(server_ctx, (pki() + "/server.key").c_str(), SSL_FILETYPE_PEM) == 1, "key");
        check(SSL_CTX_set_ciphersuites(server_ctx, suite) == 1, "suite");
        server = SSL_new(server_ctx);
        to_server = BIO_new(BIO_s_mem());
        from_server = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(to_server, -1);
        BIO_set_mem_eof_return(from_server, -1);
        SSL_set_bio(server, to_server, from_server);
        SSL_set_accept_state(server);
        client->start(false);
        for (int round = 0; round < 10; ++round) {
            const TlsStep step = client->handshake();
            check(step != TlsStep::failed, "client handshake");
            shuttle();
            const int served = SSL_do_handshake(server);
            shuttle();
            if (step == TlsStep::done && served == 1) break;
        }
        check(client->sealing(), "the sealer took the keys");
    }
    ~Connection() {
        SSL_free(server);  // frees both BIOs
        SSL_CTX_free(server_ctx);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    void shuttle() {
        CipherBuffer& out = client->out();
        if (out.pending() > 0) BIO_write(to_server, out.data.get() + out.begin, static_cast<int>(out.pending()));
        out.begin = out.end = 0;
        CipherBuffer& in = client->in();
        in.compact();
        const int got = BIO_read(from_server, in.free_space(), static_cast<int>(in.free_bytes()));
        if (got > 0) in.end += static_cast<std::size_t>(got);
    }
    std::unique_ptr<TlsContext> context;
    std::unique_ptr<TlsSession> client;
    SSL_CTX* server_ctx = nullptr;
    SSL* server = nullptr;
    BIO* to_server = nullptr;
    BIO* from_server = nullptr;
};

Connection& connection(std::uint8_t pick) {
    static const char* const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                         "TLS_CHACHA20_POLY1305_SHA256"};
    static const std::size_t records[] = {1, 7, 4096, 16384};
    static std::unique_ptr<Connection> made[12];
    const std::size_t index = pick % 12;
    if (!made[index]) made[index] = std::make_unique<Connection>(suites[index % 3], records[index / 3]);
    return *made[index];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    Connection& conn = connection(data[0]);
    const auto* text = reinterpret_cast<const char*>(data + 1);
    std::size_t left = size - 1;
    std::vector<char> plain(1 << 16);
    while (left > 0) {
        // The next request: as many of the remaining bytes as their first byte (×97) says.
        const std::size_t bytes = std::min<std::size_t>(left, std::size_t{static_cast<std::uint8_t>(text[0])} * 97 + 1);
        check(conn.client->encrypt(text, bytes), "encrypt");
        conn.shuttle();
        std::size_t total = 0;
        std::size_t got = 0;
        while (total < bytes && SSL_read_ex(conn.server, plain.data() + total, plain.size() - total, &got) == 1) {
            total += got;
        }
        check(total == bytes, "the server decrypted a different number of bytes");
        check(std::memcmp(plain.data(), text, bytes) == 0, "the server decrypted other bytes");
        text += bytes;
        left -= bytes;
    }
    return 0;
}
