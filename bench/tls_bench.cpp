// What TLS costs superventd per byte, beside memcpy of the same bytes and
// OpenSSL's own SSL_write, all in one process and one run: web_access
// batches encrypted by a TlsSession (net/tls_client.hpp) as a shard does it,
// with the record sealer at 16, 8 and 4 KiB records and with SSL_write (the
// path before the sealer, and what wrk or any OpenSSL client does), for
// AES-256-GCM and AES-128-GCM; the server side's SSL_read of the same
// records (what supervent-sink pays); and full against resumed handshakes.
//
// Times are the thread's CPU time, best of 3, so a loaded machine moves them
// less than wall-clock rates. The server is OpenSSL in memory BIOs; its
// decryption of each row's records is checked against the batches.
//
// usage: supervent-bench-tls [--batches K] [--rounds R]
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/thread_cpu.hpp"
#include "core/event_source.hpp"
#include "net/tls_client.hpp"

namespace {

using namespace supervent;

std::vector<std::string> make_batches(std::uint32_t batch, std::uint32_t count) {
    const auto source = core::make_builtin_source("web_access", core::SourceIdentity{42, 0, 1}, batch);
    std::vector<char> room(std::size_t{batch} * source->event_bytes_max());
    std::vector<std::string> out;
    std::int64_t t_ns = 1'795'000'000'000'000'000;
    for (std::uint32_t i = 0; i < count; ++i, t_ns += 1'000'000'000) {
        const std::size_t bytes = source->write_ndjson(batch, {t_ns, t_ns + 1'000'000'000}, room);
        out.emplace_back(room.data(), bytes);
    }
    return out;
}

void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

// An OpenSSL server in memory BIOs with the test PKI.
struct Server {
    explicit Server(const std::string& pki, const char* suites) : ctx(SSL_CTX_new(TLS_server_method())) {
        require(SSL_CTX_use_certificate_chain_file(ctx, (pki + "/server.pem").c_str()) == 1, "server.pem");
        require(SSL_CTX_use_PrivateKey_file(ctx, (pki + "/server.key").c_str(), SSL_FILETYPE_PEM) == 1, "server.key");
        require(SSL_CTX_set_ciphersuites(ctx, suites) == 1, "ciphersuites");
    }
    ~Server() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    void fresh() {
        SSL_free(ssl);
        ssl = SSL_new(ctx);
        in = BIO_new(BIO_s_mem());
        out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in, -1);
        BIO_set_mem_eof_return(out, -1);
        SSL_set_bio(ssl, in, out);
        SSL_set_accept_state(ssl);
    }
    SSL_CTX* ctx;
    SSL* ssl = nullptr;
    BIO* in = nullptr;
    BIO* out = nullptr;
};

void shuttle(net::TlsSession& client, Server& server) {
    net::CipherBuffer& out = client.out();
    if (out.pending() > 0) BIO_write(server.in, out.data.get() + out.begin, static_cast<int>(out.pending()));
    out.begin = out.end = 0;
    net::CipherBuffer& in = client.in();
    in.compact();
    const int got = BIO_read(server.out, in.free_space(), static_cast<int>(in.free_bytes()));
    if (got > 0) in.end += static_cast<std::size_t>(got);
}

void handshake(net::TlsSession& client, Server& server) {
    server.fresh();
    client.start(false);
    for (int round = 0; round < 10; ++round) {
        const net::TlsStep step = client.handshake();
        require(step != net::TlsStep::failed, "client handshake");
        shuttle(client, server);
        const int served = SSL_do_handshake(server.ssl);
        shuttle(client, server);
        if (step == net::TlsStep::done && served == 1) return;
    }
    throw std::runtime_error("the handshake did not finish");
}

struct Row {
    std::string name;
    double encrypt_s = 1e9;  // client CPU to encrypt every batch once
    double decrypt_s = 1e9;  // server CPU to decrypt them once
    std::size_t wire = 0;
};

Row measure(const std::string& name, const std::string& pki, const char* suites, bool seal, std::size_t record,
            const std::vector<std::string>& batches, int rounds) {
    net::TlsClientConfig config;
    config.enabled = true;
    config.server_name = "localhost";
    config.ca_file = pki + "/ca.pem";
    config.ktls = false;
    config.seal_records = seal;
    config.record_plain_bytes = record;
    net::TlsContext context(config);
    std::size_t largest = 0;
    for (const auto& b : batches) largest = std::max(largest, b.size());
    net::TlsSession client(context, net::tls_out_capacity(largest, record), net::tls_in_capacity);
    Server server(pki, suites);
    handshake(client, server);
    require(client.sealing() == seal, "sealing as configured");
    Row row{name};
    std::string plain(largest, '\0');
    for (int r = 0; r < rounds; ++r) {
        double encrypt = 0;
        double decrypt = 0;
        row.wire = 0;
        for (const auto& batch : batches) {
            const double t0 = supervent::bench::thread_cpu_s();
            require(client.encrypt(batch.data(), batch.size()), "encrypt");
            const double t1 = supervent::bench::thread_cpu_s();
            net::CipherBuffer& out = client.out();
            row.wire += out.pending();
            BIO_write(server.in, out.data.get() + out.begin, static_cast<int>(out.pending()));
            out.begin = out.end = 0;
            const double t2 = supervent::bench::thread_cpu_s();
            std::size_t got = 0;
            std::size_t total = 0;
            while (total < batch.size() &&
                   SSL_read_ex(server.ssl, plain.data() + total, batch.size() - total, &got) == 1) {
                total += got;
            }
            const double t3 = supervent::bench::thread_cpu_s();
            require(total == batch.size() && std::memcmp(plain.data(), batch.data(), total) == 0,
                    "the server decrypted other bytes");
            encrypt += t1 - t0;
            decrypt += t3 - t2;
        }
        row.encrypt_s = std::min(row.encrypt_s, encrypt);
        row.decrypt_s = std::min(row.decrypt_s, decrypt);
    }
    return row;
}

// CPU per handshake (client + server), full or resuming the kept session.
double handshake_us(const std::string& pki, bool resume, int count) {
    net::TlsClientConfig config;
    config.enabled = true;
    config.server_name = "localhost";
    config.ca_file = pki + "/ca.pem";
    config.ktls = false;
    net::TlsContext context(config);
    net::TlsSession client(context, net::tls_out_capacity(1 << 16), net::tls_in_capacity);
    Server server(pki, "TLS_AES_256_GCM_SHA384");
    // The ticket arrives after the handshake: reading a first answer (as the
    // transport does) keeps it; TLS 1.3 tickets are used once.
    const auto read_ticket = [&] {
        SSL_write(server.ssl, "x", 1);
        shuttle(client, server);
        char answer[16];
        std::size_t produced = 0;
        (void)client.decrypt(answer, sizeof answer, produced);
    };
    handshake(client, server);
    read_ticket();
    require(context.session() != nullptr, "a session ticket");
    double best = 1e9;
    for (int round = 0; round < 3; ++round) {
        const double t0 = supervent::bench::thread_cpu_s();
        for (int i = 0; i < count; ++i) {
            if (!resume) context.keep_session(nullptr);
            handshake(client, server);
            read_ticket();
            if (client.resumed() != resume) throw std::runtime_error(std::string("resumed as asked: wanted ") + (resume ? "resumed" : "full") + " round " + std::to_string(i));
        }
        best = std::min(best, (supervent::bench::thread_cpu_s() - t0) / count * 1e6);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t batch_count = 8;
    int rounds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--batches") == 0) batch_count = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    }
    char pattern[] = "/tmp/supervent-bench-tls-XXXXXX";
    const char* dir = ::mkdtemp(pattern);
    require(dir != nullptr, "mkdtemp");
    const std::string pki = std::string(dir) + "/pki";
    const std::string script = std::string(SUPERVENT_TLS_CERTS_SCRIPT) + " '" + pki + "' >/dev/null 2>&1";
    require(std::system(("sh " + script).c_str()) == 0, "tls_certs.sh");

    const auto batches = make_batches(2000, batch_count);
    std::size_t bytes = 0;
    for (const auto& b : batches) bytes += b.size();
    std::string copy(bytes, '\0');
    double copy_s = 1e9;
    for (int r = 0; r < rounds; ++r) {
        const double t0 = supervent::bench::thread_cpu_s();
        std::size_t at = 0;
        for (const auto& b : batches) {
            std::memcpy(copy.data() + at, b.data(), b.size());
            at += b.size();
        }
        copy_s = std::min(copy_s, supervent::bench::thread_cpu_s() - t0);
    }

    std::vector<Row> rows;
    for (const auto& [suite, cipher] : {std::pair{"TLS_AES_256_GCM_SHA384", "AES-256-GCM"},
                                        std::pair{"TLS_AES_128_GCM_SHA256", "AES-128-GCM"}}) {
        rows.push_back(measure(std::string("SSL_write (OpenSSL, 16 KiB) ") + cipher, pki, suite, false, 16384, batches,
                               rounds));
        for (const std::size_t record : {16384, 8192, 4096}) {
            rows.push_back(measure("sealer " + std::to_string(record / 1024) + " KiB " + cipher, pki, suite, true,
                                   record, batches, rounds));
        }
    }
    std::printf("%zu web_access batches of 2,000 events, %.1f MB; thread CPU, best of %d\n", batches.size(),
                double(bytes) / 1e6, rounds);
    std::printf("%-36s %10s %10s %9s %10s %10s\n", "client encryption", "MB/s", "ns/event", "overhead",
                "server MB/s", "× SSL_write");
    std::printf("%-36s %10.0f %10.3f %9s\n", "memcpy of the same bytes", double(bytes) / copy_s / 1e6,
                copy_s / double(batches.size() * 2000) * 1e9, "");
    double ssl_write_s = 0;
    for (const Row& row : rows) {
        if (row.name.rfind("SSL_write", 0) == 0) ssl_write_s = row.encrypt_s;
        std::printf("%-36s %10.0f %10.3f %8.2f%% %10.0f %10.2f\n", row.name.c_str(), double(bytes) / row.encrypt_s / 1e6,
                    row.encrypt_s / double(batches.size() * 2000) * 1e9,
                    100.0 * double(row.wire - bytes) / double(bytes), double(bytes) / row.decrypt_s / 1e6,
                    ssl_write_s / row.encrypt_s);
    }
    const double full = handshake_us(pki, false, 50);
    const double resumed = handshake_us(pki, true, 50);
    std::printf("handshake CPU (client + server, P-256 certificate): full %.0f µs, resumed %.0f µs (%.2f×)\n", full,
                resumed, full / resumed);
    std::system((std::string("rm -rf '") + dir + "'").c_str());
    return 0;
}
