#include "sink/faults.hpp"

#include <charconv>
#include <stdexcept>

namespace supervent::sink {
namespace {

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t parse_uint(std::string_view text, std::string_view what) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        throw std::invalid_argument(std::string(what) + ": expected a non-negative integer, got '" + std::string(text) + "'");
    }
    return value;
}

double parse_share(std::string_view text, std::string_view rule) {
    const bool percent = !text.empty() && text.back() == '%';
    if (percent) text.remove_suffix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
        throw std::invalid_argument("fault rule '" + std::string(rule) + "': share must look like 10% or 0.1");
    }
    if (percent) value /= 100;
    if (!(value >= 0 && value <= 1)) {
        throw std::invalid_argument("fault rule '" + std::string(rule) + "': share must be between 0 and 100%");
    }
    return value;
}

FaultAction parse_action(std::string_view action, std::string_view rule) {
    const auto eq = action.find('=');
    const std::string_view name = action.substr(0, eq);
    const std::string_view arg = eq == std::string_view::npos ? std::string_view{} : action.substr(eq + 1);
    const std::string where = "fault rule '" + std::string(rule) + "'";
    FaultAction out;
    if (name == "close" && arg.empty() && eq == std::string_view::npos) {
        out.kind = FaultKind::close;
    } else if (name == "status") {
        out.kind = FaultKind::status;
        out.status = static_cast<int>(parse_uint(arg, where + " status"));
        if (out.status < 400 || out.status > 599) throw std::invalid_argument(where + ": status must be 400..599");
    } else if (name == "delay") {
        std::string_view ms = arg;
        if (ms.ends_with("ms")) ms.remove_suffix(2);
        const std::uint64_t delay_ms = parse_uint(ms, where + " delay");
        if (delay_ms > 600'000) throw std::invalid_argument(where + ": delay above 10 minutes");
        out.kind = FaultKind::delay;
        out.delay_ms = static_cast<std::uint32_t>(delay_ms);
    } else if (name == "slow_read") {
        std::string_view rate = arg;
        if (rate.ends_with("/s")) rate.remove_suffix(2);
        out.kind = FaultKind::slow_read;
        out.bytes_per_s = parse_size_bytes(rate);
        if (out.bytes_per_s == 0) throw std::invalid_argument(where + ": slow_read rate must be above 0");
    } else {
        throw std::invalid_argument(where + ": unknown action '" + std::string(action) +
                                    "' (expected status=CODE, close, delay=MS or slow_read=RATE)");
    }
    return out;
}

}  // namespace

std::uint64_t parse_size_bytes(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::uint64_t number = parse_uint(text.substr(0, digits), "size");
    const std::string_view suffix = text.substr(digits);
    std::uint64_t unit = 1;
    if (suffix.empty() || suffix == "B") unit = 1;
    else if (suffix == "K" || suffix == "KB") unit = 1000;
    else if (suffix == "M" || suffix == "MB") unit = 1000 * 1000;
    else if (suffix == "G" || suffix == "GB") unit = 1000 * 1000 * 1000;
    else if (suffix == "KiB") unit = 1024;
    else if (suffix == "MiB") unit = 1024 * 1024;
    else if (suffix == "GiB") unit = 1024 * 1024 * 1024;
    else throw std::invalid_argument("size '" + std::string(text) + "': unknown unit (use B, K, M, G, KiB, MiB or GiB)");
    if (number > UINT64_MAX / unit) throw std::invalid_argument("size '" + std::string(text) + "' is too large");
    return number * unit;
}

FaultPlan FaultPlan::parse(std::string_view spec, std::uint64_t seed) {
    FaultPlan plan;
    plan.seed_ = seed;
    double total = 0;
    while (!spec.empty()) {
        const auto comma = spec.find(',');
        const std::string_view rule = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        if (rule.empty()) continue;
        const auto at = rule.rfind('@');
        if (at == std::string_view::npos) {
            throw std::invalid_argument("fault rule '" + std::string(rule) + "': missing @SHARE (e.g. status=503@10%)");
        }
        FaultRule parsed{parse_action(rule.substr(0, at), rule), parse_share(rule.substr(at + 1), rule)};
        total += parsed.share;
        plan.rules_.push_back(parsed);
    }
    if (total > 1.0 + 1e-9) throw std::invalid_argument("fault shares add up to more than 100%");
    return plan;
}

FaultAction FaultPlan::decide(std::uint64_t request_sequence) const noexcept {
    if (rules_.empty()) return {};
    // A uniform draw in [0, 1) from 53 random bits; rules take consecutive slices.
    const double draw = static_cast<double>(splitmix64(seed_ ^ splitmix64(request_sequence)) >> 11) * 0x1.0p-53;
    double upper = 0;
    for (const FaultRule& rule : rules_) {
        upper += rule.share;
        if (draw < upper) return rule.action;
    }
    return {};
}

}  // namespace supervent::sink
