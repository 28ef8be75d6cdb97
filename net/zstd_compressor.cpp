#include "net/zstd_compressor.hpp"

// ZSTD_c_literalCompressionMode is in zstd's experimental section: the
// parameter is accepted by the shared library, only its name needs this.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <charconv>
#include <string>

namespace supervent::net {

namespace {

struct ProfileKey {
    std::string_view name;
    int ZstdProfile::*field;
    ZSTD_cParameter parameter;
};

constexpr ProfileKey profile_keys[] = {
    {"level", &ZstdProfile::level, ZSTD_c_compressionLevel},
    {"strategy", &ZstdProfile::strategy, ZSTD_c_strategy},
    {"wlog", &ZstdProfile::window_log, ZSTD_c_windowLog},
    {"hlog", &ZstdProfile::hash_log, ZSTD_c_hashLog},
    {"clog", &ZstdProfile::chain_log, ZSTD_c_chainLog},
    {"slog", &ZstdProfile::search_log, ZSTD_c_searchLog},
    {"mml", &ZstdProfile::min_match, ZSTD_c_minMatch},
    {"tlen", &ZstdProfile::target_length, ZSTD_c_targetLength},
};

// Refuses a value outside libzstd's bounds for the parameter, naming both.
void check_bounds(std::string_view key, ZSTD_cParameter parameter, int value) {
    const ZSTD_bounds bounds = ZSTD_cParam_getBounds(parameter);
    if (ZSTD_isError(bounds.error) != 0) throw std::invalid_argument("zstd: this libzstd has no '" + std::string(key) + "'");
    const bool zero_keeps_default = parameter != ZSTD_c_compressionLevel;
    if ((value == 0 && zero_keeps_default) || (value >= bounds.lowerBound && value <= bounds.upperBound)) return;
    throw std::invalid_argument("zstd " + std::string(key) + " " + std::to_string(value) + " is outside " +
                                std::to_string(bounds.lowerBound) + ".." + std::to_string(bounds.upperBound));
}

ZstdLiterals parse_literals(std::string_view value) {
    if (value == "auto") return ZstdLiterals::level_default;
    if (value == "huffman") return ZstdLiterals::huffman;
    if (value == "raw") return ZstdLiterals::raw;
    throw std::invalid_argument("zstd lit '" + std::string(value) + "': expected auto, huffman or raw");
}

void set(ZSTD_CCtx* context, ZSTD_cParameter parameter, int value) {
    const std::size_t result = ZSTD_CCtx_setParameter(context, parameter, value);
    if (ZSTD_isError(result) != 0) throw std::invalid_argument(std::string("zstd: ") + ZSTD_getErrorName(result));
}

}  // namespace

ZstdProfile parse_zstd_profile(std::string_view spec) {
    ZstdProfile profile;
    while (!spec.empty()) {
        const std::size_t comma = spec.find(',');
        const std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) throw std::invalid_argument("zstd profile item '" + std::string(item) + "': expected KEY=VALUE");
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        if (key == "lit") {
            profile.literals = parse_literals(value);
            continue;
        }
        const ProfileKey* found = nullptr;
        for (const ProfileKey& candidate : profile_keys) {
            if (candidate.name == key) found = &candidate;
        }
        if (found == nullptr) throw std::invalid_argument("zstd profile key '" + std::string(key) + "' is unknown");
        int number = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (error != std::errc{} || end != value.data() + value.size() || value.empty()) {
            throw std::invalid_argument("zstd " + std::string(key) + " '" + std::string(value) + "' is not an integer");
        }
        check_bounds(key, found->parameter, number);
        profile.*(found->field) = number;
    }
    return profile;
}

ZstdProfile zstd_fast_profile() { return parse_zstd_profile(zstd_fast_profile_spec); }

std::string zstd_profile_spec(const ZstdProfile& profile) {
    std::string spec = "level=" + std::to_string(profile.level);
    for (const ProfileKey& key : profile_keys) {
        if (key.parameter == ZSTD_c_compressionLevel || profile.*(key.field) == 0) continue;
        spec += "," + std::string(key.name) + "=" + std::to_string(profile.*(key.field));
    }
    if (profile.literals == ZstdLiterals::huffman) spec += ",lit=huffman";
    if (profile.literals == ZstdLiterals::raw) spec += ",lit=raw";
    return spec;
}

ZstdCompressor::ZstdCompressor(int level) : ZstdCompressor(ZstdProfile{.level = level}) {}

ZstdCompressor::ZstdCompressor(const ZstdProfile& profile) : context_(ZSTD_createCCtx()), profile_(profile) {
    if (context_ == nullptr) throw std::runtime_error("cannot create a zstd compression context");
    try {
        if (profile.level < ZSTD_minCLevel() || profile.level > ZSTD_maxCLevel()) {
            throw std::invalid_argument("zstd level " + std::to_string(profile.level) + " is outside " +
                                        std::to_string(ZSTD_minCLevel()) + ".." + std::to_string(ZSTD_maxCLevel()));
        }
        // The level first: it resets the parameters the overrides then replace.
        for (const ProfileKey& key : profile_keys) {
            const int value = profile.*(key.field);
            if (key.parameter == ZSTD_c_compressionLevel || value != 0) set(context_, key.parameter, value);
        }
        if (profile.literals != ZstdLiterals::level_default) {
            set(context_, ZSTD_c_literalCompressionMode,
                profile.literals == ZstdLiterals::raw ? ZSTD_ps_disable : ZSTD_ps_enable);
        }
        // The receiver learns the size from the frame: cheaper decompression.
        set(context_, ZSTD_c_contentSizeFlag, 1);
        set(context_, ZSTD_c_checksumFlag, 0);
    } catch (...) {
        ZSTD_freeCCtx(context_);
        throw;
    }
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(context_); }

std::size_t ZstdCompressor::bound_bytes(std::size_t input_bytes) { return ZSTD_compressBound(input_bytes); }

// ZSTD_compress2 into an `out` of at least the bound writes the frame straight
// there (the caller's registered slot), with no staging buffer of its own.
std::size_t ZstdCompressor::compress(std::span<const char> in, std::span<char> out) {
    const std::size_t result = ZSTD_compress2(context_, out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(result) != 0) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(result));
    return result;
}

}  // namespace supervent::net
