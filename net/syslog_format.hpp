#pragma once
// Syslog frames from a rendered NDJSON batch: what the syslog sinks
// (net/syslog_transport.hpp) put on the wire.
//
// Every line the engine renders is one JSON object of a known shape,
//   {"_time":"…","source":"…","event_type":"…","message":"…","attributes":{…}}
// (or with the attributes flat beside the four keys). Each becomes one
// syslog message:
//
//   RFC 5424  <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [SD-ID name="value" …] MSG
//   RFC 3164  <PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG
//
// with TIMESTAMP from _time (microseconds: RFC 5424 allows 6 fraction
// digits), APP-NAME (3164: TAG) from source, MSGID from event_type, MSG from
// message, one SD-PARAM per attribute (nested objects flattened to dotted
// names), HOSTNAME from a "host"/"hostname" attribute or else the configured
// name, and the severity of PRI from a "severity"/"level" attribute (names
// or 0–7) or else informational. RFC 3164 has no structured data: there
// the attributes are dropped.
//
// Framing (RFC 6587 / RFC 5425): octet counting "LEN SP MSG", newline
// "MSG LF" (an LF inside MSG becomes a space, or it would split the
// message), or datagram (UDP: one message each, their ends recorded).
//
// The conversion writes into caller-provided memory and allocates nothing:
// it runs on the data path, once per batch sent.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace supervent::net {

enum class SyslogFormat : std::uint8_t { rfc5424, rfc3164 };
enum class SyslogFraming : std::uint8_t { octet_counting, newline, datagram };

struct SyslogFormatOptions {
    SyslogFormat format = SyslogFormat::rfc5424;
    SyslogFraming framing = SyslogFraming::octet_counting;
    std::uint8_t facility = 1;  // user-level messages; 0–23
    // HOSTNAME of events without a host attribute (the machine's name).
    std::string hostname = "-";
    // The SD-ID the attributes go under (RFC 5424 §6.3.2: NAME@PEN; 32473 is
    // the example enterprise number of RFC 5612).
    std::string sd_id = "supervent@32473";
};

// Limits of RFC 5424's header fields (§6).
inline constexpr std::size_t syslog_hostname_bytes_max = 255;
inline constexpr std::size_t syslog_app_name_bytes_max = 48;
inline constexpr std::size_t syslog_msgid_bytes_max = 32;
inline constexpr std::size_t syslog_sd_name_bytes_max = 32;
// Attributes per event that become SD-PARAMs; more are dropped (counted by
// the converter's caller through SyslogChunk::params_dropped).
inline constexpr std::size_t syslog_params_max = 128;

// The most bytes one event's frame can take, given its NDJSON line's bytes.
// An attribute's name is repeated for every member of a nested object and a
// value grows by its quotes and escapes, so a frame can outgrow its line
// several times over (an object of one-letter keys: "a":{"b":1,"c":2}).
[[nodiscard]] std::size_t syslog_frame_bytes_max(std::size_t line_bytes, const SyslogFormatOptions& options);

// One call's work: the frames written and how far into the input it got.
struct SyslogChunk {
    std::size_t out_bytes = 0;     // frame bytes written
    std::size_t in_bytes = 0;      // input bytes consumed (whole lines)
    std::uint32_t frames = 0;      // messages written (= lines consumed)
    std::uint32_t params_dropped = 0;  // attributes beyond syslog_params_max
};

// Converts whole lines of `ndjson` into frames in `out`, as many as fit
// (each line is checked against syslog_frame_bytes_max before it is
// written). With datagram framing, frame_ends[i] gets the end offset of
// frame i and at most frame_ends.size() frames are written. A caller
// continues from ndjson.subspan(chunk.in_bytes).
[[nodiscard]] SyslogChunk ndjson_to_syslog(std::span<const char> ndjson, std::span<char> out,
                                           const SyslogFormatOptions& options,
                                           std::span<std::uint32_t> frame_ends = {});

}  // namespace supervent::net
