#pragma once
// TLS for the HTTP transport without letting OpenSSL touch a socket: the
// ring does every send and recv, OpenSSL only turns bytes into bytes.
//
// Each connection's SSL sits on one custom BIO over two preallocated byte
// buffers: `in` (ciphertext the ring received, read by OpenSSL) and `out`
// (ciphertext OpenSSL wrote, sent by the ring from that stable buffer). So a
// request is one SSL_write of the slot's head + body straight into `out`,
// then one ring send; nothing is allocated per request.
//
// Kernel TLS: when the kernel has the TLS ULP, OpenSSL (SSL_OP_ENABLE_KTLS)
// hands the transmit keys to the BIO once the handshake is done; the
// transport installs them with setsockopt(TLS_TX) after the last handshake
// bytes are on the wire, and from then on sends slots as plaintext with
// WRITE_FIXED (the kernel encrypts). Receiving stays in OpenSSL. Only TLS 1.3
// is offloaded: TLS 1.2 writes its Finished after the key change, which
// would need record-type control messages on the socket.
//
// Without the ULP the same keys go to a TlsRecordSealer
// (net/tls_record_sealer.hpp): TLS 1.3 application records are sealed
// straight from the slot into `out` in one pass, not copied by SSL_write
// into OpenSSL's buffer, encrypted there and copied again into `out`.
// Other versions and ciphers keep SSL_write.
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "net/tls_record_sealer.hpp"

namespace supervent::net {

struct TlsClientConfig {
    bool enabled = false;
    std::string server_name;   // SNI and the name the certificate must carry (or an IP literal)
    std::string ca_file;       // PEM bundle to trust instead of the system store; empty = system store
    bool skip_verify = false;  // --tls-insecure-skip-verify: no certificate or name checks at all
    bool ktls = true;          // offload transmit encryption to the kernel where it can
    int max_version = 0;       // 0 = TLS 1.3; tests pin TLS1_2_VERSION
    // Without kTLS, seal TLS 1.3 records ourselves (one pass from the slot)
    // instead of SSL_write; false = SSL_write (benchmarks, tests).
    bool seal_records = true;
    std::size_t record_plain_bytes = tls13_record_plain_max;  // per sealed record, 1 to 16 KiB
    // Records one key seals before its connection is renewed, and the most
    // (RFC 8446 §5.5); 0 = the sealer's defaults. Tests lower them.
    std::uint64_t records_per_key_renew = 0;
    std::uint64_t records_per_key_max = 0;
    std::size_t request_bytes_max = 0;  // largest plaintext request (a slot): sizes the ciphertext buffer
};

// A start-up failure (unreadable CA file, OpenSSL refusing a setting).
struct TlsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Ciphertext waiting to be sent or to be decrypted: [begin, end) of data.
struct CipherBuffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
    std::size_t begin = 0;
    std::size_t end = 0;

    [[nodiscard]] std::size_t pending() const { return end - begin; }
    [[nodiscard]] char* free_space() { return data.get() + end; }
    [[nodiscard]] std::size_t free_bytes() const { return capacity - end; }
    // Moves pending bytes to the front (only while the kernel holds no part of it).
    void compact();
};

// One SSL_CTX per transport (so per shard thread) and the session it keeps
// for resumption across reconnects.
class TlsContext {
public:
    explicit TlsContext(TlsClientConfig config);  // throws TlsError
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    [[nodiscard]] SSL_CTX* raw() const { return ctx_; }
    [[nodiscard]] const TlsClientConfig& config() const { return config_; }
    // The latest session the server gave us (null before the first one).
    [[nodiscard]] SSL_SESSION* session() const { return session_; }
    void keep_session(SSL_SESSION* session);  // takes the reference

private:
    TlsClientConfig config_;
    SSL_CTX* ctx_ = nullptr;
    SSL_SESSION* session_ = nullptr;
};

// What a call into OpenSSL left to do.
enum class TlsStep : std::uint8_t {
    done,       // handshake finished / data went through
    want_more,  // needs ciphertext from the peer
    closed,     // the peer sent close_notify
    failed,     // a protocol or verification error: see failure()
};

// One connection's TLS state; reused across reconnects of that connection.
class TlsSession {
public:
    TlsSession(TlsContext& context, std::size_t out_capacity, std::size_t in_capacity);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // A fresh SSL for a freshly connected socket, offering the kept session.
    // `ktls_ulp` says the socket has the kernel's TLS ULP attached.
    void start(bool ktls_ulp);
    // Runs the handshake as far as the received bytes allow; what it wants
    // sent is appended to out().
    [[nodiscard]] TlsStep handshake();
    // Encrypts plaintext into out(). False when out() lacks room (a sizing
    // bug) or OpenSSL fails.
    [[nodiscard]] bool encrypt(const char* data, std::size_t bytes);
    // Before the next request of `bytes`: this connection's transmit keys
    // cannot carry it: the sealer's key is due for renewal, or the peer
    // asked for a KeyUpdate we cannot follow (the keys are outside OpenSSL).
    // The transport replaces the connection; a fresh handshake has fresh keys.
    [[nodiscard]] bool must_renew(std::size_t bytes) const;
    // Decrypts from in() into dest; `produced` counts plaintext bytes.
    [[nodiscard]] TlsStep decrypt(char* dest, std::size_t room, std::size_t& produced);

    [[nodiscard]] CipherBuffer& out() { return out_; }
    [[nodiscard]] CipherBuffer& in() { return in_; }

    // After a failed handshake: whether the certificate check failed, and a
    // message naming the check and what to configure.
    [[nodiscard]] bool verify_failed() const { return verify_failed_; }
    [[nodiscard]] const std::string& failure() const { return failure_; }
    [[nodiscard]] bool resumed() const;
    [[nodiscard]] const char* version() const;

    // kTLS: OpenSSL offered the transmit keys (TLS 1.3 on a ULP socket).
    [[nodiscard]] bool ktls_keys_ready() const { return ktls_info_bytes_ != 0; }
    // Installs them on fd (setsockopt SOL_TLS/TLS_TX). Returns 0 or an errno.
    [[nodiscard]] int install_ktls_tx(int fd);

    // Records are sealed by our TlsRecordSealer (TLS 1.3 without the ULP).
    [[nodiscard]] bool sealing() const { return sealer_.active(); }
    [[nodiscard]] const TlsRecordSealer& sealer() const { return sealer_; }

    // For the BIO (tls_client.cpp): the kernel or the sealer owns transmit
    // encryption from now on; OpenSSL writes plaintext to the BIO.
    bool offer_ktls_keys(const void* crypto_info, bool transmit);
    [[nodiscard]] bool ktls_tx_active() const { return ktls_info_bytes_ != 0 || sealer_.active(); }
    // A control record OpenSSL writes after the handover (BIO ctrl 74/75).
    void set_next_record_type(int type) { next_record_type_ = type; }
    // OpenSSL writing through the BIO after the handover: sealed as one or
    // more records of the pending type. -1 with the kernel (it cannot frame
    // control records here) or for a handshake message (a KeyUpdate would
    // change keys OpenSSL no longer holds).
    int write_after_handover(const char* data, std::size_t bytes);

private:
    void release();
    void describe_failure(int ssl_error);
    void describe_verify_failure(long result);

    TlsContext& context_;
    SSL* ssl_ = nullptr;
    CipherBuffer out_;
    CipherBuffer in_;
    bool ktls_ulp_ = false;
    bool verify_failed_ = false;
    std::string failure_;
    // struct tls12_crypto_info_* as OpenSSL filled it (at most 56 bytes today).
    alignas(8) unsigned char ktls_info_[128] = {};
    std::size_t ktls_info_bytes_ = 0;
    TlsRecordSealer sealer_;
    int next_record_type_ = 0;  // 0: application data
};

// Attaches the kernel TLS ULP to a connected TCP socket. Returns 0 or an
// errno (ENOENT: no tls module; this is the run-time kTLS probe).
[[nodiscard]] int attach_ktls_ulp(int fd);

// The ciphertext buffer a connection needs for requests of `request_bytes`
// cut into records of at most `record_plain_bytes`.
[[nodiscard]] std::size_t tls_out_capacity(std::size_t request_bytes,
                                           std::size_t record_plain_bytes = tls13_record_plain_max);
inline constexpr std::size_t tls_in_capacity = 64 * 1024;

}  // namespace supervent::net
