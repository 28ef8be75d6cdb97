#include "net/tls_client.hpp"

#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

namespace supervent::net {
namespace {

// BIO_CTRL_SET_KTLS: internal to OpenSSL 3.0 (bio.h lists it in a comment),
// the call through which its record layer hands a socket BIO the keys.
constexpr int bio_ctrl_set_ktls = 72;
// BIO_CTRL_SET_KTLS_TX_SEND_CTRL_MSG / _CLEAR_KTLS_TX_CTRL_MSG: with kTLS
// active, OpenSSL names the record type of its next write (an alert).
constexpr int bio_ctrl_set_ktls_tx_send_ctrl_msg = 74;
constexpr int bio_ctrl_clear_ktls_tx_ctrl_msg = 75;
constexpr std::size_t tls_record_plain_max = 16 * 1024;
// Header, explicit nonce, tag, padding and MAC of one record, generously.
constexpr std::size_t tls_record_overhead_max = 512;
// Handshake remnants, alerts, a KeyUpdate: what may precede a request in `out`.
constexpr std::size_t tls_out_slack_bytes = 64 * 1024;

// ---- the BIO between OpenSSL and the ring's buffers

TlsSession& session_of(BIO* bio) { return *static_cast<TlsSession*>(BIO_get_data(bio)); }

int bio_write(BIO* bio, const char* data, int bytes) {
    BIO_clear_retry_flags(bio);
    TlsSession& session = session_of(bio);
    // With kTLS or the sealer, OpenSSL writes plaintext control records.
    if (session.ktls_tx_active()) return session.write_after_handover(data, static_cast<std::size_t>(bytes));
    CipherBuffer& out = session.out();
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(bytes), out.free_bytes());
    if (n == 0) {
        BIO_set_retry_write(bio);
        return -1;
    }
    std::memcpy(out.free_space(), data, n);
    out.end += n;
    return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int bytes) {
    BIO_clear_retry_flags(bio);
    CipherBuffer& in = session_of(bio).in();
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(bytes), in.pending());
    if (n == 0) {
        BIO_set_retry_read(bio);  // the ring will bring more
        return -1;
    }
    std::memcpy(data, in.data.get() + in.begin, n);
    in.begin += n;
    return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int command, long number, void* pointer) {
    TlsSession& session = session_of(bio);
    switch (command) {
        case BIO_CTRL_FLUSH: return 1;  // `out` is flushed by the ring, in order
        case BIO_CTRL_PENDING: return static_cast<long>(session.in().pending());
        case BIO_CTRL_WPENDING: return static_cast<long>(session.out().pending());
        case bio_ctrl_set_ktls: return session.offer_ktls_keys(pointer, number != 0) ? 1 : 0;
        case bio_ctrl_set_ktls_tx_send_ctrl_msg: session.set_next_record_type(static_cast<int>(number)); return 1;
        case bio_ctrl_clear_ktls_tx_ctrl_msg: session.set_next_record_type(0); return 1;
        case BIO_CTRL_GET_KTLS_SEND: return session.ktls_tx_active() ? 1 : 0;
        case BIO_CTRL_GET_KTLS_RECV: return 0;
        default: return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

int bio_destroy(BIO*) { return 1; }

BIO_METHOD* cipher_buffer_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "supervent ring buffers");
        if (m == nullptr) throw TlsError("OpenSSL could not create a BIO method");
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        BIO_meth_set_destroy(m, bio_destroy);
        return m;
    }();
    return method;
}

// ---- messages

std::string openssl_error_text() {
    const unsigned long code = ERR_peek_last_error();
    if (code == 0) return "unknown error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

bool is_ip_literal(const std::string& host) {
    in6_addr v6{};
    in_addr v4{};
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

std::string asn1_time_text(const ASN1_TIME* time) {
    if (time == nullptr) return "?";
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return "?";
    ASN1_TIME_print(bio, time);
    char* data = nullptr;
    const long bytes = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(std::max(0L, bytes)));
    BIO_free(bio);
    return text;
}

// "DNS:other.example, IP:10.0.0.1": the names a certificate is valid for.
std::string certificate_names(X509* certificate) {
    std::string names;
    auto* general = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; general != nullptr && i < sk_GENERAL_NAME_num(general); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
        std::string entry;
        if (name->type == GEN_DNS) {
            entry = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                                         static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
        } else if (name->type == GEN_IPADD && name->d.iPAddress->length == 4) {
            char text[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, ASN1_STRING_get0_data(name->d.iPAddress), text, sizeof text);
            entry = std::string("IP:") + text;
        }
        if (!entry.empty()) names += (names.empty() ? "" : ", ") + entry;
    }
    GENERAL_NAMES_free(general);
    if (names.empty()) {
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
        names = std::string("no subjectAltName; subject ") + subject;
    }
    return names;
}

int on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* context = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (context == nullptr || SSL_SESSION_is_resumable(session) == 0) return 0;
    context->keep_session(session);
    return 1;  // we keep the reference
}

}  // namespace

void CipherBuffer::compact() {
    if (begin == 0) return;
    std::memmove(data.get(), data.get() + begin, end - begin);
    end -= begin;
    begin = 0;
}

std::size_t tls_out_capacity(std::size_t request_bytes, std::size_t record_plain_bytes) {
    const std::size_t record = std::clamp<std::size_t>(record_plain_bytes, 1, tls_record_plain_max);
    return request_bytes + (request_bytes / record + 2) * tls_record_overhead_max + tls_out_slack_bytes;
}

int attach_ktls_ulp(int fd) {
    static constexpr char ulp[] = "tls";
    return setsockopt(fd, SOL_TCP, TCP_ULP, ulp, sizeof ulp) == 0 ? 0 : errno;
}

// ---- TlsContext

TlsContext::TlsContext(TlsClientConfig config) : config_(std::move(config)) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) throw TlsError("OpenSSL could not create a TLS context: " + openssl_error_text());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (config_.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, config_.max_version);
    if (config_.skip_verify) {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    } else {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        const bool loaded = config_.ca_file.empty()
                                ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                                : SSL_CTX_load_verify_locations(ctx_, config_.ca_file.c_str(), nullptr) == 1;
        if (!loaded) {
            const std::string reason = openssl_error_text();
            SSL_CTX_free(ctx_);
            throw TlsError(config_.ca_file.empty()
                               ? "cannot load the system CA certificates: " + reason
                               : "cannot load CA certificates from '" + config_.ca_file + "' (sink.ca_file, --ca-file): " +
                                     reason + "; it must be a PEM file of one or more certificates");
        }
    }
    static constexpr unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx_, alpn, sizeof alpn - 1);
    // Sessions live here, not in OpenSSL's cache: one per transport, offered
    // on every reconnect.
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx_, on_new_session);
    SSL_CTX_set_app_data(ctx_, this);
}

TlsContext::~TlsContext() {
    if (session_ != nullptr) SSL_SESSION_free(session_);
    SSL_CTX_free(ctx_);
}

void TlsContext::keep_session(SSL_SESSION* session) {
    if (session_ != nullptr) SSL_SESSION_free(session_);
    session_ = session;
}

// ---- TlsSession

TlsSession::TlsSession(TlsContext& context, std::size_t out_capacity, std::size_t in_capacity)
    : context_(context) {
    const TlsClientConfig& config = context_.config();
    sealer_.set_record_plain_bytes(config.record_plain_bytes);
    if (config.records_per_key_renew != 0 || config.records_per_key_max != 0) {
        sealer_.set_record_limits(config.records_per_key_renew, config.records_per_key_max);
    }
    out_.data = std::make_unique<char[]>(out_capacity);
    out_.capacity = out_capacity;
    in_.data = std::make_unique<char[]>(in_capacity);
    in_.capacity = in_capacity;
    (void)cipher_buffer_method();  // fail at construction, not on the first connect
}

TlsSession::~TlsSession() { release(); }

// Freeing an SSL that sent no close_notify makes OpenSSL mark its session
// unresumable (TLS 1.2 keeps that very session). Keep-alive connections end
// without one all the time, so a connection that got through its handshake
// counts as cleanly shut down.
void TlsSession::release() {
    if (ssl_ == nullptr) return;
    if (SSL_is_init_finished(ssl_) == 1) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl_);
    ssl_ = nullptr;
}

void TlsSession::start(bool ktls_ulp) {
    release();
    out_.begin = out_.end = in_.begin = in_.end = 0;
    ktls_ulp_ = ktls_ulp;
    ktls_info_bytes_ = 0;
    sealer_.stop();
    next_record_type_ = 0;
    verify_failed_ = false;
    failure_.clear();

    ssl_ = SSL_new(context_.raw());
    if (ssl_ == nullptr) throw TlsError("OpenSSL could not create a connection: " + openssl_error_text());
    BIO* bio = BIO_new(cipher_buffer_method());
    if (bio == nullptr) throw TlsError("OpenSSL could not create a BIO: " + openssl_error_text());
    BIO_set_data(bio, this);
    BIO_up_ref(bio);  // one reference for each direction
    SSL_set0_rbio(ssl_, bio);
    SSL_set0_wbio(ssl_, bio);
    SSL_set_connect_state(ssl_);

    const TlsClientConfig& config = context_.config();
    if (is_ip_literal(config.server_name)) {
        // No SNI for addresses (RFC 6066); the certificate must carry the IP.
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), config.server_name.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl_, config.server_name.c_str());
        SSL_set1_host(ssl_, config.server_name.c_str());
    }
    if (context_.session() != nullptr) SSL_set_session(ssl_, context_.session());
    // Either way OpenSSL hands the transmit keys to the BIO after a TLS 1.3 handshake.
    if (ktls_ulp || config.seal_records) SSL_set_options(ssl_, SSL_OP_ENABLE_KTLS);
}

TlsStep TlsSession::handshake() {
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_);
    if (result == 1) return TlsStep::done;
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ) return TlsStep::want_more;
    describe_failure(error);
    return TlsStep::failed;
}

bool TlsSession::encrypt(const char* data, std::size_t bytes) {
    if (sealer_.active()) {
        std::size_t written = 0;
        if (sealer_.seal(TlsRecordType::application_data, reinterpret_cast<const unsigned char*>(data), bytes,
                         reinterpret_cast<unsigned char*>(out_.free_space()), out_.free_bytes(), written)) {
            out_.end += written;
            return true;
        }
        failure_ = "TLS with " + context_.config().server_name + ": cannot seal a request of " +
                   std::to_string(bytes) + " bytes (ciphertext buffer full, the key's record limit, or OpenSSL: " +
                   openssl_error_text() + ")";
        return false;
    }
    ERR_clear_error();
    std::size_t written = 0;
    if (SSL_write_ex(ssl_, data, bytes, &written) == 1 && written == bytes) return true;
    describe_failure(SSL_get_error(ssl_, 0));
    return false;
}

TlsStep TlsSession::decrypt(char* dest, std::size_t room, std::size_t& produced) {
    produced = 0;
    while (produced < room) {
        ERR_clear_error();
        std::size_t bytes = 0;
        const int result = SSL_read_ex(ssl_, dest + produced, room - produced, &bytes);
        if (result == 1) {
            produced += bytes;
            continue;
        }
        const int error = SSL_get_error(ssl_, result);
        if (error == SSL_ERROR_WANT_READ) return TlsStep::want_more;
        if (error == SSL_ERROR_ZERO_RETURN) return TlsStep::closed;
        describe_failure(error);
        return TlsStep::failed;
    }
    return TlsStep::done;
}

bool TlsSession::must_renew(std::size_t bytes) const {
    if (!ktls_tx_active() || ssl_ == nullptr) return false;
    return sealer_.due_for_renewal(bytes) || SSL_get_key_update_type(ssl_) != SSL_KEY_UPDATE_NONE;
}

int TlsSession::write_after_handover(const char* data, std::size_t bytes) {
    const int type = next_record_type_;
    next_record_type_ = 0;  // one write per control message, as OpenSSL's socket BIO does
    if (!sealer_.active()) return -1;  // the kernel: control records would need a cmsg
    if (type == static_cast<int>(TlsRecordType::handshake)) return -1;
    const TlsRecordType record_type = type == 0 ? TlsRecordType::application_data : static_cast<TlsRecordType>(type);
    std::size_t written = 0;
    if (!sealer_.seal(record_type, reinterpret_cast<const unsigned char*>(data), bytes,
                      reinterpret_cast<unsigned char*>(out_.free_space()), out_.free_bytes(), written)) {
        return -1;
    }
    out_.end += written;
    return static_cast<int>(bytes);
}

bool TlsSession::resumed() const { return ssl_ != nullptr && SSL_session_reused(ssl_) == 1; }

const char* TlsSession::version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : "none"; }

bool TlsSession::offer_ktls_keys(const void* crypto_info, bool transmit) {
    // Receive stays in OpenSSL (the ring reads ciphertext); TLS 1.2 would
    // still write its Finished after the key change (see the header).
    if (!transmit || crypto_info == nullptr || SSL_version(ssl_) != TLS1_3_VERSION) return false;
    // No ULP: the sealer encrypts from here on (the Finished before these
    // keys is already in `out`, ahead of every sealed record). Keys it does
    // not take stay with OpenSSL, which goes on encrypting.
    if (!ktls_ulp_) return context_.config().seal_records && sealer_.start(crypto_info);
    const auto* header = static_cast<const tls_crypto_info*>(crypto_info);
    std::size_t bytes = 0;
    switch (header->cipher_type) {
        case TLS_CIPHER_AES_GCM_128: bytes = sizeof(tls12_crypto_info_aes_gcm_128); break;
        case TLS_CIPHER_AES_GCM_256: bytes = sizeof(tls12_crypto_info_aes_gcm_256); break;
        case TLS_CIPHER_CHACHA20_POLY1305: bytes = sizeof(tls12_crypto_info_chacha20_poly1305); break;
        default: return false;  // OpenSSL keeps encrypting in user space
    }
    static_assert(sizeof(tls12_crypto_info_chacha20_poly1305) <= sizeof ktls_info_);
    std::memcpy(ktls_info_, crypto_info, bytes);
    ktls_info_bytes_ = bytes;
    return true;
}

int TlsSession::install_ktls_tx(int fd) {
    if (ktls_info_bytes_ == 0) return EINVAL;
    const int result = setsockopt(fd, SOL_TLS, TLS_TX, ktls_info_, static_cast<socklen_t>(ktls_info_bytes_));
    OPENSSL_cleanse(ktls_info_, sizeof ktls_info_);  // the kernel has the keys now
    return result == 0 ? 0 : errno;
}

void TlsSession::describe_failure(int ssl_error) {
    const std::string& name = context_.config().server_name;
    const long verify = SSL_get_verify_result(ssl_);
    if (ssl_error == SSL_ERROR_SSL && verify != X509_V_OK && !context_.config().skip_verify) {
        describe_verify_failure(verify);
        return;
    }
    verify_failed_ = false;
    if (ssl_error == SSL_ERROR_WANT_WRITE) {
        failure_ = "TLS with " + name + ": the ciphertext buffer is full (a request larger than its slot?)";
    } else if (ssl_error == SSL_ERROR_SSL) {
        failure_ = "TLS handshake with " + name + " failed: " + openssl_error_text() +
                   " (is the sink an https server? http:// URLs speak plain HTTP)";
    } else {
        failure_ = "TLS with " + name + " failed: OpenSSL error " + std::to_string(ssl_error) + ": " +
                   openssl_error_text();
    }
}

void TlsSession::describe_verify_failure(long result) {
    verify_failed_ = true;
    const TlsClientConfig& config = context_.config();
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_);
    X509* leaf = chain != nullptr && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : nullptr;
    std::string check;
    std::string advice;
    switch (result) {
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            check = "host name";
            advice = "the certificate is not for '" + config.server_name + "'" +
                     (leaf != nullptr ? " (it is for " + certificate_names(leaf) + ")" : std::string()) +
                     ": put a host name the certificate covers in the sink URL";
            break;
        case X509_V_ERR_CERT_HAS_EXPIRED:
            check = "validity period";
            advice = "the certificate expired" +
                     (leaf != nullptr ? " on " + asn1_time_text(X509_get0_notAfter(leaf)) : std::string()) +
                     ": the server must renew it (or this machine's clock is wrong)";
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            check = "validity period";
            advice = "the certificate is not valid before" +
                     (leaf != nullptr ? " " + asn1_time_text(X509_get0_notBefore(leaf)) : std::string()) +
                     ": check this machine's clock";
            break;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        case X509_V_ERR_CERT_UNTRUSTED:
            check = "certificate authority";
            advice = config.ca_file.empty()
                         ? "no CA in the system store vouches for it: give the CA that issued it with "
                           "--ca-file PATH (sink.ca_file)"
                         : "no CA in '" + config.ca_file + "' vouches for it: point --ca-file (sink.ca_file) at the "
                           "CA that issued it";
            break;
        default:
            check = "certificate chain";
            advice = "give the CA that issued it with --ca-file PATH (sink.ca_file)";
            break;
    }
    failure_ = "TLS certificate check failed for " + config.server_name + ": " + check + ": " +
               X509_verify_cert_error_string(result) + "; " + advice +
               ". The sink is stopped; --tls-insecure-skip-verify turns every check off (testing only)";
}

}  // namespace supervent::net
