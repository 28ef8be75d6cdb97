// Every kernel set this CPU supports against the scalar reference, on random
// tables and inputs.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "core/event_key.hpp"
#include "core/kernels.hpp"
#include "core/program_source.hpp"
#include "core/scenarios.hpp"
#include "core/program.hpp"
#include "core/rng.hpp"

using namespace supervent::core;

namespace {

std::vector<std::uint64_t> random_words(std::uint64_t seed, std::size_t count) {
    std::vector<std::uint64_t> out(count);
    for (auto& w : out) w = splitmix64_next(seed);
    return out;
}

std::vector<double> random_weights(std::uint64_t& seed, std::size_t count) {
    std::vector<double> w(count);
    for (auto& x : w) x = static_cast<double>(splitmix64_next(seed) % 1000);
    w[0] += 1;  // never all zero
    return w;
}

}  // namespace

TEST_CASE("the scalar kernel set is listed first and selectable", "[kernels]") {
    REQUIRE(supported_kernels().front() == &scalar_kernels());
    CHECK(scalar_kernels().name == "scalar");
}

TEST_CASE("every kernel's keyed fill matches keyed_word", "[kernels]") {
    const auto keys = random_words(5, 1000);
    for (const Kernels* k : supported_kernels()) {
        INFO("kernel " << k->name);
        for (const std::uint64_t draw : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{37}, std::uint64_t{1} << 20}) {
            std::vector<std::uint64_t> got(1000);
            k->fill_keyed(keys.data(), 1000, draw, got.data());
            bool same = true;
            for (std::size_t i = 0; i < 1000; ++i) same &= got[i] == keyed_word(keys[i], draw);
            CHECK(same);
        }
    }
}

TEST_CASE("every kernel's alias and bucket sampling matches the scalar reference", "[kernels]") {
    std::uint64_t seed = 11;
    for (int round = 0; round < 50; ++round) {
        const std::size_t n = 1 + splitmix64_next(seed) % (round < 25 ? 16 : 5000);
        const AliasTable table = build_alias_table(random_weights(seed, n));
        BucketTable buckets;
        buckets.pick = table;
        for (std::size_t i = 0; i < n; ++i) {
            buckets.lo.push_back(splitmix64_next(seed) >> (splitmix64_next(seed) % 64));
            buckets.span.push_back(splitmix64_next(seed) >> (32 + splitmix64_next(seed) % 32));
        }
        buckets.span[0] = 0;  // the 2^32 case
        const std::size_t count = 8 * (1 + splitmix64_next(seed) % 64);
        const auto raw = random_words(seed, 2 * count);
        std::vector<std::uint64_t> want(count);
        std::vector<std::uint64_t> want_buckets(count);
        scalar_kernels().sample_alias(raw.data(), count, table.view(), want.data());
        scalar_kernels().sample_buckets(raw.data(), raw.data() + count, count, buckets.view(), want_buckets.data());
        for (const Kernels* k : supported_kernels()) {
            INFO("kernel " << k->name << " round " << round);
            std::vector<std::uint64_t> got(count);
            k->sample_alias(raw.data(), count, table.view(), got.data());
            CHECK(got == want);
            k->sample_buckets(raw.data(), raw.data() + count, count, buckets.view(), got.data());
            CHECK(got == want_buckets);
        }
    }
}

TEST_CASE("alias tables reproduce their weights exactly", "[kernels]") {
    std::uint64_t seed = 5;
    for (int round = 0; round < 20; ++round) {
        const std::size_t n = 1 + splitmix64_next(seed) % 40;
        const std::vector<double> weights = random_weights(seed, n);
        const AliasTable t = build_alias_table(weights);
        double sum = 0;
        for (const double w : weights) sum += w;
        // The probability each index gets: its own slot's keep share plus
        // every slot that aliases to it.
        std::vector<double> p(n, 0.0);
        for (std::size_t slot = 0; slot < n; ++slot) {
            const double keep = t.threshold[slot] == UINT32_MAX ? 1.0 : t.threshold[slot] / 4294967296.0;
            p[slot] += keep / static_cast<double>(n);
            p[t.alias[slot]] += (1.0 - keep) / static_cast<double>(n);
        }
        for (std::size_t i = 0; i < n; ++i) CHECK(p[i] == Approx(weights[i] / sum).margin(1e-6));
    }
}

TEST_CASE("bad weights are refused", "[kernels]") {
    CHECK_THROWS_AS(build_alias_table(std::vector<double>{}), std::invalid_argument);
    CHECK_THROWS_AS(build_alias_table(std::vector<double>{0, 0}), std::invalid_argument);
    CHECK_THROWS_AS(build_alias_table(std::vector<double>{1, -1}), std::invalid_argument);
}

TEST_CASE("SUPERVENT_KERNEL forces a kernel set and refuses unknown ones", "[kernels]") {
    for (const Kernels* k : supported_kernels()) {
        ::setenv("SUPERVENT_KERNEL", std::string(k->name).c_str(), 1);
        CHECK(&select_kernels() == k);
    }
    ::setenv("SUPERVENT_KERNEL", "avx3", 1);
    CHECK_THROWS_AS(select_kernels(), std::runtime_error);
    ::unsetenv("SUPERVENT_KERNEL");
    CHECK(&select_kernels() == supported_kernels().back());
}

TEST_CASE("web_access batches are byte-identical under every kernel set", "[kernels]") {
    std::vector<std::string> outputs;
    for (const Kernels* k : supported_kernels()) {
        ProgramSource source(web_access_program(), SourceIdentity{77, 1, 2}, 1000, *k);
        std::vector<char> out(1000 * source.event_bytes_max());
        std::string all;
        for (const std::uint32_t count : {1000u, 3u, 513u}) {
            const std::size_t bytes = source.write_ndjson(count, {0, 3'600'000'000'000}, out);
            all.append(out.data(), bytes);
        }
        outputs.push_back(std::move(all));
    }
    for (const std::string& o : outputs) CHECK(o == outputs.front());
}
