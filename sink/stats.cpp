#include "sink/stats.hpp"

#include <charconv>

namespace supervent::sink {

void Stats::record_ingest(const IngestRecord& record) {
    std::lock_guard lock(mutex_);
    totals_.requests += 1;
    totals_.events += record.events;
    totals_.bytes_wire += record.bytes_wire;
    totals_.bytes_decoded += record.bytes_decoded;
    totals_.invalid_events += record.invalid_events;
    if (record.edge) totals_.edge_requests += 1;
    if (!record.event_labels.empty()) {
        auto labels = totals_.event_labels.find(record.event_labels);
        if (labels == totals_.event_labels.end()) {
            const bool room = totals_.event_labels.size() < event_labels_distinct_max;
            labels = totals_.event_labels.emplace(room ? std::string(record.event_labels) : std::string("(other)"), 0).first;
        }
        labels->second += 1;
    }
    // Heterogeneous find: a known dataset costs no allocation.
    auto it = totals_.datasets.find(record.dataset);
    if (it == totals_.datasets.end()) it = totals_.datasets.emplace(std::string(record.dataset), DatasetCounts{}).first;
    it->second.requests += 1;
    it->second.events += record.events;
    it->second.bytes_decoded += record.bytes_decoded;
}

void Stats::record_rejected() noexcept {
    std::lock_guard lock(mutex_);
    totals_.rejected_requests += 1;
}

void Stats::record_fault() noexcept {
    std::lock_guard lock(mutex_);
    totals_.faults_injected += 1;
}

StatsSnapshot Stats::snapshot() const {
    std::lock_guard lock(mutex_);
    return totals_;
}

void append_uint(std::string& out, std::uint64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

void append_json_escaped(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20) {
            out.append("\\u00");
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
}

namespace {

void append_field(std::string& out, std::string_view name, std::uint64_t value, bool first = false) {
    if (!first) out.push_back(',');
    out.push_back('"');
    out.append(name);
    out.append("\":");
    append_uint(out, value);
}

}  // namespace

void Stats::record_connection(std::string_view peer_address) {
    std::lock_guard lock(mutex_);
    auto it = totals_.connections_by_peer.find(peer_address);
    if (it == totals_.connections_by_peer.end()) it = totals_.connections_by_peer.emplace(std::string(peer_address), 0).first;
    ++it->second;
}

std::string to_json(const StatsSnapshot& s) {
    std::string out;
    out.reserve(256 + s.datasets.size() * 96);
    out.push_back('{');
    append_field(out, "requests", s.requests, true);
    append_field(out, "events", s.events);
    append_field(out, "bytes_wire", s.bytes_wire);
    append_field(out, "bytes_decoded", s.bytes_decoded);
    append_field(out, "invalid_events", s.invalid_events);
    append_field(out, "rejected_requests", s.rejected_requests);
    append_field(out, "faults_injected", s.faults_injected);
    append_field(out, "edge_requests", s.edge_requests);
    out.append(",\"event_labels\":{");
    bool first_labels = true;
    for (const auto& [labels, requests] : s.event_labels) {
        if (!first_labels) out.push_back(',');
        first_labels = false;
        out.push_back('"');
        append_json_escaped(out, labels);
        out.append("\":");
        append_uint(out, requests);
    }
    out.push_back('}');
    out.append(",\"datasets\":{");
    bool first = true;
    for (const auto& [name, counts] : s.datasets) {
        if (!first) out.push_back(',');
        first = false;
        out.push_back('"');
        append_json_escaped(out, name);
        out.append("\":{");
        append_field(out, "requests", counts.requests, true);
        append_field(out, "events", counts.events);
        append_field(out, "bytes_decoded", counts.bytes_decoded);
        out.push_back('}');
    }
    out.append("},\"connections_by_peer\":{");
    first = true;
    for (const auto& [peer, count] : s.connections_by_peer) {
        if (!first) out.push_back(',');
        first = false;
        out.push_back('"');
        append_json_escaped(out, peer);
        out.append("\":");
        append_uint(out, count);
    }
    out.append("}}");
    return out;
}

}  // namespace supervent::sink
