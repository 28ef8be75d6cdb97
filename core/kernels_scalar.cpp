// The scalar reference kernels, and the choice between kernel sets.
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event_key.hpp"
#include "core/kernels.hpp"
#include "core/serialize.hpp"

namespace supervent::core {
namespace {

void sample_alias_scalar(const std::uint64_t* raw, std::size_t count, AliasView table,
                         std::uint64_t* out) {
    for (std::size_t i = 0; i < count; ++i) {
        out[i] = alias_sample_one(raw[i], table);
    }
}

void sample_buckets_scalar(const std::uint64_t* raw_pick, const std::uint64_t* raw_value,
                           std::size_t count, BucketView buckets, std::uint64_t* out) {
    for (std::size_t i = 0; i < count; ++i) {
        out[i] = bucket_sample_one(raw_pick[i], raw_value[i], buckets);
    }
}

void fill_keyed_scalar(const std::uint64_t* __restrict keys, std::size_t count, std::uint64_t draw,
                       std::uint64_t* __restrict out) {
    for (std::size_t i = 0; i < count; ++i) out[i] = keyed_word(keys[i], draw);
}

// Baseline x86-64: a 32-byte chunk is two SSE moves.
char* serialize_scalar(const SerializePlan& plan, std::uint32_t count, char* out, std::uint32_t* event_ends,
                       const char* base) {
    return serialize_planned<32>(plan, count, out, event_ends, base);
}

constexpr Kernels scalar_set{"scalar", sample_alias_scalar, sample_buckets_scalar,
                             fill_keyed_scalar, serialize_scalar};

}  // namespace

const Kernels* avx2_kernels_if_supported();
const Kernels* avx512_kernels_if_supported();

const Kernels& scalar_kernels() { return scalar_set; }

std::span<const Kernels* const> supported_kernels() {
    static const std::vector<const Kernels*> sets = [] {
        std::vector<const Kernels*> found{&scalar_set};
        if (const Kernels* k = avx2_kernels_if_supported()) found.push_back(k);
        if (const Kernels* k = avx512_kernels_if_supported()) found.push_back(k);
        return found;
    }();
    return sets;
}

const Kernels& select_kernels() {
    const auto sets = supported_kernels();
    const char* forced = std::getenv("SUPERVENT_KERNEL");
    if (forced == nullptr || *forced == '\0') return *sets.back();
    for (const Kernels* k : sets) {
        if (k->name == forced) return *k;
    }
    throw std::runtime_error(std::string("SUPERVENT_KERNEL=") + forced +
                             " is not a kernel set this CPU supports (scalar, avx2, avx512)");
}

}  // namespace supervent::core
