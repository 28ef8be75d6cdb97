#pragma once
// Checks and conversions for the body format, ingest path, event labels and
// byte sizes ([sink] format/edge/event_labels/rotate_*, [runtime]
// batch_bytes), shared by the config file and the command line. Like
// values.hpp, each throws ValueError carrying only the reason.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "config/values.hpp"

namespace supervent::config::detail {

// At least one event of the largest size a source may declare
// (bounds::event_bytes_max) must fit a batch; at most what one registered
// send slot may sensibly hold per request in flight.
inline constexpr UintRange batch_bytes_range{64 * 1024, 256 * 1024 * 1024};
// rotate_bytes: 0 (never) or at least this; a file smaller than a batch would
// rotate after every batch.
inline constexpr std::uint64_t rotate_bytes_min = 64 * 1024;
inline constexpr UintRange rotate_keep_range{1, 1000};
// Axiom: field names are at most 200 bytes.
inline constexpr std::size_t event_label_key_bytes_max = 200;
// The longest X-Axiom-Event-Labels value accepted: with the longest URL,
// dataset and token (core/bounds.hpp) the request head must still fit its
// head room; the daemon checks the actual head at start-up.
inline constexpr std::size_t event_labels_json_bytes_max = 512;

// "ndjson", "json", "csv" or "text".
[[nodiscard]] SinkFormat parse_format(std::string_view text);
[[nodiscard]] std::string_view format_name(SinkFormat format);

// "auto", "on"/"true" or "off"/"false".
[[nodiscard]] EdgeMode parse_edge(std::string_view text);
[[nodiscard]] std::string_view edge_name(EdgeMode mode);
// Whether `host` is an Axiom edge deployment (*.edge.axiom.co), where
// EdgeMode::automatic picks the edge path.
[[nodiscard]] bool is_axiom_edge_host(std::string_view host);

// A byte count: digits with an optional unit KiB, MiB, GiB (powers of 1024),
// KB, MB, GB (powers of 1000) or B, e.g. "10MiB", "65536", "512 KiB".
[[nodiscard]] std::uint64_t parse_byte_size(std::string_view text);
[[nodiscard]] std::uint64_t check_batch_bytes(std::uint64_t bytes);
[[nodiscard]] std::uint64_t check_rotate_bytes(std::uint64_t bytes);

// One label: the key non-empty, at most event_label_key_bytes_max bytes, not
// starting with '_' (Axiom reserves those), no control characters; key and
// value valid UTF-8.
void check_event_label(std::string_view key, std::string_view value);
// {"k":"v",…} for X-Axiom-Event-Labels, in the given order. Pure ASCII so it
// is a valid header value whatever the labels hold: '"', '\\' and control
// characters are escaped as in JSON, and every non-ASCII character (UTF-8)
// becomes a \uXXXX escape (a surrogate pair beyond the BMP; malformed bytes
// U+FFFD). Returns "" for no labels.
[[nodiscard]] std::string event_labels_json(const std::vector<std::pair<std::string, std::string>>& labels);
// The labels as a whole: each as check_event_label says, no key twice, and
// the header value within event_labels_json_bytes_max.
void check_event_labels(const std::vector<std::pair<std::string, std::string>>& labels);
// "k=v,k2=v2" (the command line); "" = no labels.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_event_labels(std::string_view text);

}  // namespace supervent::config::detail
