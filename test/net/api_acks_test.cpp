// Splunk HEC indexer acknowledgement: the replies' ackIds parsed
// (net/api_replies.hpp), the held batches and the poll body (net/api_acks.hpp).
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "net/api_acks.hpp"
#include "net/api_replies.hpp"

using namespace supervent::net;

TEST_CASE("hec event reply: the ackId or none", "[api_acks]") {
    ApiReplyParser parser(4096);
    CHECK(parser.hec_ack_id(R"({"text":"Success","code":0,"ackId":7})") == 7u);
    CHECK(parser.hec_ack_id(R"({"ackId":18446744073709551615,"text":"Success"})") == UINT64_MAX);
    CHECK_FALSE(parser.hec_ack_id(R"({"text":"Success","code":0})").has_value());  // the token does not acknowledge
    CHECK_FALSE(parser.hec_ack_id(R"({"ackId":"7"})").has_value());
    CHECK_FALSE(parser.hec_ack_id("").has_value());
    CHECK_FALSE(parser.hec_ack_id("<html>").has_value());
    // A plain HEC 2xx still takes the whole batch.
    CHECK(parser.parse(LogApi::splunk_hec, R"({"text":"Success","code":0,"ackId":3})", 9).acked_events == 9);
}

TEST_CASE("hec ack poll reply: the ids answered true", "[api_acks]") {
    ApiReplyParser parser(4096);
    std::array<std::uint64_t, 8> ids{};
    std::size_t count = 99;
    REQUIRE(parser.hec_acks_true(R"({"acks":{"0":true,"1":false,"12":true}})", ids.data(), ids.size(), count));
    REQUIRE(count == 2);
    CHECK(ids[0] == 0);
    CHECK(ids[1] == 12);
    REQUIRE(parser.hec_acks_true(R"({"acks":{}})", ids.data(), ids.size(), count));
    CHECK(count == 0);
    // Keys that are no ackId are skipped; capacity is never overrun.
    REQUIRE(parser.hec_acks_true(R"({"acks":{"x":true,"3":true,"4":true}})", ids.data(), 1, count));
    CHECK(count == 1);
    CHECK(ids[0] == 3);
    CHECK_FALSE(parser.hec_acks_true(R"({"text":"Invalid data channel","code":11})", ids.data(), ids.size(), count));
    CHECK_FALSE(parser.hec_acks_true(R"({"acks":{"1":"yes"}})", ids.data(), ids.size(), count));
    CHECK_FALSE(parser.hec_acks_true("", ids.data(), ids.size(), count));
}

TEST_CASE("held batches: released by their ackId and listed in the poll body", "[api_acks]") {
    HecAckTable table(8, 4);
    table.hold(3, 10, 1000);
    table.hold(5, 11, 2000);
    CHECK(table.held() == 2);
    std::string body(table.poll_body_bytes_max(), '\0');
    body.resize(table.write_poll_body(body.data()));
    CHECK(body == R"({"acks":[10,11]})");
    CHECK(table.release(12) == -1);
    CHECK(table.release(10) == 3);
    CHECK(table.release(10) == -1);  // once
    CHECK(table.earliest_deadline_ns() == 2000);
    CHECK(table.take_lost(1999) == -1);
    CHECK(table.take_lost(2000) == 5);  // past its deadline
    CHECK(table.held() == 0);
    CHECK(table.take_any() == -1);
}

TEST_CASE("a receiver that numbers from 0 again loses what was held", "[api_acks]") {
    HecAckTable table(8, 2);
    table.hold(0, 40, 1000);
    table.hold(1, 39, 1000);  // out of order within the window: fine
    table.hold(2, 42, 1000);
    CHECK(table.take_lost(0) == -1);
    table.hold(3, 0, 1000);  // far below 42: a restart
    std::string body(table.poll_body_bytes_max(), '\0');
    body.resize(table.write_poll_body(body.data()));
    CHECK(body == R"({"acks":[0]})");
    int lost = 0;
    while (table.take_lost(0) >= 0) ++lost;
    CHECK(lost == 3);
    CHECK(table.held() == 1);
    // The same id again: the older one is lost, the new one stays.
    table.hold(4, 0, 1000);
    CHECK(table.take_lost(0) == 3);
    CHECK(table.release(0) == 4);
}

TEST_CASE("each worker gets its own channel from the configured GUID", "[api_acks]") {
    const std::string headers = "X-Splunk-Request-Channel: 5e7e1c3a-0b5d-4c2e-9f1a-53757065fffe\r\n";
    CHECK(worker_channel_headers(headers, 0) == headers);
    CHECK(worker_channel_headers(headers, 1) == "X-Splunk-Request-Channel: 5e7e1c3a-0b5d-4c2e-9f1a-53757065ffff\r\n");
    CHECK(worker_channel_headers(headers, 3) == "X-Splunk-Request-Channel: 5e7e1c3a-0b5d-4c2e-9f1a-537570650001\r\n");
    CHECK(worker_channel_headers("X-Other: 1\r\n", 5) == "X-Other: 1\r\n");
}
