// encode_typed_copy_rows: each PostgreSQL type's binary COPY form (int8
// big-endian, float8 IEEE, boolean, uuid's 16 bytes, inet's family/bits/
// is_cidr/length/address, timestamptz's microseconds since 2000), fields
// found by dotted path in nested and flat layouts, NULLs, and the errors
// that name the column or key.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "net/copy_typed.hpp"

using namespace supervent::net;

namespace {

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string be64(std::uint64_t v) { return be32(static_cast<std::uint32_t>(v >> 32)) + be32(static_cast<std::uint32_t>(v)); }
std::string field(const std::string& bytes) { return be32(static_cast<std::uint32_t>(bytes.size())) + bytes; }
const std::string null_field = be32(0xffffffffu);

// The four fixed fields of a line with only _time "2000-01-01T00:00:01Z", source "s", no event_type or message.
std::string fixed_fields(std::uint16_t count) {
    return std::string{static_cast<char>(count >> 8), static_cast<char>(count & 0xff)} + field(be64(1'000'000)) +
           field("s") + null_field + null_field;
}

// A failed CopyRows names the key by a view into `ndjson`: the tests pass
// string literals (static storage) where they read error_name.
CopyRows encode(std::string_view ndjson, const std::vector<TypedColumn>& columns, bool flat, std::string& bytes) {
    std::vector<char> out(typed_row_bytes_max(ndjson.size(), columns.size()) * 4);
    const CopyRows rows = encode_typed_copy_rows(ndjson, columns, flat, out);
    bytes.assign(out.data(), rows.bytes);
    return rows;
}

std::string one(const std::string& attributes, const std::vector<TypedColumn>& columns) {
    std::string bytes;
    const CopyRows rows = encode(R"({"_time":"2000-01-01T00:00:01Z","source":"s","attributes":)" + attributes + "}\n",
                                 columns, false, bytes);
    INFO(attributes);
    REQUIRE(rows.error == nullptr);
    REQUIRE(rows.rows == 1);
    return bytes;
}

}  // namespace

TEST_CASE("copy typed: integers are int8 big-endian and floats IEEE float8", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"status", "status", PgType::bigint}, {"ms", "ms", PgType::float8},
                                              {"neg", "neg", PgType::bigint}};
    const std::string row = one(R"({"status":200,"ms":1.5,"neg":"-7"})", columns);
    CHECK(row == fixed_fields(7) + field(be64(200)) + field(be64(std::bit_cast<std::uint64_t>(1.5))) +
                     field(be64(static_cast<std::uint64_t>(-7))));
}

TEST_CASE("copy typed: uuid is 16 bytes and booleans one", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"id", "id", PgType::uuid}, {"ok", "ok", PgType::boolean}};
    const std::string row = one(R"({"id":"61595132-33a8-453f-99e0-5011521fe558","ok":true})", columns);
    const std::string uuid("\x61\x59\x51\x32\x33\xa8\x45\x3f\x99\xe0\x50\x11\x52\x1f\xe5\x58", 16);
    CHECK(row == fixed_fields(6) + field(uuid) + field(std::string(1, '\1')));
}

TEST_CASE("copy typed: inet is family bits is_cidr length address", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"v4", "v4", PgType::inet}, {"v6", "v6", PgType::inet}};
    const std::string row = one(R"({"v4":"10.1.2.3","v6":"2001:db8::1"})", columns);
    std::string v6("\x03\x80\x00\x10\x20\x01\x0d\xb8", 8);
    v6 += std::string(11, '\0') + std::string(1, '\1');
    CHECK(row == fixed_fields(6) + field(std::string("\x02\x20\x00\x04\x0a\x01\x02\x03", 8)) + field(v6));
}

TEST_CASE("copy typed: timestamptz is microseconds since 2000 and text is unescaped", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"at", "at", PgType::timestamptz}, {"ua", "ua", PgType::text}};
    const std::string row = one(R"({"at":"2000-01-01T01:00:00.0000015+01:00","ua":"a\"b\n\u00e9"})", columns);
    CHECK(row == fixed_fields(6) + field(be64(2)) + field("a\"b\n\xc3\xa9"));
}

TEST_CASE("copy typed: nested objects are dotted paths and missing fields NULL", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"http_method", "http.method", PgType::text},
                                              {"http_status", "http.status", PgType::bigint},
                                              {"absent", "absent", PgType::bigint}};
    const std::string row = one(R"({"http":{"method":"GET","status":null}})", columns);
    CHECK(row == fixed_fields(7) + field("GET") + null_field + null_field);
}

TEST_CASE("copy typed: the flat layout takes top-level keys", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"status", "status", PgType::bigint}};
    std::string bytes;
    const CopyRows rows = encode("{\"_time\":\"2000-01-01T00:00:01Z\",\"source\":\"s\",\"status\":5}\n\n", columns, true, bytes);
    REQUIRE(rows.error == nullptr);
    CHECK(rows.rows == 1);
    CHECK(bytes == fixed_fields(5) + field(be64(5)));
}

TEST_CASE("copy typed: a value of another type fails naming its column", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"status", "status", PgType::bigint}, {"ip", "ip", PgType::inet}};
    std::string bytes;
    CopyRows rows = encode(R"({"_time":"2000-01-01T00:00:01Z","attributes":{"status":"2x"}})", columns, false, bytes);
    REQUIRE(rows.error != nullptr);
    CHECK(rows.error_name == "status");
    CHECK(rows.error_line == 1);
    rows = encode("{}\n" R"({"_time":"2000-01-01T00:00:01Z","attributes":{"ip":"300.1.1.1"}})", columns, false, bytes);
    REQUIRE(rows.error != nullptr);
    CHECK(rows.error_name == "ip");
    CHECK(rows.error_line == 2);
}

TEST_CASE("copy typed: a key without a column fails naming it", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"status", "status", PgType::bigint}};
    std::string bytes;
    CopyRows rows = encode(R"({"_time":"2000-01-01T00:00:01Z","attributes":{"stray":1}})", columns, false, bytes);
    REQUIRE(rows.error != nullptr);
    CHECK(rows.error_name == "stray");
    rows = encode(R"({"_time":"2000-01-01T00:00:01Z","level":"x"})", columns, false, bytes);
    REQUIRE(rows.error != nullptr);
    CHECK(rows.error_name == "level");
    rows = encode(R"({"_time":"yesterday"})", columns, false, bytes);
    REQUIRE(rows.error != nullptr);
    CHECK(rows.error_name == "_time");
}

TEST_CASE("copy typed: rows stay within their bound and a short buffer is refused", "[copy_typed]") {
    const std::vector<TypedColumn> columns = {{"a", "a", PgType::inet}, {"b", "b", PgType::bigint},
                                              {"c", "c", PgType::boolean}, {"d", "d", PgType::float8}};
    const std::string line = R"({"_time":"2000-01-01T00:00:01Z","attributes":{"a":"::","b":0,"c":false,"d":0}})";
    std::vector<char> out(typed_row_bytes_max(line.size(), columns.size()));
    const CopyRows rows = encode_typed_copy_rows(line, columns, false, out);
    REQUIRE(rows.error == nullptr);
    CHECK(rows.bytes <= out.size());
    std::vector<char> small(typed_row_bytes_max(line.size(), columns.size()) - 1);
    CHECK(encode_typed_copy_rows(line, columns, false, small).error != nullptr);
}
