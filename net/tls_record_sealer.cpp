#include "net/tls_record_sealer.hpp"

#include <linux/tls.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace supervent::net {
namespace {

// The key and the 12-byte write_iv a TLS 1.3 crypto_info carries: for
// AES-GCM the kernel's split of the write_iv into salt (4) and iv (8), for
// ChaCha20-Poly1305 the whole iv; rec_seq is big-endian.
template <typename Info>
void take_gcm(const Info& info, unsigned char (&static_iv)[12], const unsigned char*& key, const unsigned char*& seq) {
    static_assert(sizeof info.salt + sizeof info.iv == 12);
    std::memcpy(static_iv, info.salt, sizeof info.salt);
    std::memcpy(static_iv + sizeof info.salt, info.iv, sizeof info.iv);
    key = info.key;
    seq = info.rec_seq;
}

std::uint64_t load_be64(const unsigned char* bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
    return value;
}

}  // namespace

TlsRecordSealer::TlsRecordSealer() : ctx_(EVP_CIPHER_CTX_new()) {
    if (ctx_ == nullptr) throw std::runtime_error("OpenSSL could not create a cipher context for TLS records");
}

TlsRecordSealer::~TlsRecordSealer() {
    stop();
    EVP_CIPHER_CTX_free(ctx_);
}

bool TlsRecordSealer::start(const void* crypto_info) {
    stop();
    const auto* header = static_cast<const tls_crypto_info*>(crypto_info);
    if (header == nullptr || header->version != TLS_1_3_VERSION) return false;
    const unsigned char* key = nullptr;
    const unsigned char* seq = nullptr;
    const EVP_CIPHER* cipher = nullptr;
    switch (header->cipher_type) {
        case TLS_CIPHER_AES_GCM_128:
            take_gcm(*static_cast<const tls12_crypto_info_aes_gcm_128*>(crypto_info), static_iv_, key, seq);
            cipher = EVP_aes_128_gcm();
            cipher_name_ = "AES-128-GCM";
            break;
        case TLS_CIPHER_AES_GCM_256:
            take_gcm(*static_cast<const tls12_crypto_info_aes_gcm_256*>(crypto_info), static_iv_, key, seq);
            cipher = EVP_aes_256_gcm();
            cipher_name_ = "AES-256-GCM";
            break;
        case TLS_CIPHER_CHACHA20_POLY1305: {
            const auto& info = *static_cast<const tls12_crypto_info_chacha20_poly1305*>(crypto_info);
            static_assert(sizeof info.iv == 12);
            std::memcpy(static_iv_, info.iv, sizeof info.iv);
            key = info.key;
            seq = info.rec_seq;
            cipher = EVP_chacha20_poly1305();
            cipher_name_ = "ChaCha20-Poly1305";
            break;
        }
        default: return false;
    }
    if (cipher == nullptr || EVP_EncryptInit_ex(ctx_, cipher, nullptr, key, nullptr) != 1 ||
        EVP_CIPHER_CTX_get_iv_length(ctx_) != 12) {
        stop();
        return false;
    }
    sequence_ = load_be64(seq);
    active_ = true;
    return true;
}

void TlsRecordSealer::stop() {
    if (ctx_ != nullptr) EVP_CIPHER_CTX_reset(ctx_);  // wipes the key schedule
    OPENSSL_cleanse(static_iv_, sizeof static_iv_);
    active_ = false;
    cipher_name_ = "none";
    sequence_ = 0;
}

void TlsRecordSealer::set_record_plain_bytes(std::size_t bytes) {
    record_plain_ = std::clamp<std::size_t>(bytes, 1, tls13_record_plain_max);
}

void TlsRecordSealer::set_record_limits(std::uint64_t renew, std::uint64_t max) {
    assert(renew <= max);
    renew_at_ = renew;
    refuse_at_ = max;
}

std::size_t TlsRecordSealer::records_for(std::size_t plain) const { return (plain + record_plain_ - 1) / record_plain_; }

std::size_t TlsRecordSealer::sealed_bytes(std::size_t plain) const {
    return plain + records_for(plain) * tls13_record_overhead;
}

bool TlsRecordSealer::due_for_renewal(std::size_t bytes) const {
    return active_ && sequence_ + records_for(bytes) > renew_at_;
}

bool TlsRecordSealer::seal(TlsRecordType type, const unsigned char* plain, std::size_t bytes, unsigned char* out,
                           std::size_t room, std::size_t& written) {
    written = 0;
    const std::size_t records = records_for(bytes);
    if (!active_ || sealed_bytes(bytes) > room || sequence_ + records > refuse_at_) return false;
    const std::uint64_t first_sequence = sequence_;
    std::size_t done = 0;
    while (done < bytes) {
        const std::size_t piece = std::min(record_plain_, bytes - done);
        if (!seal_record(type, plain + done, piece, out + written)) {
            sequence_ = first_sequence;  // none of it may go out: the caller fails the connection
            written = 0;
            return false;
        }
        done += piece;
        written += piece + tls13_record_overhead;
    }
    return true;
}

// One TLSCiphertext (RFC 8446 §5.2): opaque_type 23, legacy version 0x0303,
// length; encrypted TLSInnerPlaintext = content || type (no padding); the
// header is the additional data; nonce = write_iv XOR the sequence number.
bool TlsRecordSealer::seal_record(TlsRecordType type, const unsigned char* plain, std::size_t bytes,
                                  unsigned char* out) {
    assert(bytes <= tls13_record_plain_max);
    const std::size_t length = bytes + 1 + tls13_record_tag_bytes;
    unsigned char* const header = out;
    header[0] = static_cast<unsigned char>(TlsRecordType::application_data);
    header[1] = 0x03;
    header[2] = 0x03;
    header[3] = static_cast<unsigned char>(length >> 8);
    header[4] = static_cast<unsigned char>(length);

    unsigned char nonce[12];
    std::memcpy(nonce, static_iv_, sizeof nonce);
    for (int i = 0; i < 8; ++i) nonce[4 + i] ^= static_cast<unsigned char>(sequence_ >> (56 - 8 * i));

    unsigned char* const body = out + tls13_record_header_bytes;
    const unsigned char inner_type = static_cast<unsigned char>(type);
    int produced = 0;
    int tail = 0;
    const bool sealed = EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) == 1 &&
                        EVP_EncryptUpdate(ctx_, nullptr, &produced, header, tls13_record_header_bytes) == 1 &&
                        EVP_EncryptUpdate(ctx_, body, &produced, plain, static_cast<int>(bytes)) == 1 &&
                        EVP_EncryptUpdate(ctx_, body + produced, &tail, &inner_type, 1) == 1 &&
                        static_cast<std::size_t>(produced + tail) == bytes + 1 &&
                        EVP_EncryptFinal_ex(ctx_, body + bytes + 1, &tail) == 1 && tail == 0 &&
                        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, tls13_record_tag_bytes,
                                            body + bytes + 1) == 1;
    if (sealed) ++sequence_;
    return sealed;
}

}  // namespace supervent::net
