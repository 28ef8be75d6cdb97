// Planning (daemon/planning.hpp): settings and hand-written inputs in, shard
// plans out. plan_shards is pure, so these tests plan machines and sinks
// they do not have (five CPUs, a pipe, a host that is never resolved) and
// check that nothing is created on disk; only the last tests touch the
// system, through steps 1 and 3.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>

#include "config/load.hpp"
#include "daemon/planning.hpp"

using supervent::config::SinkUrl;
using supervent::daemon::look_up_plan_inputs;
using supervent::daemon::plan_shards;
using supervent::daemon::PlanInputs;
using supervent::daemon::RunPlan;
using Catch::Matchers::Contains;
using Level = supervent::daemon::log::Level;

namespace {

supervent::config::Settings discard_settings(std::uint32_t workers) {
    supervent::config::Settings settings;
    settings.sink = SinkUrl{SinkUrl::Kind::discard, "", 0, "", "", "discard:"};
    settings.workers = workers;
    return settings;
}

supervent::config::Settings file_settings(const std::string& path, std::uint32_t workers) {
    supervent::config::Settings settings = discard_settings(workers);
    settings.sink = SinkUrl{SinkUrl::Kind::file, "", 0, "", path, "file:" + path};
    return settings;
}

supervent::config::Settings http_settings(std::uint32_t workers) {
    supervent::config::Settings settings = discard_settings(workers);
    settings.sink = SinkUrl{SinkUrl::Kind::http, "sink.test", 8080, "/proxy", "", "http://sink.test:8080/proxy"};
    return settings;
}

// The sink's address as step 1 would have found it: 192.0.2.7:8080.
PlanInputs http_inputs(std::uint32_t cpus) {
    PlanInputs inputs;
    inputs.online_cpus = cpus;
    auto& address = reinterpret_cast<sockaddr_in&>(inputs.sink_address);
    address.sin_family = AF_INET;
    address.sin_port = htons(8080);
    REQUIRE(::inet_pton(AF_INET, "192.0.2.7", &address.sin_addr) == 1);
    inputs.sink_address_bytes = sizeof(sockaddr_in);
    return inputs;
}

PlanInputs cpus(std::uint32_t count) {
    PlanInputs inputs;
    inputs.online_cpus = count;
    return inputs;
}

std::string source(const std::string& name, const std::string& dataset) {
    return "[sources." + name + "]\ndataset = \"" + dataset + "\"\n[sources." + name +
           ".fields.n]\ntype = \"integer\"\nmin = 1\nmax = 9\n[[sources." + name +
           ".event_types]]\nname = \"hit\"\nmessage = \"" + name + " {n}\"\n";
}

// A path in the temporary directory that nothing is at.
std::string absent_path(const std::string& name) {
    const std::string path = "/tmp/supervent-planning-" + std::to_string(::getpid()) + "-" + name;
    std::remove(path.c_str());
    return path;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_CASE("plan_shards splits the budget and the rate and refuses what it cannot do", "[plan]") {
    supervent::config::Settings settings = discard_settings(3);
    settings.events = 10;
    settings.rate_eps = 300.0;
    const auto plans = plan_shards(settings, cpus(8)).shards;
    REQUIRE(plans.size() == 3);
    CHECK(plans[0].events_budget == 4);
    CHECK(plans[1].events_budget == 3);
    CHECK(plans[2].events_budget == 3);
    for (const auto& plan : plans) CHECK(plan.rate_eps == Approx(100.0));
    CHECK(plans[1].identity.shard_index == 1);
    CHECK(plans[1].identity.shard_count == 3);

    settings.scenario = "no_such_scenario";
    CHECK_THROWS_WITH(plan_shards(settings, cpus(8)), Contains("web_access"));
}

TEST_CASE("event budget shares sum to --events exactly, whatever the worker count", "[plan]") {
    supervent::config::Settings settings = discard_settings(7);
    settings.events = 1'000'003;
    const auto plans = plan_shards(settings, cpus(8)).shards;
    REQUIRE(plans.size() == 7);
    std::uint64_t sum = 0;
    for (const auto& plan : plans) {
        CHECK((plan.events_budget == 142'857 || plan.events_budget == 142'858));
        CHECK(plan.count == 7);
        sum += plan.events_budget;
    }
    CHECK(sum == 1'000'003);
    for (const auto& plan : plans) CHECK(plan.rate_eps == 0);  // no --rate: unlimited
}

TEST_CASE("the worker count: explicit, one per CPU the inputs report, never more than --events", "[plan]") {
    supervent::config::Settings settings = discard_settings(3);
    CHECK(plan_shards(settings, cpus(8)).shards.size() == 3);

    settings.workers = 0;  // one per online CPU: the inputs', not this machine's
    CHECK(plan_shards(settings, cpus(5)).shards.size() == 5);
    CHECK(plan_shards(settings, cpus(1)).shards.size() == 1);

    settings.workers = 3;
    settings.events = 2;  // fewer events than workers: no idle shards
    CHECK(plan_shards(settings, cpus(8)).shards.size() == 2);
    CHECK(plan_shards(settings, cpus(8)).messages.empty());
}

TEST_CASE("one worker for stdout, non-regular files and rotating files, each said in a notice", "[plan]") {
    supervent::config::Settings settings = discard_settings(4);
    settings.sink = SinkUrl{SinkUrl::Kind::stdout_stream, "", 0, "", "", "stdout:"};
    RunPlan run = plan_shards(settings, cpus(8));
    CHECK(run.shards.size() == 1);  // lines must not interleave
    REQUIRE(run.messages.size() == 1);
    CHECK(run.messages[0].level == Level::notice);
    CHECK(run.messages[0].text == "stdout: is not a regular file; using one worker so lines never interleave");

    settings = file_settings("/run/some.fifo", 4);
    PlanInputs pipe = cpus(8);
    pipe.output_file = PlanInputs::OutputFile::other;
    run = plan_shards(settings, pipe);
    CHECK(run.shards.size() == 1);
    REQUIRE(run.messages.size() == 1);
    CHECK_THAT(run.messages[0].text, Contains("file:/run/some.fifo is not a regular file"));

    settings = file_settings("/dev/null", 4);  // a character device many may write to
    CHECK(plan_shards(settings, pipe).shards.size() == 4);

    PlanInputs regular = cpus(8);
    regular.output_file = PlanInputs::OutputFile::regular;
    settings = file_settings("/var/log/events.ndjson", 4);
    CHECK(plan_shards(settings, regular).shards.size() == 4);
    settings.rotate_bytes = 1 << 20;
    run = plan_shards(settings, regular);
    CHECK(run.shards.size() == 1);
    REQUIRE(run.messages.size() == 1);
    CHECK(run.messages[0].text == "file:/var/log/events.ndjson rotates (sink.rotate_bytes): using one worker, the one "
                                  "writer that decides where each batch goes");
}

TEST_CASE("planning a file sink creates no file; open_run_files starts it afresh, one descriptor per shard",
          "[plan]") {
    const std::string path = absent_path("fresh.ndjson");
    const supervent::config::Settings settings = file_settings(path, 3);
    RunPlan run = plan_shards(settings, cpus(8));
    CHECK_FALSE(exists(path));
    REQUIRE(run.shards.size() == 3);
    for (const auto& plan : run.shards) CHECK(plan.sink.file_fd == -1);

    { std::ofstream(path) << "an earlier run's line\n"; }
    supervent::daemon::open_run_files(settings, run.shards);
    std::ifstream file(path);
    CHECK(file.peek() == std::ifstream::traits_type::eof());  // truncated
    for (const auto& plan : run.shards) {
        CHECK(plan.sink.file_fd >= 0);
        CHECK(plan.checkpoint == nullptr);
        if (plan.sink.file_fd >= 0) ::close(plan.sink.file_fd);
    }
    CHECK(run.shards[0].sink.file_fd != run.shards[1].sink.file_fd);
    std::remove(path.c_str());
}

TEST_CASE("an HTTP sink posts each source to its dataset's path, from the inputs' addresses", "[plan]") {
    supervent::config::Settings settings = supervent::config::load_toml_text(
        source("alpha", "a") + source("beta", "b") + source("gamma", "c"), "plan.toml");
    settings.sink = http_settings(2).sink;
    settings.workers = 2;
    PlanInputs inputs = http_inputs(4);
    inputs.local_addresses.resize(2);
    reinterpret_cast<sockaddr_in&>(inputs.local_addresses[1]).sin_family = AF_INET;
    const RunPlan run = plan_shards(settings, inputs);
    REQUIRE(run.shards.size() == 2);
    const auto& http = run.shards[1].sink.http;
    CHECK(http.target.path == "/proxy/v1/datasets/a/ingest");
    REQUIRE(http.route_paths.size() == 2);
    CHECK(http.route_paths[0] == "/proxy/v1/datasets/b/ingest");
    CHECK(http.route_paths[1] == "/proxy/v1/datasets/c/ingest");
    CHECK(http.target.host_header == "sink.test:8080");
    CHECK(http.address_bytes == sizeof(sockaddr_in));
    CHECK(reinterpret_cast<const sockaddr_in&>(http.address).sin_port == htons(8080));
    CHECK(http.local_addresses.size() == 2);
    // A slot per request a pipeline may hold, and one behind each connection's.
    CHECK(run.shards[1].slots == settings.connections * (settings.pipeline_depth_max + 1));
    CHECK(http.pipeline_depth_max == settings.pipeline_depth_max);
    CHECK(http.pipeline_depth == 2);

    settings.edge = supervent::config::EdgeMode::on;
    const RunPlan edge = plan_shards(settings, inputs);
    CHECK(edge.shards[0].sink.http.target.path == "/proxy/v1/ingest/a");
    CHECK(edge.shards[0].sink.http.route_paths.at(1) == "/proxy/v1/ingest/c");
}

TEST_CASE("a request head that overflows its head room is refused, naming the sizes", "[plan]") {
    supervent::config::Settings settings = http_settings(1);
    settings.token = std::string(1000, 't');
    CHECK_NOTHROW(plan_shards(settings, http_inputs(1)));
    settings.token = std::string(2100, 't');
    CHECK_THROWS_AS(plan_shards(settings, http_inputs(1)), std::invalid_argument);
    CHECK_THROWS_WITH(plan_shards(settings, http_inputs(1)),
                      Contains("the HTTP request head (URL, dataset, token and event labels) takes up to ") &&
                          Contains(" bytes, more than the 2047 it may have: shorten sink.event_labels"));
}

TEST_CASE("zero copy, compression, drain and timeouts reach every shard's plan", "[plan]") {
    supervent::config::Settings settings = http_settings(2);
    settings.zero_copy = supervent::config::ZeroCopyMode::off;
    settings.compression = supervent::config::Compression{true, 7};
    settings.drain_timeout_s = 2.5;
    settings.connect_timeout_s = 1.5;
    settings.request_timeout_s = 4;
    settings.duration_s = 0.25;
    settings.tcp_nodelay = false;
    settings.connections = 3;
    const RunPlan run = plan_shards(settings, http_inputs(4));
    REQUIRE(run.shards.size() == 2);
    for (const auto& plan : run.shards) {
        CHECK(plan.zero_copy == supervent::config::ZeroCopyMode::off);
        CHECK(plan.compression.zstd);
        CHECK(plan.compression.level == 7);
        CHECK(plan.drain_timeout_ns == 2'500'000'000);
        CHECK(plan.duration_ns == 250'000'000);
        CHECK(plan.sink.http.connect_timeout_ns == 1'500'000'000);
        CHECK(plan.sink.http.request_timeout_ns == 4'000'000'000);
        CHECK(plan.sink.http.target.content_encoding == "zstd");
        CHECK_FALSE(plan.sink.http.tcp_nodelay);
        CHECK(plan.sink.http.connections == 3);
    }
}

TEST_CASE("pinned shards take CPU i % cpus; unpinned ones none", "[plan]") {
    supervent::config::Settings settings = discard_settings(5);
    RunPlan run = plan_shards(settings, cpus(2));
    REQUIRE(run.shards.size() == 5);
    for (std::uint32_t i = 0; i < 5; ++i) CHECK(run.shards[i].cpu == static_cast<int>(i % 2));
    settings.pin_threads = false;
    run = plan_shards(settings, cpus(2));
    for (const auto& plan : run.shards) CHECK(plan.cpu == -1);
}

TEST_CASE("risky or ignored settings come back as warnings, not log lines", "[plan]") {
    supervent::config::Settings settings = http_settings(1);
    settings.sink = SinkUrl{SinkUrl::Kind::https, "sink.test", 443, "", "", "https://sink.test"};
    settings.tls_skip_verify = true;
    RunPlan run = plan_shards(settings, http_inputs(1));
    REQUIRE(run.messages.size() == 1);
    CHECK(run.messages[0].level == Level::warning);
    CHECK_THAT(run.messages[0].text, Contains("TLS CERTIFICATE VERIFICATION IS OFF") && Contains("pose as sink.test "));
    CHECK(run.shards[0].sink.http.tls.enabled);
    CHECK(run.shards[0].sink.http.target.host_header == "sink.test");

    settings = discard_settings(1);
    settings.event_labels = {{"team", "a"}};
    run = plan_shards(settings, cpus(1));
    REQUIRE(run.messages.size() == 1);
    CHECK(run.messages[0].text ==
          "sink.event_labels are sent to HTTP sinks only (as X-Axiom-Event-Labels); discard: ignores them");
}

TEST_CASE("looking up the inputs: a sink host that does not resolve is named", "[plan]") {
    // An https sink is planned like http (TLS is the transport's).
    supervent::config::Settings settings = discard_settings(1);
    settings.sink = SinkUrl{SinkUrl::Kind::https, "example.invalid", 443, "", "", "https://example.invalid"};
    CHECK_THROWS_WITH(look_up_plan_inputs(settings), Contains("example.invalid"));

    settings.sink = SinkUrl{SinkUrl::Kind::http, "127.0.0.1", 9, "", "", "http://127.0.0.1:9"};
    const PlanInputs inputs = look_up_plan_inputs(settings);
    CHECK(inputs.online_cpus >= 1);
    CHECK(inputs.sink_address.ss_family == AF_INET);
    CHECK(inputs.sink_address_bytes == sizeof(sockaddr_in));
}

TEST_CASE("HTTP log API presets: endpoint and auth header and the API's batch caps", "[planning][sink_api]") {
    supervent::config::Settings settings = http_settings(2);
    settings.sink = supervent::config::parse_sink_url("datadog+http://sink.test:8080/proxy");
    settings.token = "key";
    settings.batch_events = 5000;
    RunPlan run = plan_shards(settings, http_inputs(2));
    const auto& datadog = run.shards.front();
    CHECK(datadog.sink.http.target.path == "/proxy/api/v2/logs");
    CHECK(datadog.sink.http.target.auth_prefix == "DD-API-KEY: ");
    CHECK(datadog.batch_events == 1000);  // the intake takes 1,000 logs a request
    CHECK(datadog.batch_bytes_max > 0);
    CHECK(supervent::net::api_body_bytes_bound(datadog.sink.api, datadog.batch_bytes_max, datadog.batch_events) <=
          5'000'000);
    CHECK(std::any_of(run.messages.begin(), run.messages.end(),
                      [](const auto& message) { return message.text.find("batches capped at 1000 events") != std::string::npos; }));

    settings.sink = supervent::config::parse_sink_url("elasticsearch+http://sink.test:8080");
    settings.batch_events = 2000;
    settings.dataset = "logs";
    run = plan_shards(settings, http_inputs(2));
    const auto& es = run.shards.front();
    CHECK(es.sink.http.target.path == "/logs/_bulk?filter_path=errors,items.*.status,items.*.error.type");
    CHECK(es.sink.http.target.auth_prefix == "Authorization: ApiKey ");
    CHECK(es.sink.http.target.content_type == "application/x-ndjson");
    CHECK(es.sink.http.response_bytes_max >= 2000 * 64);  // every item answers
    CHECK(es.batch_events == 2000);
    CHECK(supervent::net::api_body_bytes_bound(es.sink.api, es.batch_bytes_max, es.batch_events) <= 10 * 1024 * 1024);

    settings.sink = supervent::config::parse_sink_url("splunk+http://sink.test:8080?index=main");
    const auto hec = plan_shards(settings, http_inputs(2)).shards.front();
    CHECK(hec.sink.http.target.extra_headers.starts_with("X-Splunk-Request-Channel: "));
    CHECK(hec.sink.api.hec_index == "main");
    CHECK(supervent::net::api_body_bytes_bound(hec.sink.api, hec.batch_bytes_max, hec.batch_events) <= 1024 * 1024);

    settings.sink = supervent::config::parse_sink_url("loki+http://sink.test:8080?tenant=t1&labels=source,attributes.status");
    const auto loki = plan_shards(settings, http_inputs(2)).shards.front();
    CHECK(loki.sink.http.target.extra_headers == "X-Scope-OrgID: t1\r\n");
    CHECK(loki.sink.api.loki_labels == std::vector<std::string>{"source", "attributes.status"});

    settings.compression = supervent::config::Compression{true, 1};
    CHECK_THROWS_WITH(plan_shards(settings, http_inputs(2)), Contains("does not take zstd"));
}
