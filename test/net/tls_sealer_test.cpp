// TlsSession with its record sealer (net/tls_record_sealer.hpp) against a
// real OpenSSL server in memory: whatever the client seals, the server's
// SSL_read must return byte for byte, for every TLS 1.3 cipher the sealer
// takes, at every record size, across many records (sequence numbers); and
// the cases the sealer must leave to OpenSSL (TLS 1.2, AES-CCM, sealing off)
// must still work through SSL_write.
#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "net/tls_client.hpp"
#include "tls_pki.hpp"

using namespace supervent::net;
using namespace supervent::net::test;

namespace {

struct ServerOptions {
    std::string ciphersuites = "TLS_AES_256_GCM_SHA384";  // TLS 1.3 suites the server accepts
    int max_version = 0;                                  // 0: TLS 1.3
};

// One client TlsSession and one OpenSSL server SSL joined by memory.
struct Pair {
    explicit Pair(TlsClientConfig client_config, const ServerOptions& options = {}) {
        client_config.enabled = true;
        client_config.server_name = "localhost";
        client_config.ca_file = pki_file("ca.pem");
        client_config.ktls = false;
        context = std::make_unique<TlsContext>(client_config);
        // Tiny records cost up to 512 bytes each in the buffer's sizing: a smaller request bound for them.
        const std::size_t record = client_config.record_plain_bytes;
        const std::size_t request_max = record < 1024 ? 8192 : 4 << 20;
        session = std::make_unique<TlsSession>(*context, tls_out_capacity(request_max, record), tls_in_capacity);

        server_ctx = SSL_CTX_new(TLS_server_method());
        REQUIRE(server_ctx != nullptr);
        REQUIRE(SSL_CTX_use_certificate_chain_file(server_ctx, pki_file("server.pem").c_str()) == 1);
        REQUIRE(SSL_CTX_use_PrivateKey_file(server_ctx, pki_file("server.key").c_str(), SSL_FILETYPE_PEM) == 1);
        REQUIRE(SSL_CTX_set_ciphersuites(server_ctx, options.ciphersuites.c_str()) == 1);
        if (options.max_version != 0) SSL_CTX_set_max_proto_version(server_ctx, options.max_version);
        server = SSL_new(server_ctx);
        to_server = BIO_new(BIO_s_mem());
        from_server = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(to_server, -1);
        BIO_set_mem_eof_return(from_server, -1);
        SSL_set_bio(server, to_server, from_server);
        SSL_set_accept_state(server);
    }
    ~Pair() {
        SSL_free(server);
        SSL_CTX_free(server_ctx);
    }

    // Client ciphertext to the server, server ciphertext to the client.
    void shuttle() {
        CipherBuffer& out = session->out();
        if (out.pending() > 0) {
            REQUIRE(BIO_write(to_server, out.data.get() + out.begin, static_cast<int>(out.pending())) ==
                    static_cast<int>(out.pending()));
            out.begin = out.end = 0;
        }
        CipherBuffer& in = session->in();
        in.compact();
        const int got = BIO_read(from_server, in.free_space(), static_cast<int>(in.free_bytes()));
        if (got > 0) in.end += static_cast<std::size_t>(got);
    }

    void handshake() {
        session->start(false);
        for (int round = 0; round < 10; ++round) {
            const TlsStep step = session->handshake();
            INFO("client: " << session->failure());
            REQUIRE(step != TlsStep::failed);
            shuttle();
            const int served = SSL_do_handshake(server);
            shuttle();
            if (step == TlsStep::done && served == 1) return;
        }
        FAIL("the handshake did not finish");
    }

    // Everything the server decrypts from what the client has sent so far.
    std::string received() {
        shuttle();
        std::string text;
        char chunk[65536];
        for (;;) {
            std::size_t got = 0;
            if (SSL_read_ex(server, chunk, sizeof chunk, &got) != 1) break;
            text.append(chunk, got);
        }
        return text;
    }

    std::unique_ptr<TlsContext> context;
    std::unique_ptr<TlsSession> session;
    SSL_CTX* server_ctx = nullptr;
    SSL* server = nullptr;
    BIO* to_server = nullptr;
    BIO* from_server = nullptr;
};

std::string random_bytes(std::size_t bytes, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::string text(bytes, '\0');
    for (char& c : text) c = static_cast<char>(random());
    return text;
}

}  // namespace

TEST_CASE("sealed TLS 1.3 records decrypt on an OpenSSL server for each cipher and record size", "[tls][sealer]") {
    const auto [suite, name] = GENERATE(table<std::string, std::string>({
        {"TLS_AES_128_GCM_SHA256", "AES-128-GCM"},
        {"TLS_AES_256_GCM_SHA384", "AES-256-GCM"},
        {"TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305"},
    }));
    const std::size_t record = GENERATE(std::size_t{16384}, std::size_t{8192}, std::size_t{4096}, std::size_t{1});
    TlsClientConfig config;
    config.record_plain_bytes = record;
    Pair pair(config, {.ciphersuites = suite});
    pair.handshake();
    REQUIRE(pair.session->sealing());
    CHECK(std::string(pair.session->sealer().cipher_name()) == name);

    // Sizes around the record boundary, then a batch-sized request, each a
    // run of records with consecutive sequence numbers.
    std::string sent;
    std::uint32_t seed = 1;
    const std::size_t big = record == 1 ? 3000 : std::size_t{1} << 20;
    for (const std::size_t bytes : {std::size_t{1}, std::size_t{2}, record - 1, record, record + 1, 2 * record, big}) {
        const std::string piece = random_bytes(bytes, seed++);
        REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
        sent += piece;
    }
    const std::uint64_t records = pair.session->sealer().sequence();
    CHECK(records >= 6);
    CHECK(pair.received() == sent);
}

TEST_CASE("each sealed record holds at most the record size and costs 22 bytes", "[tls][sealer]") {
    TlsClientConfig config;
    config.record_plain_bytes = 4096;
    Pair pair(config);
    pair.handshake();
    REQUIRE(pair.session->sealing());
    const std::string piece = random_bytes(10000, 7);  // 4096 + 4096 + 1808
    REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
    const CipherBuffer& out = pair.session->out();
    REQUIRE(out.pending() == 10000 + 3 * tls13_record_overhead);
    const auto* bytes = reinterpret_cast<const unsigned char*>(out.data.get() + out.begin);
    std::size_t at = 0;
    for (const std::size_t plain : {4096, 4096, 1808}) {
        CHECK(bytes[at] == 23);  // opaque_type: application_data
        CHECK(bytes[at + 1] == 3);
        CHECK(bytes[at + 2] == 3);
        CHECK(((std::size_t{bytes[at + 3]} << 8) | bytes[at + 4]) == plain + 1 + 16);
        at += 5 + plain + 1 + 16;
    }
    CHECK(pair.received() == piece);
}

TEST_CASE("an alert OpenSSL writes after the handover is sealed as an alert record", "[tls][sealer]") {
    Pair pair(TlsClientConfig{});
    pair.handshake();
    REQUIRE(pair.session->sealing());
    const std::string piece = "POST / HTTP/1.1\r\n\r\n";
    REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
    // close_notify: OpenSSL names the record type (BIO ctrl), then writes it.
    pair.session->set_next_record_type(21);
    const char close_notify[2] = {1, 0};
    CHECK(pair.session->write_after_handover(close_notify, 2) == 2);
    CHECK(pair.received() == piece);
    CHECK(SSL_get_error(pair.server, 0) == SSL_ERROR_ZERO_RETURN);
    // A handshake message (a KeyUpdate) is refused: its new keys would stay in OpenSSL.
    pair.session->set_next_record_type(22);
    CHECK(pair.session->write_after_handover(close_notify, 2) == -1);
}

TEST_CASE("TLS 1.2 and AES-CCM and sealing switched off stay with SSL_write", "[tls][sealer]") {
    SECTION("TLS 1.2") {
        Pair pair(TlsClientConfig{}, {.max_version = TLS1_2_VERSION});
        pair.handshake();
        CHECK_FALSE(pair.session->sealing());
        const std::string piece = random_bytes(40000, 3);
        REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
        CHECK(pair.received() == piece);
    }
    SECTION("AES-128-CCM, which the sealer does not take") {
        TlsClientConfig config;
        Pair pair(config, {.ciphersuites = "TLS_AES_128_CCM_SHA256"});
        REQUIRE(SSL_CTX_set_ciphersuites(pair.context->raw(), "TLS_AES_128_CCM_SHA256") == 1);
        pair.handshake();
        CHECK_FALSE(pair.session->sealing());
        const std::string piece = random_bytes(40000, 4);
        REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
        CHECK(pair.received() == piece);
    }
    SECTION("seal_records = false") {
        TlsClientConfig config;
        config.seal_records = false;
        Pair pair(config);
        pair.handshake();
        CHECK_FALSE(pair.session->sealing());
        const std::string piece = random_bytes(40000, 5);
        REQUIRE(pair.session->encrypt(piece.data(), piece.size()));
        CHECK(pair.received() == piece);
    }
}

TEST_CASE("a key past its record limit asks for a new connection and then refuses", "[tls][sealer]") {
    TlsClientConfig config;
    config.records_per_key_renew = 4;
    config.records_per_key_max = 6;
    Pair pair(config);
    pair.handshake();
    REQUIRE(pair.session->sealing());
    const std::size_t record = tls13_record_plain_max;
    const std::string three(3 * record, 'x');
    CHECK_FALSE(pair.session->must_renew(three.size()));
    REQUIRE(pair.session->encrypt(three.data(), three.size()));  // records 0..2
    CHECK(pair.session->must_renew(2 * record));                   // would pass 4
    REQUIRE(pair.session->encrypt(three.data(), three.size()));  // up to the hard limit: 6
    CHECK_FALSE(pair.session->encrypt(three.data(), 1));         // a 7th record is refused
    CHECK(pair.received().size() == 6 * record);
}

TEST_CASE("a KeyUpdate the server requests makes the connection due for renewal", "[tls][sealer]") {
    Pair pair(TlsClientConfig{});
    pair.handshake();
    REQUIRE(pair.session->sealing());
    CHECK_FALSE(pair.session->must_renew(100));
    REQUIRE(SSL_key_update(pair.server, SSL_KEY_UPDATE_REQUESTED) == 1);
    std::size_t written = 0;
    REQUIRE(SSL_write_ex(pair.server, "HTTP/1.1 200 OK\r\n", 17, &written) == 1);
    pair.shuttle();
    char answer[64];
    std::size_t produced = 0;
    CHECK(pair.session->decrypt(answer, sizeof answer, produced) == TlsStep::want_more);
    CHECK(std::string(answer, produced) == "HTTP/1.1 200 OK\r\n");
    CHECK(pair.session->must_renew(100));
}
