// --shard I/N and its "auto" index from the environment (config/shard_spec.hpp).
#include "config/shard_spec.hpp"

#include <charconv>

#include "config/values.hpp"
#include "core/bounds.hpp"

namespace supervent::config {
namespace {

using detail::concat;
using detail::quoted;
using detail::ValueError;

// A decimal number without sign or spaces; nullopt when `text` is not one.
std::optional<std::uint64_t> decimal(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// StatefulSet pods are named NAME-ORDINAL: the digits after the last '-'.
std::optional<std::uint64_t> hostname_ordinal(std::string_view host) {
    const std::size_t dash = host.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    return decimal(host.substr(dash + 1));
}

}  // namespace

ShardSpec parse_shard_spec(std::string_view text) {
    const std::size_t slash = text.find('/');
    const auto expected = [&] {
        return ValueError(concat("expected I/N (part I of N, 0 <= I < N) or auto/N, got ", quoted(text)));
    };
    if (slash == std::string_view::npos) throw expected();
    const std::string_view index_text = text.substr(0, slash);
    const auto count = decimal(text.substr(slash + 1));
    if (!count) throw expected();
    if (*count < 1 || *count > bounds::shard_parts_max) {
        throw ValueError(concat("the number of parts N must be between 1 and ", bounds::shard_parts_max, ", got ",
                                quoted(text)));
    }
    ShardSpec spec;
    spec.count = static_cast<std::uint32_t>(*count);
    if (index_text == "auto") {
        spec.automatic = true;
        return spec;
    }
    const auto index = decimal(index_text);
    if (!index) throw expected();
    if (*index >= *count) {
        throw ValueError(concat("part ", *index, " of ", *count, " does not exist: parts are numbered 0 to ", *count - 1));
    }
    spec.index = static_cast<std::uint32_t>(*index);
    return spec;
}

std::uint32_t resolve_shard_index(std::uint32_t count, const GetEnv& get_env) {
    struct Source {
        const char* variable;
        bool ordinal;  // the trailing -N of the value, not the whole value
    };
    constexpr Source sources[] = {{"JOB_COMPLETION_INDEX", false}, {"SUPERVENT_SHARD_INDEX", false}, {"HOSTNAME", true}};
    for (const Source& source : sources) {
        const char* value = get_env(source.variable);
        if (value == nullptr || value[0] == '\0') continue;
        const auto index = source.ordinal ? hostname_ordinal(value) : decimal(value);
        if (!index) {
            if (source.ordinal) continue;  // a host name without an ordinal: not a StatefulSet pod
            throw ValueError(concat("auto: ", source.variable, "=", quoted(value), " is not a part index (a number)"));
        }
        if (*index >= count) {
            throw ValueError(concat("auto: ", source.variable, "=", quoted(value), " gives part ", *index,
                                    ", but there are only ", count, " parts (0 to ", count - 1, ")"));
        }
        return static_cast<std::uint32_t>(*index);
    }
    throw ValueError(
        "auto: no part index in the environment: set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it), "
        "SUPERVENT_SHARD_INDEX, or run on a host named NAME-<ordinal> (a StatefulSet pod), or give --shard I/N");
}

void resolve_shard(Settings& settings, const GetEnv& get_env) {
    if (settings.shard_spec.empty()) {
        settings.shard_index = 0;
        settings.shard_count = 1;
        return;
    }
    try {
        const ShardSpec spec = parse_shard_spec(settings.shard_spec);
        settings.shard_count = spec.count;
        settings.shard_index = spec.automatic ? resolve_shard_index(spec.count, get_env) : spec.index;
    } catch (const ValueError& error) {
        throw ConfigError(concat("generation.shard (--shard): ", error.what()));
    }
}

}  // namespace supervent::config
