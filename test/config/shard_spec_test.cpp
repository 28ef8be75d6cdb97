// --shard I/N and generation.shard: the syntax, "auto" from the environment
// (Kubernetes Indexed Job, SUPERVENT_SHARD_INDEX, StatefulSet host names),
// and the errors a user sees.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "config/load.hpp"
#include "config/shard_spec.hpp"
#include "config/values.hpp"
#include "fake_env.hpp"

using namespace supervent::config;
using supervent::test::FakeEnv;
using Catch::Matchers::Contains;

namespace {

std::string parse_error(std::string_view text) {
    try {
        (void)parse_shard_spec(text);
    } catch (const detail::ValueError& e) {
        return e.what();
    }
    return "";
}

std::string resolve_error(std::uint32_t count, const FakeEnv& env) {
    try {
        (void)resolve_shard_index(count, env.get());
    } catch (const detail::ValueError& e) {
        return e.what();
    }
    return "";
}

Settings settings_from(std::vector<const char*> args, const FakeEnv& env) {
    args.insert(args.begin(), "superventd");
    return std::get<Settings>(resolve_daemon_settings(static_cast<int>(args.size()), args.data(), env.get()));
}

}  // namespace

TEST_CASE("shard specs: I/N and auto/N", "[shard]") {
    const ShardSpec a = parse_shard_spec("3/8");
    CHECK((!a.automatic && a.index == 3 && a.count == 8));
    const ShardSpec b = parse_shard_spec("0/1");
    CHECK((b.index == 0 && b.count == 1));
    const ShardSpec c = parse_shard_spec("auto/4");
    CHECK((c.automatic && c.count == 4));
    CHECK(parse_shard_spec("65535/65536").index == 65535);
}

TEST_CASE("shard specs that are refused say why", "[shard]") {
    CHECK_THAT(parse_error("8/8"), Contains("part 8 of 8 does not exist") && Contains("0 to 7"));
    CHECK_THAT(parse_error("1/0"), Contains("between 1 and 65536"));
    CHECK_THAT(parse_error("0/65537"), Contains("between 1 and 65536"));
    for (const char* bad : {"", "3", "/4", "3/", "-1/4", "a/4", "3/4x", " 3/4", "3 / 4", "AUTO/4", "auto"}) {
        INFO(bad);
        CHECK_THAT(parse_error(bad), Contains("expected I/N"));
    }
}

TEST_CASE("auto takes the index from the Indexed Job, then SUPERVENT_SHARD_INDEX, then the host name", "[shard]") {
    FakeEnv env;
    env.values = {{"JOB_COMPLETION_INDEX", "2"}, {"SUPERVENT_SHARD_INDEX", "1"}, {"HOSTNAME", "gen-0"}};
    CHECK(resolve_shard_index(4, env.get()) == 2);
    env.values.erase("JOB_COMPLETION_INDEX");
    CHECK(resolve_shard_index(4, env.get()) == 1);
    env.values.erase("SUPERVENT_SHARD_INDEX");
    CHECK(resolve_shard_index(4, env.get()) == 0);
    env.values["HOSTNAME"] = "supervent-live-3";
    CHECK(resolve_shard_index(4, env.get()) == 3);
    env.values["JOB_COMPLETION_INDEX"] = "";  // empty counts as unset
    CHECK(resolve_shard_index(4, env.get()) == 3);
}

TEST_CASE("auto without an index, or with one out of range, is refused clearly", "[shard]") {
    FakeEnv env;
    CHECK_THAT(resolve_error(4, env), Contains("no part index in the environment") && Contains("JOB_COMPLETION_INDEX"));
    env.values["HOSTNAME"] = "laptop";  // not a StatefulSet pod: no ordinal
    CHECK_THAT(resolve_error(4, env), Contains("no part index"));
    env.values["HOSTNAME"] = "gen-4";
    CHECK_THAT(resolve_error(4, env), Contains("HOSTNAME") && Contains("only 4 parts"));
    env.values["SUPERVENT_SHARD_INDEX"] = "x1";
    CHECK_THAT(resolve_error(4, env), Contains("SUPERVENT_SHARD_INDEX") && Contains("not a part index"));
    env.values["JOB_COMPLETION_INDEX"] = "9";
    CHECK_THAT(resolve_error(4, env), Contains("JOB_COMPLETION_INDEX") && Contains("gives part 9"));
}

TEST_CASE("the shard option resolves into the settings and the seed option marks the seed as given", "[shard]") {
    FakeEnv env;
    Settings whole = settings_from({}, env);
    CHECK((whole.shard_index == 0 && whole.shard_count == 1 && !whole.seed_given));
    Settings part = settings_from({"--shard", "2/5", "--seed", "9"}, env);
    CHECK((part.shard_index == 2 && part.shard_count == 5 && part.seed == 9 && part.seed_given));
    env.values["JOB_COMPLETION_INDEX"] = "4";
    Settings job = settings_from({"--shard", "auto/5"}, env);
    CHECK((job.shard_index == 4 && job.shard_count == 5));
    env.values["JOB_COMPLETION_INDEX"] = "5";
    CHECK_THROWS_WITH(settings_from({"--shard", "auto/5"}, env), Contains("generation.shard") && Contains("only 5 parts"));
    CHECK_THROWS_WITH(settings_from({"--shard", "5/5"}, env), Contains("--shard") && Contains("does not exist"));
}

TEST_CASE("generation.shard in the config file", "[shard]") {
    FakeEnv env;
    Settings s = load_toml_text("[generation]\nshard = \"1/3\"\nseed = 5\n", "test.toml");
    resolve_shard(s, env.get());
    CHECK((s.shard_index == 1 && s.shard_count == 3 && s.seed_given));
    CHECK_THROWS_WITH(load_toml_text("[generation]\nshard = \"3/3\"\n", "test.toml"),
                      Contains("test.toml:2") && Contains("shard") && Contains("does not exist"));
}
