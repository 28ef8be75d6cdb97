#include "core/value_rows.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <string_view>

namespace supervent::core {
std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view leaf_of(std::string_view name) {
    const auto dot = name.rfind('.');
    return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

namespace {

std::string_view parent_of(std::string_view name) {
    const auto dot = name.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
}

// ---- people -------------------------------------------------------------------

constexpr std::string_view first_names[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
    "Wei", "Priya", "Ahmed", "Fatima", "Yuki", "Hiroshi", "Olga", "Ivan", "Lucia", "Mateo",
    "Aisha", "Kwame", "Sofia", "Lars", "Ingrid", "Noah", "Emma", "Liam", "Olivia", "Chen"};
constexpr std::string_view last_names[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Wang", "Li", "Zhang", "Kumar", "Singh", "Tanaka", "Sato", "Ivanova", "Muller", "Okafor"};
constexpr std::string_view email_domains[] = {"example.com", "example.org", "example.net", "mail.example.com",
                                              "corp.example", "test.example"};
constexpr std::array<std::string_view, 6> person_parts = {"name", "first_name", "last_name", "email", "username", "user_id"};

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9E37'79B9'7F4A'7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBull;
    return x ^ (x >> 31);
}

// An Okta-style user id: "00u" and 17 base-62 digits, fixed per person.
std::string user_id_of(std::uint64_t person) {
    constexpr std::string_view digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id = "00u";
    std::uint64_t h = splitmix(person);
    for (int i = 0; i < 17; ++i) {
        if (i == 10) h = splitmix(h);
        id += digits[h % 62];
        h /= 62;
    }
    return id;
}

std::string person_value(std::string_view part, std::size_t first, std::size_t last) {
    const std::uint64_t person = first * std::size(last_names) + last;
    const std::string handle = lower(first_names[first]) + "." + lower(last_names[last]);
    if (part == "name") return std::string(first_names[first]) + " " + std::string(last_names[last]);
    if (part == "first_name") return std::string(first_names[first]);
    if (part == "last_name") return std::string(last_names[last]);
    if (part == "email") return handle + "@" + std::string(email_domains[splitmix(person ^ 0x5EED) % std::size(email_domains)]);
    if (part == "username") return handle;
    return user_id_of(person);
}

// ---- places -------------------------------------------------------------------

struct Place {
    std::string_view city, region, country, country_code, postal_code, lat, lon, timezone;
    double weight;
};

// City centres (as geo-IP databases give them), weighted roughly by how much
// traffic a US-based service sees from each.
constexpr Place places[] = {
    {"San Francisco", "California", "United States", "US", "94105", "37.7749", "-122.4194", "America/Los_Angeles", 9},
    {"Los Angeles", "California", "United States", "US", "90012", "34.0522", "-118.2437", "America/Los_Angeles", 8},
    {"Seattle", "Washington", "United States", "US", "98101", "47.6062", "-122.3321", "America/Los_Angeles", 7},
    {"New York", "New York", "United States", "US", "10001", "40.7128", "-74.0060", "America/New_York", 12},
    {"Boston", "Massachusetts", "United States", "US", "02108", "42.3601", "-71.0589", "America/New_York", 5},
    {"Atlanta", "Georgia", "United States", "US", "30303", "33.7490", "-84.3880", "America/New_York", 5},
    {"Chicago", "Illinois", "United States", "US", "60601", "41.8781", "-87.6298", "America/Chicago", 8},
    {"Austin", "Texas", "United States", "US", "78701", "30.2672", "-97.7431", "America/Chicago", 6},
    {"Denver", "Colorado", "United States", "US", "80202", "39.7392", "-104.9903", "America/Denver", 4},
    {"Toronto", "Ontario", "Canada", "CA", "M5H 2N2", "43.6532", "-79.3832", "America/Toronto", 3},
    {"Mexico City", "Mexico City", "Mexico", "MX", "06000", "19.4326", "-99.1332", "America/Mexico_City", 2},
    {"Sao Paulo", "Sao Paulo", "Brazil", "BR", "01000-000", "-23.5505", "-46.6333", "America/Sao_Paulo", 2},
    {"London", "England", "United Kingdom", "GB", "EC1A 1BB", "51.5074", "-0.1278", "Europe/London", 5},
    {"Manchester", "England", "United Kingdom", "GB", "M1 1AE", "53.4808", "-2.2426", "Europe/London", 2},
    {"Dublin", "Leinster", "Ireland", "IE", "D02 X285", "53.3498", "-6.2603", "Europe/Dublin", 2},
    {"Berlin", "Berlin", "Germany", "DE", "10115", "52.5200", "13.4050", "Europe/Berlin", 4},
    {"Munich", "Bavaria", "Germany", "DE", "80331", "48.1351", "11.5820", "Europe/Berlin", 2},
    {"Paris", "Ile-de-France", "France", "FR", "75001", "48.8566", "2.3522", "Europe/Paris", 3},
    {"Amsterdam", "North Holland", "Netherlands", "NL", "1012 JS", "52.3676", "4.9041", "Europe/Amsterdam", 2},
    {"Madrid", "Community of Madrid", "Spain", "ES", "28013", "40.4168", "-3.7038", "Europe/Madrid", 2},
    {"Stockholm", "Stockholm County", "Sweden", "SE", "111 20", "59.3293", "18.0686", "Europe/Stockholm", 1},
    {"Warsaw", "Masovia", "Poland", "PL", "00-001", "52.2297", "21.0122", "Europe/Warsaw", 1},
    {"Bangalore", "Karnataka", "India", "IN", "560001", "12.9716", "77.5946", "Asia/Kolkata", 3},
    {"Singapore", "Singapore", "Singapore", "SG", "018989", "1.3521", "103.8198", "Asia/Singapore", 2},
    {"Tokyo", "Tokyo", "Japan", "JP", "100-0001", "35.6762", "139.6503", "Asia/Tokyo", 3},
    {"Sydney", "New South Wales", "Australia", "AU", "2000", "-33.8688", "151.2093", "Australia/Sydney", 2},
};
constexpr std::array<std::string_view, 8> geo_parts = {"city", "region", "country", "country_code",
                                                       "postal_code", "lat", "lon", "timezone"};

RowValue geo_value(std::string_view part, const Place& p) {
    if (part == "city") return {std::string(p.city)};
    if (part == "region") return {std::string(p.region)};
    if (part == "country") return {std::string(p.country)};
    if (part == "country_code") return {std::string(p.country_code)};
    if (part == "postal_code") return {std::string(p.postal_code)};
    if (part == "lat") return {std::string(p.lat), true};
    if (part == "lon") return {std::string(p.lon), true};
    return {std::string(p.timezone)};
}

// Part names as people write them.
std::string canonical_part(std::string_view part, bool geo) {
    const std::string p = lower(part);
    if (geo) {
        if (p == "state" || p == "province") return "region";
        if (p == "postalcode" || p == "zip" || p == "zip_code" || p == "postcode") return "postal_code";
        if (p == "countrycode") return "country_code";
        if (p == "latitude") return "lat";
        if (p == "lng" || p == "longitude") return "lon";
        if (p == "time_zone" || p == "tz") return "timezone";
        return p;
    }
    if (p == "displayname" || p == "full_name" || p == "fullname") return "name";
    if (p == "firstname" || p == "first") return "first_name";
    if (p == "lastname" || p == "last") return "last_name";
    if (p == "userid" || p == "id") return "user_id";
    if (p == "login" || p == "alternateid") return "email";
    return p;
}

// ---- grouping -------------------------------------------------------------------

struct Grouper {
    const SourceSpec& spec;
    std::vector<bool> used;
    std::vector<RowGroup> groups;

    [[nodiscard]] std::string group_of(const FieldSpec& f) const {
        return f.group.empty() ? std::string(parent_of(f.name)) : f.group;
    }

    void entities(FieldKind kind) {
        std::map<std::string, RowGroup> by_group;
        for (std::size_t i = 0; i < spec.fields.size(); ++i) {
            const FieldSpec& f = spec.fields[i];
            const bool person = kind == FieldKind::person;
            const bool member = f.kind == kind || (person && (f.kind == FieldKind::name || f.kind == FieldKind::email));
            if (!member) continue;
            const std::string part = f.kind == FieldKind::name ? "name" : f.kind == FieldKind::email ? "email"
                                                                        : canonical_part(f.part, !person);
            const auto& known = person ? std::span<const std::string_view>(person_parts) : std::span<const std::string_view>(geo_parts);
            if (std::find(known.begin(), known.end(), part) == known.end()) {
                std::string list;
                for (const std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
                throw SchemaError(f.origin, "part \"" + f.part + "\" is not one of " + list);
            }
            RowGroup& g = by_group[group_of(f)];
            g.fields.push_back(i);
            std::vector<RowValue> values;
            if (person) {
                for (std::size_t a = 0; a < std::size(first_names); ++a) {
                    for (std::size_t b = 0; b < std::size(last_names); ++b) values.push_back({person_value(part, a, b)});
                }
            } else {
                for (const Place& p : places) values.push_back(geo_value(part, p));
                if (g.weights.empty()) {
                    for (const Place& p : places) g.weights.push_back(p.weight);
                }
            }
            g.parts.push_back(std::move(values));
            used[i] = true;
        }
        for (auto& [name, g] : by_group) groups.push_back(std::move(g));
    }

    void choice_groups() {
        std::map<std::string, RowGroup> by_group;
        std::map<std::string, std::size_t> first_field;
        for (std::size_t i = 0; i < spec.fields.size(); ++i) {
            const FieldSpec& f = spec.fields[i];
            if (used[i] || f.kind != FieldKind::choice || f.group.empty()) continue;
            RowGroup& g = by_group[f.group];
            if (!g.parts.empty() && g.parts.front().size() != f.values.size()) {
                throw SchemaError(f.origin, "choice fields of group \"" + f.group + "\" need the same number of values (" +
                                                spec.fields[first_field[f.group]].name + " has " +
                                                std::to_string(g.parts.front().size()) + ", " + f.name + " has " +
                                                std::to_string(f.values.size()) + ")");
            }
            first_field.emplace(f.group, i);
            g.fields.push_back(i);
            std::vector<RowValue> values;
            for (const SchemaValue& v : f.values) values.push_back({v.text, v.type != SchemaValue::Type::string});
            g.parts.push_back(std::move(values));
            if (g.weights.empty()) g.weights = f.weights;
            used[i] = true;
        }
        for (auto& [name, g] : by_group) groups.push_back(std::move(g));
    }

    void http();
    void same_facts();
};

bool leaf_in(std::string_view name, std::initializer_list<std::string_view> leaves) {
    const std::string leaf = lower(leaf_of(name));
    return std::find(leaves.begin(), leaves.end(), leaf) != leaves.end();
}

// Whether a server answers `method` with `status` (RFC 9110's semantics).
bool answers(std::string_view method, int status) {
    const auto is = [&](std::initializer_list<std::string_view> methods) {
        return std::find(methods.begin(), methods.end(), method) != methods.end();
    };
    switch (status) {
        case 201: return is({"POST", "PUT"});
        case 202: return is({"POST", "PUT", "PATCH", "DELETE"});
        case 204: return is({"POST", "PUT", "PATCH", "DELETE", "OPTIONS"});
        case 206: return is({"GET"});
        case 301: case 302: case 307: case 308: return is({"GET", "HEAD", "POST"});
        case 303: return is({"POST", "PUT", "PATCH"});
        case 304: return is({"GET", "HEAD"});
        case 409: case 412: return is({"POST", "PUT", "PATCH", "DELETE"});
        case 411: case 413: case 415: case 422: return is({"POST", "PUT", "PATCH"});
        default: return true;
    }
}

bool without_body(std::string_view method, int status) {
    return method == "HEAD" || status < 200 || status == 204 || status == 304;
}

bool ends_with_any(std::string_view text, std::initializer_list<std::string_view> ends) {
    return std::any_of(ends.begin(), ends.end(), [&](std::string_view e) { return text.ends_with(e); });
}

}  // namespace

BodySize body_size_of(std::string_view method, std::string_view path, int status) {
    constexpr std::uint64_t one = std::uint64_t{1} << 16;
    if (without_body(method, status)) return {0, 0};
    const std::string p = lower(path.substr(0, path.find('?')));
    // Error pages and redirects: a short JSON error or "Moved" page, ~70-300 B.
    if (status >= 300) return {one / 64, 60};
    // Health and readiness probes answer "OK" or {"status":"ok"}.
    if (ends_with_any(p, {"/health", "/healthz", "/ready", "/readyz", "/livez", "/ping", "/status"})) return {one / 4096, 15};
    // A favicon: a few kB at most.
    if (p.ends_with(".ico")) return {one / 32, 300};
    // Static assets: scripts, styles, images, fonts, tens to hundreds of kB.
    if (p.starts_with("/static/") || p.starts_with("/assets/") ||
        ends_with_any(p, {".js", ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".woff", ".woff2", ".map", ".html"})) {
        return {one * 4, 60'000};
    }
    // A Prometheus scrape: a few kB of text.
    if (p.ends_with("/metrics")) return {one / 4, 2'000};
    // API replies: mostly small JSON.
    if (p.starts_with("/api/")) return {one / 2, 0};
    return {one, 0};
}

namespace {

std::optional<int> status_of(const SchemaValue& v) {
    if (v.text.size() != 3 || !std::all_of(v.text.begin(), v.text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    const int s = std::stoi(v.text);
    return s >= 100 && s <= 599 ? std::optional<int>(s) : std::nullopt;
}

// The rows a method field is drawn from: its own values, or the rows of the
// choice group it is in (method and path drawn together).
RowGroup method_rows(const SourceSpec& spec, std::vector<RowGroup>& groups, std::size_t m, std::size_t& replaced) {
    replaced = groups.size();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        if (std::find(groups[g].fields.begin(), groups[g].fields.end(), m) != groups[g].fields.end()) {
            replaced = g;
            RowGroup rows = groups[g];
            // The method's part first, so the HTTP rule reads it at parts[0].
            const auto k = static_cast<std::size_t>(std::find(rows.fields.begin(), rows.fields.end(), m) - rows.fields.begin());
            std::swap(rows.fields[0], rows.fields[k]);
            std::swap(rows.parts[0], rows.parts[k]);
            if (rows.weights.empty()) rows.weights.assign(rows.parts[0].size(), 1.0);
            return rows;
        }
    }
    const FieldSpec& method = spec.fields[m];
    RowGroup rows;
    rows.fields = {m};
    rows.parts.resize(1);
    for (const SchemaValue& v : method.values) rows.parts[0].push_back({v.text, v.type != SchemaValue::Type::string});
    rows.weights = method.weights.empty() ? std::vector<double>(method.values.size(), 1.0) : method.weights;
    return rows;
}

// Scaling multiplies by up to 4 * 2^16: the field's values must stay far
// below 2^64 / 2^18 (a byte count does, by 2^20).
bool fits_body_scaling(const FieldSpec& bytes) {
    double most = bytes.max;
    double least = bytes.min;
    for (const WeightedRange& r : bytes.ranges) {
        most = std::max(most, static_cast<double>(r.max));
        least = std::min(least, static_cast<double>(r.min));
    }
    return most >= 0 && most < 1e12 && least >= 0;
}

void Grouper::http() {
    for (std::size_t m = 0; m < spec.fields.size(); ++m) {
        const FieldSpec& method = spec.fields[m];
        if (method.kind != FieldKind::choice || !leaf_in(method.name, {"method", "http_method", "request_method", "verb"})) continue;
        for (std::size_t s = 0; s < spec.fields.size(); ++s) {
            const FieldSpec& status = spec.fields[s];
            if (used[s] || status.kind != FieldKind::choice || parent_of(status.name) != parent_of(method.name) ||
                !leaf_in(status.name, {"status", "status_code", "statuscode", "response_code", "http_status"}) ||
                !std::all_of(status.values.begin(), status.values.end(), [](const SchemaValue& v) { return status_of(v).has_value(); })) {
                continue;
            }
            std::size_t replaced = 0;
            const RowGroup rows = method_rows(spec, groups, m, replaced);
            // A path among the rows (method and path drawn together): the
            // byte count follows what the path serves.
            std::optional<std::size_t> path_part;
            for (std::size_t k = 1; k < rows.fields.size() && !path_part; ++k) {
                if (leaf_in(spec.fields[rows.fields[k]].name, {"path", "url", "uri", "request_path", "endpoint"})) path_part = k;
            }
            RowGroup g;
            g.fields = rows.fields;
            g.fields.push_back(s);
            g.parts.resize(g.fields.size());
            for (std::size_t r = 0; r < rows.parts[0].size(); ++r) {
                std::string verb = rows.parts[0][r].text;
                for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                for (std::size_t b = 0; b < status.values.size(); ++b) {
                    const int code = *status_of(status.values[b]);
                    if (!answers(verb, code)) continue;
                    for (std::size_t k = 0; k < rows.parts.size(); ++k) g.parts[k].push_back(rows.parts[k][r]);
                    g.parts.back().push_back({status.values[b].text, status.values[b].type != SchemaValue::Type::string});
                    g.weights.push_back(rows.weights[r] * (status.weights.empty() ? 1.0 : status.weights[b]));
                    g.zero_rows.push_back(without_body(verb, code));
                    if (path_part) g.body_rows.push_back(body_size_of(verb, rows.parts[*path_part][r].text, code));
                }
            }
            double total = 0;
            for (const double w : g.weights) total += w;
            if (!(total > 0)) continue;  // nothing a server would answer: leave the fields as they are
            for (std::size_t z = 0; z < spec.fields.size(); ++z) {
                const FieldSpec& bytes = spec.fields[z];
                if (!used[z] && bytes.kind == FieldKind::integer && parent_of(bytes.name) == parent_of(method.name) &&
                    leaf_in(bytes.name, {"bytes", "body_bytes", "bytes_sent", "body_bytes_sent", "response_bytes",
                                         "response_size", "size", "content_length"})) {
                    g.zero_field = z;
                    break;
                }
            }
            if (!g.zero_field) g.zero_rows.clear();
            if (!g.zero_field || !fits_body_scaling(spec.fields[*g.zero_field])) g.body_rows.clear();
            used[m] = used[s] = true;
            if (replaced < groups.size()) groups[replaced] = std::move(g);
            else groups.push_back(std::move(g));
            return;
        }
    }
}

void Grouper::same_facts() {
    const auto same = [](const FieldSpec& x, const FieldSpec& y) {
        return x.kind == FieldKind::choice && y.kind == FieldKind::choice && lower(leaf_of(x.name)) == lower(leaf_of(y.name)) &&
               x.values == y.values && x.weights == y.weights;
    };
    for (std::size_t a = 0; a < spec.fields.size(); ++a) {
        const FieldSpec& f = spec.fields[a];
        if (used[a] || f.kind != FieldKind::choice) continue;
        // Already a part of a row (a pair of identity lists): join it there.
        for (RowGroup& g : groups) {
            for (std::size_t k = 0; k < g.fields.size() && !used[a]; ++k) {
                if (!same(spec.fields[g.fields[k]], f) || g.parts[k].size() != f.values.size() ||
                    !std::equal(f.values.begin(), f.values.end(), g.parts[k].begin(),
                                [](const SchemaValue& v, const RowValue& r) { return v.text == r.text; })) {
                    continue;
                }
                g.fields.push_back(a);
                g.parts.push_back(g.parts[k]);
                used[a] = true;
            }
        }
        if (used[a]) continue;
        RowGroup g;
        for (std::size_t b = a + 1; b < spec.fields.size(); ++b) {
            const FieldSpec& o = spec.fields[b];
            if (used[b] || o.kind != FieldKind::choice || lower(leaf_of(o.name)) != lower(leaf_of(f.name)) ||
                o.values != f.values || o.weights != f.weights) {
                continue;
            }
            if (g.fields.empty()) g.fields.push_back(a);
            g.fields.push_back(b);
            used[b] = true;
        }
        if (g.fields.empty()) continue;
        used[a] = true;
        std::vector<RowValue> values;
        for (const SchemaValue& v : f.values) values.push_back({v.text, v.type != SchemaValue::Type::string});
        g.parts.assign(g.fields.size(), values);
        g.weights = f.weights;
        groups.push_back(std::move(g));
    }
}

}  // namespace

std::vector<RowGroup> find_row_groups(const SourceSpec& spec) {
    // The passes below index a field's weights by its values' positions;
    // a count that differs is refused here, before any of them reads it.
    for (const FieldSpec& f : spec.fields) {
        if (f.kind == FieldKind::choice && !f.weights.empty() && f.weights.size() != f.values.size()) {
            throw SchemaError(f.origin, "has " + std::to_string(f.values.size()) + " values but " +
                                            std::to_string(f.weights.size()) + " weights (one weight per value)");
        }
    }
    Grouper grouper{spec, std::vector<bool>(spec.fields.size(), false), {}};
    grouper.choice_groups();
    grouper.entities(FieldKind::person);
    grouper.entities(FieldKind::geo);
    grouper.http();
    grouper.same_facts();
    return std::move(grouper.groups);
}

std::size_t geo_row_count() { return std::size(places); }
std::size_t person_row_count() { return std::size(first_names) * std::size(last_names); }

}  // namespace supervent::core
