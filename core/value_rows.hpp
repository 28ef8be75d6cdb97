#pragma once
// Values that belong together, drawn as one row (used by schema_compile.cpp).
//
// A source's fields are grouped at compile time (the rules are in
// docs/configuration.md, "Values that agree"):
//   - person fields (and the name and email kinds) of one group: one person
//     from a built-in table, so the email is the name's and the user id is
//     always the same for the same person;
//   - geo fields of one group: one place from a built-in table, so city,
//     region, country, postal code, coordinates and time zone agree;
//   - choice fields with the same non-empty group: the values at one index;
//   - choice fields with the same leaf name and the same values ("os" and
//     "client.userAgent.os"): the same fact written twice, one draw;
//   - an HTTP method and status (sibling choice fields named like method and
//     status): only pairs a server answers with (no GET 201, no POST 304),
//     and a sibling byte count is 0 where there is no body (HEAD, 1xx, 204, 304);
//     when the rows also hold a path (web_access's endpoints), the byte count
//     follows what the path serves (body_size_of: assets large, API replies
//     small, health checks tiny, error pages small).
#include <cstddef>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/schema.hpp"

namespace supervent::core {

// A name's ASCII lower case, and its last dotted part ("http.status" -> "status"):
// how the value-row and level rules recognise fields by name.
[[nodiscard]] std::string lower(std::string_view text);
[[nodiscard]] std::string_view leaf_of(std::string_view name);

struct RowValue {
    std::string text;
    bool json_bare = false;  // numbers: bare in JSON attributes
};

// A row's byte count: drawn * scale_q16 / 2^16 + add (0 and 0: no body).
struct BodySize {
    std::uint64_t scale_q16 = std::uint64_t{1} << 16;
    std::uint64_t add = 0;
    bool operator==(const BodySize&) const = default;
};

// What a response to `method` `path` with `status` weighs, as a scaling of a
// drawn byte count (e.g. web_access's 100 B..2 MB histogram, median ~5 kB).
[[nodiscard]] BodySize body_size_of(std::string_view method, std::string_view path, int status);

struct RowGroup {
    std::vector<std::size_t> fields;            // indices into SourceSpec::fields, one per part
    std::vector<std::vector<RowValue>> parts;   // parts[k][row]
    std::vector<double> weights;                // one per row; empty = uniform
    std::optional<std::size_t> zero_field;      // an integer field that is 0 on flagged rows
    std::vector<bool> zero_rows;
    std::vector<BodySize> body_rows;            // one per row when the rows hold a path; else empty
};

// Finds the groups of a source. Throws SchemaError for a bad part or a
// choice group whose fields have different numbers of values.
[[nodiscard]] std::vector<RowGroup> find_row_groups(const SourceSpec& spec);

// The rows of the built-in tables (for tests and documentation).
[[nodiscard]] std::size_t geo_row_count();
[[nodiscard]] std::size_t person_row_count();

}  // namespace supervent::core
