#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <vector>

#include "config/load.hpp"
#include "fake_env.hpp"
#include "temp_file.hpp"

using supervent::config::ConfigError;
using supervent::config::describe;
using supervent::config::resolve_daemon_settings;
using supervent::config::resolve_token;
using supervent::config::Settings;
using supervent::test::FakeEnv;
using supervent::test::TempDir;
using Catch::Matchers::Contains;

namespace {

constexpr const char* env_token = "xaat-env-0123456789";
constexpr const char* file_token = "xaat-file-0123456789";
constexpr const char* credential_token = "xaat-cred-0123456789";

// Resolves the token for `settings` in `env`, returning the settings.
Settings with_token(Settings settings, const FakeEnv& env) {
    resolve_token(settings, env.get());
    return settings;
}

std::string error_of(std::vector<const char*> args, const FakeEnv& env) {
    args.insert(args.begin(), "superventd");
    try {
        (void)resolve_daemon_settings(static_cast<int>(args.size()), args.data(), env.get());
    } catch (const ConfigError& error) {
        return error.what();
    }
    FAIL("expected a ConfigError");
    return {};
}

}  // namespace

TEST_CASE("token precedence is AXIOM_TOKEN then token file then systemd credential", "[token]") {
    const TempDir dir;
    Settings settings;
    settings.token_file = dir.write("token", std::string(file_token) + "\n");
    (void)dir.write("axiom-token", credential_token);
    FakeEnv env{{{"AXIOM_TOKEN", env_token}, {"CREDENTIALS_DIRECTORY", dir.path()}}};

    auto resolved = with_token(settings, env);
    CHECK(resolved.token == env_token);
    CHECK(resolved.token_source == "AXIOM_TOKEN");

    env.values.erase("AXIOM_TOKEN");
    resolved = with_token(settings, env);
    CHECK(resolved.token == file_token);
    CHECK_THAT(resolved.token_source, Contains("token file"));

    settings.token_file.clear();
    resolved = with_token(settings, env);
    CHECK(resolved.token == credential_token);
    CHECK_THAT(resolved.token_source, Contains("systemd credential"));

    env.values.clear();
    resolved = with_token(settings, env);
    CHECK(resolved.token.empty());
    CHECK(resolved.token_source.empty());
}

TEST_CASE("an empty AXIOM_TOKEN counts as unset", "[token]") {
    const TempDir dir;
    Settings settings;
    settings.token_file = dir.write("token", file_token);
    const FakeEnv env{{{"AXIOM_TOKEN", ""}}};
    CHECK(with_token(settings, env).token == file_token);
}

TEST_CASE("a credential directory without axiom-token means no token", "[token]") {
    const TempDir dir;
    const FakeEnv env{{{"CREDENTIALS_DIRECTORY", dir.path()}}};
    CHECK(with_token(Settings{}, env).token.empty());
}

TEST_CASE("trailing newlines are trimmed from token files", "[token]") {
    const TempDir dir;
    Settings settings;
    settings.token_file = dir.write("token", std::string(file_token) + "\r\n");
    CHECK(with_token(settings, FakeEnv{}).token == file_token);
}

TEST_CASE("bad tokens are refused without showing them", "[token]") {
    const TempDir dir;
    Settings settings;
    SECTION("too long") {
        const std::string token(supervent::bounds::token_bytes_max + 1, 'k');
        settings.token_file = dir.write("token", token);
        CHECK_THROWS_WITH(with_token(settings, FakeEnv{}), Contains("at most 512") && !Contains(token));
    }
    SECTION("a space inside") {
        settings.token_file = dir.write("token", "xaat-with space");
        CHECK_THROWS_WITH(with_token(settings, FakeEnv{}), Contains("position 10") && !Contains("xaat"));
    }
    SECTION("a control character from the environment") {
        const FakeEnv env{{{"AXIOM_TOKEN", "xaat\tsecret"}}};
        CHECK_THROWS_WITH(with_token(settings, env), Contains("AXIOM_TOKEN") && !Contains("secret"));
    }
    SECTION("an empty file") {
        settings.token_file = dir.write("token", "\n");
        CHECK_THROWS_WITH(with_token(settings, FakeEnv{}), Contains("is empty"));
    }
    SECTION("a missing file") {
        settings.token_file = dir.path() + "/nope";
        CHECK_THROWS_WITH(with_token(settings, FakeEnv{}), Contains("nope") && Contains("No such file"));
    }
}

TEST_CASE("token file option and config key feed the token and the command line wins", "[token]") {
    const TempDir dir;
    const auto cli_file = dir.write("cli-token", "xaat-cli");
    const auto config_file = dir.write("config-token", "xaat-config");
    const auto config = dir.write("c.toml", "[sink]\ntoken_file = \"" + config_file + "\"\n");
    const std::string token_file_option = "--token-file=" + cli_file;
    const char* args[] = {"superventd", token_file_option.c_str(), "--config", config.c_str()};
    const auto result = resolve_daemon_settings(4, args, FakeEnv{}.get());
    CHECK(std::get<Settings>(result).token == "xaat-cli");

    const char* config_only[] = {"superventd", "--config", config.c_str()};
    CHECK(std::get<Settings>(resolve_daemon_settings(3, config_only, FakeEnv{}.get())).token == "xaat-config");
}

TEST_CASE("the token never appears in describe()", "[token]") {
    const FakeEnv env{{{"AXIOM_TOKEN", env_token}}};
    const char* args[] = {"superventd", "--check-config"};
    const auto settings = std::get<Settings>(resolve_daemon_settings(2, args, env.get()));
    const auto summary = describe(settings);
    CHECK_THAT(summary, Contains("set (from AXIOM_TOKEN)"));
    CHECK_THAT(summary, !Contains(env_token));
    CHECK_THAT(describe(Settings{}), Contains("not set"));
}

TEST_CASE("the token never appears in errors even when pasted into an option", "[token]") {
    const FakeEnv env{{{"AXIOM_TOKEN", env_token}}};
    CHECK_THAT(error_of({"--dataset", "xaat-env-0123456789/"}, env), Contains("<redacted>") && !Contains(env_token));
    CHECK_THAT(error_of({"--rate", env_token}, env), !Contains(env_token));
    CHECK_THAT(error_of({"--token=xaat-literal"}, env),
               Contains("never taken from the command line") && !Contains("xaat-literal"));
    CHECK_THAT(error_of({"--sink", "http://me:xaat-pw@host"}, env), !Contains("xaat-pw"));
}

TEST_CASE("a token file other users can read is warned about, naming the file and its mode", "[token]") {
    const TempDir dir;
    Settings settings;
    settings.token_file = dir.write("token", std::string(file_token) + "\n");
    const FakeEnv env{{}};

    REQUIRE(::chmod(settings.token_file.c_str(), 0644) == 0);
    auto resolved = with_token(settings, env);
    CHECK(resolved.token == file_token);
    REQUIRE(resolved.warnings.size() == 1);
    CHECK_THAT(resolved.warnings[0], Contains(settings.token_file) && Contains("mode 0644") &&
                                         Contains("readable by every user") && !Contains(file_token));

    REQUIRE(::chmod(settings.token_file.c_str(), 0640) == 0);
    CHECK(with_token(settings, env).warnings.empty());
    REQUIRE(::chmod(settings.token_file.c_str(), 0600) == 0);
    CHECK(with_token(settings, env).warnings.empty());

    // The systemd credential is checked the same way.
    (void)dir.write("axiom-token", credential_token);
    REQUIRE(::chmod((dir.path() + "/axiom-token").c_str(), 0604) == 0);
    settings.token_file.clear();
    const FakeEnv systemd{{{"CREDENTIALS_DIRECTORY", dir.path()}}};
    resolved = with_token(settings, systemd);
    CHECK(resolved.token == credential_token);
    REQUIRE(resolved.warnings.size() == 1);
    CHECK_THAT(resolved.warnings[0], Contains("axiom-token") && Contains("mode 0604"));
}
