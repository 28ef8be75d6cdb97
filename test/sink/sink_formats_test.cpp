// supervent-sink and the data plane's formats: CSV bodies counted by record
// (quoted line breaks, doubled quotes, field counts under --verify), the edge
// path and X-Axiom-Event-Labels seen and reported in /stats.
#include <catch2/catch.hpp>

#include <simdjson.h>

#include <string>

#include "sink/body.hpp"
#include "sink/http.hpp"
#include "sink/stats.hpp"

using namespace supervent::sink;

TEST_CASE("CSV: records after the header, quoted line breaks inside a field", "[sink][csv]") {
    CHECK(count_csv("", false).events == 0);
    CHECK(count_csv("a,b\n", false).events == 0);
    CHECK(count_csv("a,b\n1,2\n3,4\n", false).events == 2);
    CHECK(count_csv("a,b\n1,2\n3,4", false).events == 2);  // no final line break
    CHECK(count_csv("a,b\r\n1,2\r\n3,4\r\n", true).events == 2);
    CHECK(count_csv("a,b\n\n1,2\n\r\n3,4\n\n", true).events == 2);  // blank lines are not records
    const std::string quoted =
        "_time,source,event_type,message,n\n"
        "2026-01-01T00:00:00Z,\"web\",\"GET\",\"line one\nline two, with a comma\",1\n"
        "2026-01-01T00:00:01Z,\"web\",\"GET\",\"say \"\"hi\"\"\r\n\",2\n"
        "2026-01-01T00:00:02Z,\"web\",\"GET\",\"\",3\n";
    const CountResult verified = count_csv(quoted, true);
    CHECK(verified.events == 3);
    CHECK(verified.invalid == 0);
    CHECK(count_csv(quoted, false).events == 3);
}

TEST_CASE("CSV: --verify refuses bad quoting and wrong field counts, event by event", "[sink][csv]") {
    const std::string body =
        "a,b,c\n"
        "1,2,3\n"
        "1,2\n"               // too few fields
        "1,\"2\"x,3\n"        // text after a closing quote
        "1,2\"2,3\n"          // a quote inside an unquoted field
        "4,5,6\n"
        "1,2,\"never closed\n";
    const CountResult r = count_csv(body, true);
    CHECK(r.events == 2);
    CHECK(r.invalid == 4);
    REQUIRE(r.failures_count == 4);
    CHECK(r.failures[0].event_index == 1);
    CHECK(std::string(r.failures[0].error).find("field count") != std::string::npos);
    CHECK(r.failures[1].event_index == 2);
    CHECK(std::string(r.failures[1].error) == "text after a closing quote");
    CHECK(r.failures[2].event_index == 3);
    CHECK(std::string(r.failures[2].error) == "quote inside an unquoted field");
    CHECK(r.failures[3].event_index == 5);
    CHECK(std::string(r.failures[3].error) == "unterminated quoted field");
    // Without --verify every record counts.
    CHECK(count_csv(body, false).events == 6);
}

TEST_CASE("CSV bodies through the BodyProcessor count records, not lines", "[sink][csv]") {
    BodyProcessor processor;
    const std::string text = "h1,h2\n\"a\nb\",1\n\"c\",2\n";
    std::string padded(text.size() + body_padding_bytes, ' ');
    padded.replace(0, text.size(), text);
    BodyError error = BodyError::none;
    const char* message = nullptr;
    const CountResult r = processor.count(ContentType::csv, std::string_view(padded.data(), text.size()), true, error, message);
    CHECK(error == BodyError::none);
    CHECK(r.events == 2);
}

TEST_CASE("the edge path routes to ingest and says so", "[sink][edge]") {
    const Route edge = match_route("/v1/ingest/logs");
    CHECK(edge.kind == RouteKind::ingest);
    CHECK(edge.dataset == "logs");
    CHECK(edge.edge);
    const Route classic = match_route("/v1/datasets/logs/ingest");
    CHECK(classic.kind == RouteKind::ingest);
    CHECK_FALSE(classic.edge);
}

TEST_CASE("X-Axiom-Event-Labels is read from the head", "[sink][edge]") {
    const std::string head =
        "POST /v1/ingest/logs HTTP/1.1\r\nHost: x\r\nx-axiom-event-labels:  {\"env\":\"prod\"} \r\n"
        "Content-Length: 3\r\n\r\n{}\n";
    const HeadResult r = parse_request_head(head);
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.head.event_labels == "{\"env\":\"prod\"}");
    const HeadResult none = parse_request_head("POST /v1/ingest/logs HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(none.status == ParseStatus::complete);
    CHECK(none.head.event_labels.empty());
}

TEST_CASE("stats count edge requests and requests by labels", "[sink][edge]") {
    Stats stats;
    stats.record_ingest({"logs", 10, 10, 2, 0, "{\"env\":\"prod\"}", true});
    stats.record_ingest({"logs", 10, 10, 3, 0, "{\"env\":\"prod\"}", false});
    stats.record_ingest({"logs", 10, 10, 1, 0, "", false});
    for (int i = 0; i < 100; ++i) {
        const std::string labels = "{\"n\":\"" + std::to_string(i) + "\"}";
        stats.record_ingest({"other", 1, 1, 1, 0, labels, false});
    }
    const StatsSnapshot snapshot = stats.snapshot();
    CHECK(snapshot.edge_requests == 1);
    CHECK(snapshot.event_labels.at("{\"env\":\"prod\"}") == 2);
    // Distinct values are bounded; the rest are lumped together.
    CHECK(snapshot.event_labels.size() == event_labels_distinct_max + 1);
    CHECK(snapshot.event_labels.at("(other)") == 100 - (event_labels_distinct_max - 1));

    const std::string json = to_json(snapshot);
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    REQUIRE(parser.parse(json).get(document) == simdjson::SUCCESS);
    CHECK(document["edge_requests"].get_uint64().value() == 1);
    CHECK(document["event_labels"]["{\"env\":\"prod\"}"].get_uint64().value() == 2);
    CHECK(document["requests"].get_uint64().value() == 103);
}
