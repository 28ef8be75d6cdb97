#pragma once
// TLS 1.3 record protection for the transmit direction, done here instead of
// in OpenSSL's SSL_write: "kTLS TX in user space".
//
// OpenSSL's SSL_write copies each request into its own write buffer,
// encrypts it there, and our BIO then copies the records into the
// connection's registered ciphertext buffer: two copies per byte besides the
// encryption (~15 % of superventd's CPU over HTTPS, BENCHMARKS.md). The
// sealer encrypts straight from the slot into that buffer in one pass.
//
// It takes the keys the way the kernel would: after the handshake OpenSSL
// hands a kTLS-capable BIO a struct tls12_crypto_info_* (linux/tls.h: key,
// salt + iv, record sequence) for the client's application traffic; the BIO
// (tls_client.cpp) gives it to the kernel when the socket has the TLS ULP, and
// to a sealer otherwise. OpenSSL keeps the receive side and writes any later
// control record (an alert) through the BIO, which the sealer seals too.
//
// Only TLS 1.3 with AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305: start()
// refuses anything else, the BIO then refuses the keys, and OpenSSL keeps
// encrypting as before (TLS 1.2, AES-CCM).
//
// A key seals at most tls13_records_per_key_renew records before the
// connection should be renewed (RFC 8446 §5.5 allows AES-GCM 2^24.5); past
// tls13_records_per_key_max it refuses to seal.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>

namespace supervent::net {

inline constexpr std::size_t tls13_record_plain_max = 16 * 1024;  // RFC 8446 §5.1: 2^14
inline constexpr std::size_t tls13_record_header_bytes = 5;
inline constexpr std::size_t tls13_record_tag_bytes = 16;
// Header, the inner content type byte, the AEAD tag.
inline constexpr std::size_t tls13_record_overhead = tls13_record_header_bytes + 1 + tls13_record_tag_bytes;
inline constexpr std::uint64_t tls13_records_per_key_renew = std::uint64_t{1} << 24;
inline constexpr std::uint64_t tls13_records_per_key_max = (std::uint64_t{1} << 24) + (std::uint64_t{1} << 22);

// TLS content types (RFC 8446 §5.1) a client writes after the handshake.
enum class TlsRecordType : std::uint8_t { alert = 21, handshake = 22, application_data = 23 };

class TlsRecordSealer {
public:
    TlsRecordSealer();  // throws std::runtime_error when OpenSSL cannot make a cipher context
    ~TlsRecordSealer();
    TlsRecordSealer(const TlsRecordSealer&) = delete;
    TlsRecordSealer& operator=(const TlsRecordSealer&) = delete;

    // Takes TLS 1.3 transmit keys from a kernel crypto_info. False (and
    // inactive) for another version or cipher, or when OpenSSL fails.
    [[nodiscard]] bool start(const void* crypto_info);
    void stop();  // forgets the keys
    [[nodiscard]] bool active() const { return active_; }

    // Plaintext bytes per record, 1 to 16 KiB (default 16 KiB).
    void set_record_plain_bytes(std::size_t bytes);
    [[nodiscard]] std::size_t record_plain_bytes() const { return record_plain_; }
    // Lowers the record limits (tests).
    void set_record_limits(std::uint64_t renew, std::uint64_t max);

    // The bytes `plain` bytes take as records of record_plain_bytes().
    [[nodiscard]] std::size_t sealed_bytes(std::size_t plain) const;
    [[nodiscard]] std::size_t records_for(std::size_t plain) const;

    // Seals `bytes` of plaintext of `type` into `out` (room bytes) as
    // consecutive records; `written` gets their length. False, with nothing
    // counted as sent, when out lacks room, the key's record limit would be
    // passed, or OpenSSL fails.
    [[nodiscard]] bool seal(TlsRecordType type, const unsigned char* plain, std::size_t bytes, unsigned char* out,
                            std::size_t room, std::size_t& written);

    // Sealing `bytes` more would pass the renewal threshold: the connection
    // should be replaced (a fresh handshake has fresh keys).
    [[nodiscard]] bool due_for_renewal(std::size_t bytes) const;
    [[nodiscard]] std::uint64_t sequence() const { return sequence_; }
    [[nodiscard]] const char* cipher_name() const { return cipher_name_; }

private:
    bool seal_record(TlsRecordType type, const unsigned char* plain, std::size_t bytes, unsigned char* out);

    EVP_CIPHER_CTX* ctx_ = nullptr;
    bool active_ = false;
    const char* cipher_name_ = "none";
    unsigned char static_iv_[12] = {};  // salt + iv: the TLS 1.3 write_iv
    std::uint64_t sequence_ = 0;        // of the next record
    std::size_t record_plain_ = tls13_record_plain_max;
    std::uint64_t renew_at_ = tls13_records_per_key_renew;
    std::uint64_t refuse_at_ = tls13_records_per_key_max;
};

}  // namespace supervent::net
