// The source model: every generator compiled and parsed back, distributions
// checked statistically, bad schemas refused with file, line and key.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/program_source.hpp"
#include "core/schema.hpp"

using namespace supervent::core;

namespace {

SchemaOrigin at(std::string key, std::uint32_t line = 7) { return {"scenario.toml", line, std::move(key)}; }

FieldSpec field(std::string name, FieldKind kind) {
    FieldSpec f;
    f.origin = at("fields." + name);
    f.name = std::move(name);
    f.kind = kind;
    return f;
}

FieldSpec number(std::string name, FieldKind kind, double min, double max, Distribution d = Distribution::uniform) {
    FieldSpec f = field(std::move(name), kind);
    f.min = min;
    f.max = max;
    f.distribution = d;
    return f;
}

SourceSpec source_with(std::vector<FieldSpec> fields, std::string message = "m") {
    SourceSpec s;
    s.name = "test";
    s.description = "test source";
    s.origin = at("sources.test", 1);
    s.fields = std::move(fields);
    s.event_types.push_back({"only", 1, std::move(message), at("event_types.only", 20)});
    return s;
}

std::vector<std::string> run(const SourceSpec& spec, std::uint32_t count, SourceIdentity id = {3, 0, 1},
                             TimeRange times = {1'795'778'669'000'000'000, 1'795'778'669'000'000'000 + 86'400'000'000'000}) {
    const auto source = make_program_source(compile_source(spec), id, count);
    std::vector<char> out(std::size_t{count} * source->event_bytes_max());
    const std::size_t bytes = source->write_ndjson(count, times, out);
    std::vector<std::string> lines;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
        if (out[i] == '\n') {
            lines.emplace_back(out.data() + begin, i - begin);
            CHECK(lines.back().size() + 1 <= source->event_bytes_max());
            begin = i + 1;
        }
    }
    REQUIRE(lines.size() == count);
    return lines;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& line) {
    simdjson::dom::element e;
    INFO(line);
    REQUIRE(parser.parse(line).get(e) == simdjson::SUCCESS);
    return e;
}

std::string error_of(const SourceSpec& spec) {
    try {
        (void)compile_source(spec);
    } catch (const SchemaError& e) {
        return e.what();
    }
    return "(compiled)";
}

}  // namespace

TEST_CASE("every generator kind compiles to valid, typed JSON", "[schema]") {
    FieldSpec level = field("level", FieldKind::choice);
    level.values = {{SchemaValue::Type::string, "INFO"}, {SchemaValue::Type::string, "WARN \"x\""}};
    FieldSpec code = field("http.code", FieldKind::choice);
    code.values = {{SchemaValue::Type::integer, "200"}, {SchemaValue::Type::floating, "-1.5"}, {SchemaValue::Type::boolean, "true"}};
    FieldSpec seq = field("seq", FieldKind::sequence);
    seq.start = 100;
    seq.step = 10;
    FieldSpec id = field("trace.id", FieldKind::hex_id);
    id.length = 20;
    FieldSpec env = field("env", FieldKind::constant);
    env.values = {{SchemaValue::Type::string, "prod"}};
    FieldSpec ms = field("epoch", FieldKind::timestamp);
    ms.format = "epoch_ms";
    FieldSpec clock = field("clock", FieldKind::timestamp);
    clock.format = "%H:%M:%S.%L";
    FieldSpec ip = field("http.client", FieldKind::ipv4);
    ip.cidrs = {"198.51.100.0/24", "public"};
    FieldSpec temp = number("temp", FieldKind::floating, -20.5, 40.25);
    temp.precision = 2;
    const SourceSpec spec = source_with(
        {level, code, number("n", FieldKind::integer, -5, 5), temp, seq, id, env, ms, clock, ip, field("uid", FieldKind::uuid4)},
        "{{level}} {http.code} {n}/{temp} #{seq} {trace.id} {env} {epoch} {clock} {timestamp:%Y} {http.client} {uid} {not a placeholder}");

    simdjson::dom::parser parser;
    std::int64_t expected_seq = 100;
    for (const std::string& line : run(spec, 500)) {
        INFO(line);
        const auto e = parse(parser, line);
        const auto a = e["attributes"];
        std::string_view level_text;
        REQUIRE(a["level"].get(level_text) == simdjson::SUCCESS);
        CHECK((level_text == "INFO" || level_text == "WARN \"x\""));
        const auto code_value = a["http"]["code"];
        CHECK((code_value.is_int64() || code_value.is_double() || code_value.is_bool()));
        std::int64_t n = 0;
        REQUIRE(a["n"].get(n) == simdjson::SUCCESS);
        CHECK((n >= -5 && n <= 5));
        double t = 0;
        REQUIRE(a["temp"].get(t) == simdjson::SUCCESS);
        CHECK((t >= -20.5 && t <= 40.25));
        std::int64_t s = 0;
        REQUIRE(a["seq"].get(s) == simdjson::SUCCESS);
        CHECK(s == expected_seq);
        expected_seq += 10;
        std::string_view hex;
        REQUIRE(a["trace"]["id"].get(hex) == simdjson::SUCCESS);
        CHECK(hex.size() == 20);
        CHECK(hex.find_first_not_of("0123456789abcdef") == std::string_view::npos);
        std::string_view env_text;
        REQUIRE(a["env"].get(env_text) == simdjson::SUCCESS);
        CHECK(env_text == "prod");
        std::int64_t epoch_ms = 0;
        REQUIRE(a["epoch"].get(epoch_ms) == simdjson::SUCCESS);
        CHECK((epoch_ms >= 1'795'778'669'000 && epoch_ms < 1'795'778'669'000 + 86'400'000));
        std::string_view clock_text;
        REQUIRE(a["clock"].get(clock_text) == simdjson::SUCCESS);
        CHECK(clock_text.size() == 12);
        std::string_view ip_text;
        REQUIRE(a["http"]["client"].get(ip_text) == simdjson::SUCCESS);
        std::string_view uid;
        REQUIRE(a["uid"].get(uid) == simdjson::SUCCESS);
        CHECK(uid.size() == 36);
        CHECK(a["request_id"].error() == simdjson::SUCCESS);  // the built-in, added last

        std::string_view message;
        REQUIRE(e["message"].get(message) == simdjson::SUCCESS);
        const std::string expected_start = std::string(level_text) + " ";
        CHECK(message.substr(0, expected_start.size()) == expected_start);
        CHECK(message.find(" #" + std::to_string(s) + " " + std::string(hex) + " prod " + std::to_string(epoch_ms) + " " +
                           std::string(clock_text) + " 2026 " + std::string(ip_text) + " " + std::string(uid) +
                           " {not a placeholder}") != std::string_view::npos);
    }
}

TEST_CASE("sequences interleave across shards", "[schema]") {
    FieldSpec seq = field("seq", FieldKind::sequence);
    const SourceSpec spec = source_with({seq});
    std::set<std::int64_t> seen;
    simdjson::dom::parser parser;
    for (std::uint32_t shard = 0; shard < 3; ++shard) {
        for (const std::string& line : run(spec, 100, {1, shard, 3})) {
            std::int64_t s = 0;
            REQUIRE(parse(parser, line)["attributes"]["seq"].get(s) == simdjson::SUCCESS);
            CHECK(seen.insert(s).second);
        }
    }
    CHECK(*seen.begin() == 1);
    CHECK(*seen.rbegin() == 300);
}

TEST_CASE("several event types, weighted, each with its own message", "[schema]") {
    SourceSpec spec = source_with({field("u", FieldKind::uuid4)});
    spec.event_types = {{"login", 3, "user {u} logged in", at("event_types.login")},
                        {"logout", 1, "user {u} logged out", at("event_types.logout")}};
    std::map<std::string, double> counts;
    simdjson::dom::parser parser;
    for (const std::string& line : run(spec, 8000)) {
        const auto e = parse(parser, line);
        std::string_view type, message, u;
        REQUIRE(e["event_type"].get(type) == simdjson::SUCCESS);
        REQUIRE(e["message"].get(message) == simdjson::SUCCESS);
        REQUIRE(e["attributes"]["u"].get(u) == simdjson::SUCCESS);
        CHECK(message == "user " + std::string(u) + (type == "login" ? " logged in" : " logged out"));
        counts[std::string(type)] += 1;
    }
    const double sigma = std::sqrt(8000 * 0.75 * 0.25);
    CHECK(std::abs(counts["login"] - 6000) < 5 * sigma);
}

TEST_CASE("flat layout puts fields at the top level", "[schema]") {
    SourceSpec spec = source_with({number("a.b", FieldKind::integer, 1, 1)});
    spec.layout = AttributeLayout::flat;
    const auto lines = run(spec, 3);
    CHECK(lines[0].find(R"(","a":{"b":1},"request_id":")") != std::string::npos);
    CHECK(lines[0].find("attributes") == std::string::npos);
}

TEST_CASE("numeric distributions have their shape and stay in range", "[schema]") {
    FieldSpec normal = number("normal", FieldKind::floating, 0, 100, Distribution::normal);
    normal.mean = 50;
    normal.stddev = 10;
    normal.precision = 1;
    FieldSpec expo = number("expo", FieldKind::integer, 10, 1'000'000, Distribution::exponential);
    expo.mean = 110;  // min + 100
    FieldSpec zipf = number("zipf", FieldKind::integer, 1, 1000, Distribution::zipf);
    zipf.exponent = 1.2;
    FieldSpec wide = number("wide", FieldKind::integer, -1e15, 1e15);
    const SourceSpec spec = source_with({normal, expo, zipf, wide});
    double normal_sum = 0, normal_sq = 0, expo_sum = 0, zipf_ones = 0, wide_negative = 0;
    const std::uint32_t n = 20000;
    simdjson::dom::parser parser;
    for (const std::string& line : run(spec, n)) {
        const auto a = parse(parser, line)["attributes"];
        double x = 0;
        std::int64_t e = 0, z = 0, w = 0;
        REQUIRE(a["normal"].get(x) == simdjson::SUCCESS);
        REQUIRE(a["expo"].get(e) == simdjson::SUCCESS);
        REQUIRE(a["zipf"].get(z) == simdjson::SUCCESS);
        REQUIRE(a["wide"].get(w) == simdjson::SUCCESS);
        CHECK((x >= 0 && x <= 100));
        CHECK((e >= 10 && e <= 1'000'000));
        CHECK((z >= 1 && z <= 1000));
        CHECK((w >= -1'000'000'000'000'000 && w <= 1'000'000'000'000'000));
        normal_sum += x;
        normal_sq += x * x;
        expo_sum += static_cast<double>(e);
        zipf_ones += z == 1 ? 1 : 0;
        wide_negative += w < 0 ? 1 : 0;
    }
    const double mean = normal_sum / n;
    CHECK(mean == Approx(50).margin(0.5));
    CHECK(std::sqrt(normal_sq / n - mean * mean) == Approx(10).margin(0.5));
    CHECK(expo_sum / n == Approx(110).margin(4));
    double harmonic = 0;
    for (int k = 1; k <= 1000; ++k) harmonic += 1.0 / std::pow(k, 1.2);
    CHECK(zipf_ones / n == Approx(1 / harmonic).margin(0.02));
    CHECK(wide_negative / n == Approx(0.5).margin(0.03));
}

TEST_CASE("bad schemas are refused naming file, line and key", "[schema]") {
    SECTION("unknown generator") {
        try {
            (void)parse_field_kind("markov", at("fields.x.type", 12));
            FAIL("accepted");
        } catch (const SchemaError& e) {
            CHECK(std::string(e.what()) == "scenario.toml:12: fields.x.type: unknown generator \"markov\"");
        }
        CHECK_THROWS_AS(parse_distribution("poisson", at("fields.x.distribution")), SchemaError);
    }
    SECTION("min > max") {
        CHECK(error_of(source_with({number("x", FieldKind::integer, 5, 4)})) == "scenario.toml:7: fields.x: min > max");
    }
    SECTION("empty choice") {
        CHECK(error_of(source_with({field("x", FieldKind::choice)})) ==
              "scenario.toml:7: fields.x: a choice needs at least one value");
    }
    SECTION("bad format string") {
        FieldSpec t = field("t", FieldKind::timestamp);
        t.format = "%Y-%Q";
        CHECK(error_of(source_with({t})).starts_with("scenario.toml:7: fields.t: time format"));
        CHECK(error_of(source_with({}, "{timestamp:%K}")).starts_with("scenario.toml:20: event_types.only: message template"));
    }
    SECTION("duplicate field") {
        CHECK(error_of(source_with({field("x", FieldKind::uuid4), field("x", FieldKind::uuid4)})) ==
              "scenario.toml:7: fields.x: duplicate field \"x\"");
    }
    SECTION("unknown placeholder") {
        CHECK(error_of(source_with({}, "hello {who}")) ==
              "scenario.toml:20: event_types.only: message template of event type \"only\": unknown placeholder {who}");
    }
    SECTION("other mistakes") {
        CHECK(error_of(source_with({field("_time", FieldKind::uuid4)})).find("reserved") != std::string::npos);
        CHECK(error_of(source_with({field("a", FieldKind::uuid4), field("a.b", FieldKind::uuid4)})).find("nests inside") !=
              std::string::npos);
        FieldSpec ip = field("ip", FieldKind::ipv4);
        ip.cidrs = {"10.0.0.1/8"};
        CHECK(error_of(source_with({ip})).find("not an IPv4 CIDR") != std::string::npos);
        FieldSpec weighted = field("w", FieldKind::choice);
        weighted.values = {{SchemaValue::Type::string, "a"}};
        weighted.weights = {1, 2};
        CHECK(error_of(source_with({weighted})).starts_with("scenario.toml:7: fields.w:"));
        FieldSpec bad_number = field("b", FieldKind::choice);
        bad_number.values = {{SchemaValue::Type::integer, "12abc"}};
        CHECK(error_of(source_with({bad_number})).find("not a plain number") != std::string::npos);
        CHECK(error_of(source_with({number("i", FieldKind::integer, 0.5, 3)})).find("whole") != std::string::npos);
        CHECK(error_of(source_with({}, "{uid:%Y}")).find("unknown placeholder") != std::string::npos);
        SourceSpec no_types = source_with({});
        no_types.event_types.clear();
        CHECK(error_of(no_types) == "scenario.toml:1: sources.test: source \"test\" needs at least one event type");
    }
}

TEST_CASE("every kernel set writes the same bytes for random schemas", "[schema][kernels]") {
    std::uint64_t seed = 2024;
    const auto next = [&seed](std::uint64_t n) { return splitmix64_next(seed) % n; };
    for (int round = 0; round < 30; ++round) {
        std::vector<FieldSpec> fields;
        const std::uint64_t field_count = 1 + next(8);
        for (std::uint64_t i = 0; i < field_count; ++i) {
            const std::string name = "f" + std::to_string(i);
            switch (next(5)) {
                case 0: {
                    FieldSpec f = field(name, FieldKind::choice);
                    const std::uint64_t values = 1 + next(300);
                    for (std::uint64_t v = 0; v < values; ++v) {
                        f.values.push_back({SchemaValue::Type::string, "v" + std::to_string(v)});
                        f.weights.push_back(static_cast<double>(1 + next(50)));
                    }
                    fields.push_back(f);
                    break;
                }
                case 1: {
                    const double lo = static_cast<double>(next(1'000'000)) - 500'000;
                    fields.push_back(number(name, FieldKind::integer, lo, lo + static_cast<double>(next(1ull << 40))));
                    break;
                }
                case 2: {
                    FieldSpec f = number(name, FieldKind::floating, -10, 10 + static_cast<double>(next(1000)), Distribution::normal);
                    f.mean = 5;
                    f.stddev = 1 + static_cast<double>(next(20));
                    f.precision = static_cast<std::uint32_t>(1 + next(6));
                    fields.push_back(f);
                    break;
                }
                case 3: {
                    FieldSpec f = field(name, FieldKind::ipv4);
                    f.cidrs = {"private", "public", "100.64.0.0/10"};
                    fields.push_back(f);
                    break;
                }
                default:
                    fields.push_back(field(name, next(2) == 0 ? FieldKind::uuid4 : FieldKind::hex_id));
            }
        }
        std::string message;
        for (const FieldSpec& f : fields) message += "{" + f.name + "} ";
        const auto program = compile_source(source_with(fields, message));
        std::string reference;
        for (const Kernels* k : supported_kernels()) {
            ProgramSource source(program, {static_cast<std::uint64_t>(round), 0, 1}, 700, *k);
            std::vector<char> out(700 * source.event_bytes_max());
            std::string all;
            for (const std::uint32_t count : {700u, 9u}) {
                all.append(out.data(), source.write_ndjson(count, {0, 1'000'000'000}, out));
            }
            if (k == &scalar_kernels()) reference = all;
            INFO("kernel " << k->name << " round " << round);
            CHECK(all == reference);
        }
    }
}

namespace {

// RFC 4180 rows of a CSV text (quoted fields may hold commas, quotes, newlines).
std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
    std::vector<std::vector<std::string>> rows(1);
    std::string cell;
    bool quoted = false;
    bool was_quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cell += c;
            }
        } else if (c == '"') {
            REQUIRE(cell.empty());
            quoted = was_quoted = true;
        } else if (c == ',' || c == '\n') {
            rows.back().push_back(cell);
            cell.clear();
            was_quoted = false;
            if (c == '\n') rows.emplace_back();
        } else {
            REQUIRE(!was_quoted);
            cell += c;
        }
    }
    REQUIRE(rows.back().empty());
    rows.pop_back();
    return rows;
}

std::string write_all(const SourceSpec& spec, OutputFormat format, std::uint32_t count) {
    const auto source = make_program_source(compile_source(spec, format), {9, 0, 1}, count);
    std::vector<char> out(std::size_t{count} * source->event_bytes_max());
    return {out.data(), source->write_ndjson(count, {0, 1'000'000'000}, out)};
}

}  // namespace

TEST_CASE("text lines and CSV carry the same events as NDJSON", "[schema][formats]") {
    FieldSpec word = field("word", FieldKind::choice);
    word.values = {{SchemaValue::Type::string, "plain"}, {SchemaValue::Type::string, "with, comma"},
                   {SchemaValue::Type::string, "say \"hi\""}, {SchemaValue::Type::integer, "42"}};
    FieldSpec amount = number("amount.value", FieldKind::floating, -5, 5);
    const SourceSpec spec = source_with({word, amount, field("id", FieldKind::uuid4)}, "{word} costs {amount.value} at {timestamp:%H:%M}");
    const std::uint32_t count = 300;
    const std::string ndjson = write_all(spec, OutputFormat::ndjson, count);
    const std::string text = write_all(spec, OutputFormat::text, count);
    const std::string csv = write_all(spec, OutputFormat::csv, count);

    CHECK(make_program_source(compile_source(spec, OutputFormat::csv), {}, 1)->content_type() == "text/csv");
    CHECK(make_program_source(compile_source(spec, OutputFormat::text), {}, 1)->content_type() == "text/plain");
    CHECK(make_program_source(compile_source(spec), {}, 1)->content_type() == "application/x-ndjson");

    const auto rows = parse_csv(csv);
    REQUIRE(rows.size() == count + 1);
    CHECK(rows[0] == std::vector<std::string>{"_time", "source", "event_type", "message", "word", "amount.value", "id", "request_id"});

    simdjson::dom::parser parser;
    std::size_t line_begin = 0;
    std::size_t text_begin = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t line_end = ndjson.find('\n', line_begin);
        const std::size_t text_end = text.find('\n', text_begin);
        const auto e = parse(parser, ndjson.substr(line_begin, line_end - line_begin));
        std::string_view time, message, word_value, id;
        double value = 0;
        REQUIRE(e["_time"].get(time) == simdjson::SUCCESS);
        REQUIRE(e["message"].get(message) == simdjson::SUCCESS);
        REQUIRE(e["attributes"]["amount"]["value"].get(value) == simdjson::SUCCESS);
        REQUIRE(e["attributes"]["id"].get(id) == simdjson::SUCCESS);
        const auto w = e["attributes"]["word"];
        const std::string word_text = w.is_string() ? std::string(w.get_string().value()) : std::to_string(w.get_int64().value());
        CHECK(text.substr(text_begin, text_end - text_begin) == message);
        const std::vector<std::string>& row = rows[i + 1];
        REQUIRE(row.size() == 8);
        CHECK(row[0] == time);
        CHECK(row[1] == "test source");
        CHECK(row[2] == "only");
        CHECK(row[3] == message);
        CHECK(row[4] == word_text);
        CHECK(std::stod(row[5]) == Approx(value));
        CHECK(row[6] == id);
        line_begin = line_end + 1;
        text_begin = text_end + 1;
    }
    // The header comes once per batch: a batch of one is header + one row.
    CHECK(parse_csv(write_all(spec, OutputFormat::csv, 1)).size() == 2);
}

TEST_CASE("IPv6, base-62 ids, names and emails", "[schema]") {
    FieldSpec v6 = field("v6", FieldKind::ipv6);
    v6.cidrs = {"2001:db8:ab::/48", "ula"};
    FieldSpec b62 = field("b62", FieldKind::base62_id);
    b62.length = 21;
    const SourceSpec spec = source_with({v6, b62, field("who", FieldKind::name), field("mail", FieldKind::email)},
                                        "{who} <{mail}> from {v6} id {b62}");
    simdjson::dom::parser parser;
    std::set<char> base62_seen;
    for (const std::string& line : run(spec, 2000)) {
        const auto a = parse(parser, line)["attributes"];
        std::string_view ip, id, who, mail, message;
        REQUIRE(a["v6"].get(ip) == simdjson::SUCCESS);
        REQUIRE(a["b62"].get(id) == simdjson::SUCCESS);
        REQUIRE(a["who"].get(who) == simdjson::SUCCESS);
        REQUIRE(a["mail"].get(mail) == simdjson::SUCCESS);
        in6_addr addr{};
        INFO(ip);
        REQUIRE(inet_pton(AF_INET6, std::string(ip).c_str(), &addr) == 1);
        const bool documentation = addr.s6_addr[0] == 0x20 && addr.s6_addr[1] == 0x01 && addr.s6_addr[2] == 0x0d &&
                                   addr.s6_addr[3] == 0xb8 && addr.s6_addr[4] == 0x00 && addr.s6_addr[5] == 0xab;
        CHECK((documentation || addr.s6_addr[0] == 0xfd));
        CHECK(id.size() == 21);
        for (const char c : id) {
            CHECK(std::isalnum(static_cast<unsigned char>(c)));
            base62_seen.insert(c);
        }
        CHECK(who.find(' ') != std::string_view::npos);
        const std::size_t at_sign = mail.find('@');
        REQUIRE(at_sign != std::string_view::npos);
        CHECK(mail.substr(0, at_sign).find('.') != std::string_view::npos);
        CHECK(std::none_of(mail.begin(), mail.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }));
        REQUIRE(parse(parser, line)["message"].get(message) == simdjson::SUCCESS);
        CHECK(message == std::string(who) + " <" + std::string(mail) + "> from " + std::string(ip) + " id " + std::string(id));
    }
    CHECK(base62_seen.size() == 62);

    FieldSpec bad = field("v6", FieldKind::ipv6);
    bad.cidrs = {"2001:db8::1/32"};
    CHECK(error_of(source_with({bad})).find("not an IPv6 prefix") != std::string::npos);
    bad.cidrs = {"2001:db8::/96"};
    CHECK(error_of(source_with({bad})).find("not an IPv6 prefix") != std::string::npos);
    CHECK(parse_field_kind("email", at("x")) == FieldKind::email);
}

TEST_CASE("32-digit hex ids are random in every digit, also in blocks shorter than a full one", "[schema]") {
    // The two words of a hex id sit in adjacent columns a full block apart;
    // a short block (3 events, or the 44 after 256) once wrote the second
    // word into the first column's tail, leaving digits 17-32 zero or stale.
    FieldSpec id = field("id", FieldKind::hex_id);
    id.length = 32;
    for (const std::uint32_t count : {3u, 300u}) {
        simdjson::dom::parser parser;
        std::set<std::string> low_halves;
        for (const std::string& line : run(source_with({id}), count)) {
            std::string_view hex;
            REQUIRE(parse(parser, line)["attributes"]["id"].get(hex) == simdjson::SUCCESS);
            REQUIRE(hex.size() == 32);
            low_halves.insert(std::string(hex.substr(16)));
        }
        // 64 random bits each: a repeat among 300 has probability ~ 2^-47.
        CHECK(low_halves.size() == count);
        CHECK(low_halves.count("0000000000000000") == 0);
    }
}
