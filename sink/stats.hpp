#pragma once
// The sink's counters. One mutex taken once per request (never per event)
// keeps totals and per-dataset counts consistent with each other in every
// snapshot, so a test reading /stats mid-run sees sums that add up.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace supervent::sink {

struct DatasetCounts {
    std::uint64_t requests = 0;
    std::uint64_t events = 0;
    std::uint64_t bytes_decoded = 0;
};

// What one answered ingest request adds.
struct IngestRecord {
    std::string_view dataset;
    std::uint64_t bytes_wire = 0;
    std::uint64_t bytes_decoded = 0;
    std::uint64_t events = 0;
    std::uint64_t invalid_events = 0;
    std::string_view event_labels;  // the X-Axiom-Event-Labels header; empty = none
    bool edge = false;              // sent to /v1/ingest/{dataset}
};

// Longest X-Axiom-Event-Labels value the sink records (longer ones are cut),
// and how many distinct values it keeps apart; the rest count as "(other)".
inline constexpr std::size_t event_labels_bytes_max = 4096;
inline constexpr std::size_t event_labels_distinct_max = 64;

struct StatsSnapshot {
    std::uint64_t requests = 0;           // ingest requests answered 200
    std::uint64_t events = 0;             // events ingested (valid ones under --verify)
    std::uint64_t bytes_wire = 0;         // request body bytes as received (compressed)
    std::uint64_t bytes_decoded = 0;      // after decompression
    std::uint64_t invalid_events = 0;     // rejected by --verify
    std::uint64_t rejected_requests = 0;  // ingest requests answered with an error status
    std::uint64_t faults_injected = 0;    // requests that --faults acted on
    std::uint64_t edge_requests = 0;      // of `requests`, those sent by the edge path
    // Requests answered 200 by their X-Axiom-Event-Labels value (as sent), when they had one.
    std::map<std::string, std::uint64_t, std::less<>> event_labels;
    std::map<std::string, DatasetCounts, std::less<>> datasets;
    // Connections accepted, by the client's address: shows which local
    // addresses (--bind) a sender spread its connections over.
    std::map<std::string, std::uint64_t, std::less<>> connections_by_peer;
};

class Stats {
public:
    void record_ingest(const IngestRecord& record);
    void record_rejected() noexcept;
    void record_fault() noexcept;
    void record_connection(std::string_view peer_address);
    [[nodiscard]] StatsSnapshot snapshot() const;

private:
    mutable std::mutex mutex_;
    StatsSnapshot totals_;
};

// The report / GET /stats document:
// {"requests":…,"events":…,"bytes_wire":…,"bytes_decoded":…,"invalid_events":…,
//  "rejected_requests":…,"faults_injected":…,"edge_requests":…,"event_labels":{"<header value>":requests},
//  "datasets":{"name":{"requests":…,"events":…,"bytes_decoded":…}},
//  "connections_by_peer":{"127.0.0.1":…}}
[[nodiscard]] std::string to_json(const StatsSnapshot& snapshot);

// Appends `text` as the contents of a JSON string (quotes not included).
void append_json_escaped(std::string& out, std::string_view text);
void append_uint(std::string& out, std::uint64_t value);

}  // namespace supervent::sink
