#pragma once
// When root events happen: the times of one volume entry's events over a
// backfill window (RootTimeline), the live-mode rate multiplier (live_factor),
// and the local calendar both use (TimeZone).
//
// Everything here is pure: the output is a function of the arguments. All
// allocation and all time zone file reading happen in constructors (on the
// loading thread); take(), peek(), expected_between(), live_factor() and the
// TimeZone queries never allocate, never lock and never call the C library's
// time zone functions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/scenario.hpp"
#include "core/schema.hpp"

namespace supervent::core {

inline constexpr std::int64_t ns_per_s = 1'000'000'000;
inline constexpr std::int64_t ns_per_day = 86'400 * ns_per_s;

// A time zone for day boundaries and local hours. Valid for instants whose
// local time is representable in int64 ns (years 1678..2261).
class TimeZone {
public:
    TimeZone();  // UTC

    // "UTC", "Z", "GMT"; a fixed offset "+02:00", "-0530", "+5", "UTC+02:00";
    // or an IANA name ("Europe/Berlin") read from /usr/share/zoneinfo (TZif,
    // with the footer's POSIX rule extended to 2261). Throws
    // std::invalid_argument naming the text and what was expected.
    static TimeZone parse(std::string_view text);
    static TimeZone fixed(std::int32_t offset_s, std::string name = {});

    const std::string& name() const { return name_; }
    // Local time minus UTC at t, in seconds (+7200 for CEST).
    std::int32_t offset_s(std::int64_t t_ns) const { return offsets_s_[piece(t_ns)]; }
    // The start of the local day containing t: the last instant <= t at which
    // the local date advances (local midnight; the end of the gap when a DST
    // change skips midnight).
    std::int64_t day_start(std::int64_t t_ns) const;
    // The first such instant > t.
    std::int64_t next_day_start(std::int64_t t_ns) const;
    // The first instant > t at which the local hour changes.
    std::int64_t next_hour_start(std::int64_t t_ns) const;
    int weekday(std::int64_t t_ns) const;  // 0 = Monday .. 6 = Sunday, local
    int hour(std::int64_t t_ns) const;     // 0..23, local

private:
    std::size_t piece(std::int64_t t_ns) const;
    std::int64_t next_boundary(std::int64_t t_ns, std::int64_t unit_ns) const;
    std::int64_t local_day(std::int64_t t_ns) const;  // days since 1970-01-01, local

    std::string name_ = "UTC";
    // UTC instants where the offset changes, ascending; offsets_s_[i] holds
    // before transitions_ns_[i], offsets_s_.back() after the last one.
    std::vector<std::int64_t> transitions_ns_;
    std::vector<std::int32_t> offsets_s_{0};

    friend struct TimeZoneBuilder;
};

// The root event times of one volume entry for one shard.
//
// The times are a Poisson process with the entry's density, conditioned on
// exactly N = spec.count events: the order statistics of N independent draws
// from the density (gaps between events are exponential where the density is
// flat; per-minute counts have the Poisson spread). They are drawn in
// "weight space" [0, W), W the density's integral, by binary splitting: a
// node of the tree holds m events over a weight range and sends Binomial(m,
// 1/2) of them to its lower half, the draw a hash of (seed, node); at most 8
// events left in a node are sorted uniform draws of a hash of (seed, node,
// j). The inverse of the density's CDF maps weight to time. So the time of
// event k (k = 0..N-1 in time order) is a pure function of (seed, spec, k):
// shard i of n owns every k with k % n == i (count/n events, one more for the
// first count%n shards: shares sum to count exactly), walks only the nodes
// holding one of its events, and the union over shards is the same N times
// for any n. Every shard's list is non-decreasing.
//
// Density = pattern(t) * distribution(t) * hour_weights[local hour] *
// day_weights[local weekday] * burst(t), as documented in schema.hpp:
// weekday/weekend are zero outside their local days (edges exactly at local
// midnight in `zone`); sine_wave 1 + amplitude * sin(2 pi (t - start) /
// period), or with peak_ns 1 + amplitude * cos(2 pi (local t - peak) /
// period); linear_increase from ramp_from to 1; gaussian exp(-((t - mid) /
// sigma)^2 / 2) with sigma = window / 6, clipped to the window; burst(t) is
// burst_factor inside a burst and 1 outside, the bursts an alternating
// renewal process drawn from the seed alone (the same for every shard). Built
// at construction as a piecewise-linear density over at least 4096 intervals
// (32 per sine period, at most 2^17 uniform intervals, plus every local
// midnight for day-based patterns and day tables, every local hour for hour
// tables, every burst edge): 48 bytes per interval, 6.3 MB for windows under
// 20 years without hour tables, 15 MB with them.
//
// The window is spec.start_ns/end_ns when either is non-zero, else
// [window_start_ns, window_end_ns). Throws std::invalid_argument (with the
// reason) when count > 0 and the window is empty or the density is zero
// everywhere (e.g. a weekend pattern over Tuesday..Thursday), or a parameter
// is unusable (sine period <= 0, non-finite amplitude, negative ramp_from,
// hour/day tables of the wrong length or with negative weights, a burst
// without lengths, more than 2^20 bursts).
class RootTimeline {
public:
    RootTimeline(const VolumeSpec& spec, std::int64_t window_start_ns, std::int64_t window_end_ns,
                 const TimeZone& zone, std::uint32_t shard_index, std::uint32_t shard_count, std::uint64_t seed);

    std::uint64_t total() const { return total_; }  // this shard's share
    std::uint64_t remaining() const { return total_ - taken_; }
    std::int64_t window_start() const { return start_; }
    std::int64_t window_end() const { return end_; }
    // Time of the next event; INT64_MAX when none remain.
    std::int64_t peek() const { return pos_ < len_ ? buf_[pos_] : INT64_MAX; }
    // Writes up to out.size() next times that are < before_ns; returns how many.
    std::uint32_t take(std::span<std::int64_t> out, std::int64_t before_ns);
    // Expected number of this shard's events in [a, b). O(log intervals).
    double expected_between(std::int64_t a, std::int64_t b) const;
    // Intervals of the density table (for tests and memory accounting).
    std::size_t intervals() const { return pieces_.empty() ? 0 : pieces_.size() - 1; }

private:
    // One interval of the density table; the density is dl + slope * tau over
    // [edge, next edge). The inverse of its weight y(tau) = dl tau + slope/2 tau^2
    // is evaluated one of two ways, picked per interval (see build_pieces):
    //   series (inv_half_k2 == 0): tau = y * a * (1 - e/4 + e^2/8 - ...), e = y * b
    //   root:                       tau = (sqrt(a + b * y) - c) * inv_half_k2
    struct Piece {
        double cum;          // weight before this interval
        double a;            // series: 1 / dl          root: dl^2
        double b;            // series: 2 slope / dl^2  root: 2 slope
        double c;            // series: unused          root: dl
        double inv_half_k2;  // series: 0               root: 1 / slope
        std::int64_t edge;   // the interval's first instant
    };
    // A node of the splitting tree: m events, global indices k0.., over weight [x0, x1).
    struct Node {
        std::uint64_t id;  // 1 = root; children 2 id and 2 id + 1
        std::uint64_t k0;
        std::uint64_t m;
        double x0;
        double x1;
        std::uint32_t depth;
    };
    static constexpr std::size_t block = 256;
    static constexpr std::uint64_t leaf_max = 8;  // sort8 sorts a leaf
    static constexpr std::uint32_t depth_max = 48;  // below: even spacing (weights no longer resolve)
    void build_pieces(const VolumeSpec& spec, const TimeZone& zone, const std::string& where);
    // Computes the next min(block, total - produced) times into buf_.
    void refill();
    // The weights of this shard's next events, in order; returns how many (< want only at the end).
    std::size_t next_weights(double* out, std::size_t want);
    void push_node(const Node& node);
    std::uint64_t first_own(std::uint64_t k0) const;
    void open_leaf(const Node& node);
    double cumulative(std::int64_t t) const;

    std::int64_t start_ = 0;
    std::int64_t end_ = 0;
    std::uint64_t count_ = 0;
    std::uint64_t total_ = 0;
    std::uint64_t taken_ = 0;
    std::uint64_t produced_ = 0;  // this shard's events computed into buf_ so far
    std::uint64_t shard_ = 0;
    std::uint64_t stride_ = 1;
    std::uint64_t seed_word_ = 0;
    double weight_ = 0;   // total weight
    double x_max_ = 0;    // largest x below weight_
    std::size_t cursor_ = 0;
    std::int64_t last_t_ = INT64_MIN;  // the last computed time (times never go back)
    std::uint32_t pos_ = 0;            // next unread time in buf_
    std::uint32_t len_ = 0;
    std::int64_t buf_[block];          // times computed ahead, in blocks: independent events pipeline
    // The walk over the splitting tree: nodes still to visit (depth first, lower half first).
    Node stack_[depth_max + 4];
    std::uint32_t top_ = 0;
    // The leaf being emitted: its m weights (sorted), the next own index j.
    Node leaf_{};
    double leaf_x_[leaf_max];
    std::uint64_t leaf_j_ = 0;
    std::uint32_t fine_depth_ = 0;  // leaves this deep draw 32-bit uniforms, two per hash
    std::vector<Piece> pieces_;  // intervals + 1 sentinel (cum = weight_, edge = end_)
};

// Live mode: the rate multiplier of `shape` at wall time now_ns for a run that
// started at since_start_ns. constant: 1; sine: 1 + amplitude * sin(2 pi t /
// period), or with peak_ns 1 + amplitude * cos(2 pi (local now - peak) /
// period) (never below 0); ramp: ramp_from + (1 - ramp_from) * min(1, t /
// ramp_ns) (1 when ramp_ns <= 0); step: the factor of the latest step with
// at_ns <= t (1 before any; ties: the last listed); business_hours: 1 on local
// Monday..Friday with open_hour <= hour < close_hour (wrapping past midnight
// when open_hour > close_hour), else off_hours_factor. t = now - since. Any
// kind is then multiplied by hour_weights[local hour] and day_weights[local
// weekday], each table scaled to average 1.
double live_factor(const LiveShape& shape, std::int64_t since_start_ns, std::int64_t now_ns, const TimeZone& zone);

// Live mode: the rate multiplier a volume entry's calendar shape gives at
// now_ns, so a live run follows the same business day as a backfill.
// weekday/weekend: 1 on their local days, else 0; sine_wave as in the
// timeline (without peak_ns the phase counts from since_start_ns); hour and
// day tables scaled to average 1. (Bursts are the engine's: they need state.)
// linear_increase and gaussian, which a backfill spreads over a window, repeat
// live over the entry's own window (start..end, phase from its start; flat
// without one), scaled to average 1: gaussian peaks mid-period (sigma a
// sixth), linear_increase rises from ramp_from to 1.
double volume_live_factor(const VolumeSpec& spec, std::int64_t since_start_ns, std::int64_t now_ns,
                          const TimeZone& zone);

// Checks an hour (24) or day (7) table: the length, every weight finite and
// >= 0, one > 0. Returns "" or the reason.
std::string check_rate_table(const std::vector<double>& weights, std::size_t length);

}  // namespace supervent::core
