// The peer of supervent-bench-core: a plain-C serializer written for one fixed
// schema, the built-in web_access event, as a competent C programmer would
// write it without a generator: a wyrand RNG, 1024-slot lookup tables for the
// weighted choices, hand-written integer / IPv4 / UUID formatting with digit
// and hex tables, memcpy of literals and chosen strings, and the timestamp
// texts cached per second (the nanoseconds patched per event). No SIMD
// intrinsics and no sprintf in the loop. It writes the same fields, in the same
// order and JSON layout, with the same value kinds and comparable
// distributions (the engine's weights; status and bytes drawn independently of
// the endpoint, bytes 0 for HEAD), so its bytes/event land within a few
// percent of the engine's. The code is the C subset of C++ (no classes,
// templates or library calls besides memcpy), compiled with the same flags as
// the engine so the comparison is of the code alone.
#include "bench/web_access_peer.hpp"

#include <cstring>

namespace supervent::bench {
namespace {

struct Str {
    const char* s;
    unsigned len;
};
#define S(x) {x, sizeof(x) - 1}

const Str methods[] = {S("GET"), S("POST"), S("PUT"), S("PATCH"), S("DELETE"), S("HEAD")};
struct Endpoint {
    unsigned method;
    Str path;
    unsigned weight;
};
const Endpoint endpoints[] = {
    {0, S("/api/v1/users"), 8},          {1, S("/api/v1/users"), 2},          {0, S("/api/v1/users/profile"), 5},
    {2, S("/api/v1/users/profile"), 1},  {3, S("/api/v1/users/profile"), 1},  {0, S("/api/v1/orders"), 6},
    {1, S("/api/v1/orders"), 3},         {0, S("/api/v1/orders/history"), 3}, {0, S("/api/v1/products"), 12},
    {5, S("/api/v1/products"), 1},       {0, S("/api/v1/products/search"), 8}, {0, S("/api/v1/cart"), 3},
    {1, S("/api/v1/cart"), 2},           {4, S("/api/v1/cart"), 1},           {1, S("/api/v1/checkout"), 2},
    {1, S("/api/v1/payments"), 2},       {1, S("/api/v1/auth/login"), 4},     {1, S("/api/v1/auth/logout"), 1},
    {1, S("/api/v1/auth/refresh"), 3},   {0, S("/api/v1/inventory"), 2},      {2, S("/api/v1/inventory"), 1},
    {0, S("/api/v1/reviews"), 3},        {1, S("/api/v1/reviews"), 1},        {0, S("/api/v1/notifications"), 3},
    {4, S("/api/v1/notifications"), 1},  {0, S("/api/v1/search"), 6},         {0, S("/api/v2/recommendations"), 3},
    {0, S("/health"), 8},                {5, S("/health"), 2},                {0, S("/metrics"), 5},
    {0, S("/static/js/app.js"), 3},      {5, S("/static/js/app.js"), 1},
};
const Str protocols[] = {S("HTTP/1.1"), S("HTTP/2.0")};
const unsigned protocol_weights[] = {80, 20};
const Str statuses[] = {S("200"), S("201"), S("204"), S("301"), S("304"), S("400"), S("401"),
                        S("403"), S("404"), S("429"), S("500"), S("502"), S("503")};
const unsigned status_weights[] = {700, 60, 30, 10, 50, 30, 20, 10, 50, 10, 15, 8, 7};
const Str agents[] = {
    S("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
    S("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"),
    S("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"),
    S("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"),
    S("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"),
    S("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
    S("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36"),
    S("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"),
    S("curl/8.4.0"),
    S("python-requests/2.31.0"),
    S("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    S("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
};
const unsigned agent_weights[] = {25, 12, 10, 8, 5, 12, 8, 6, 5, 4, 3, 2};
const Str referers[] = {S("-"), S("https://www.google.com/"), S("https://www.bing.com/"), S("https://example.com/"),
                        S("https://example.com/products"), S("https://t.co/"), S("https://duckduckgo.com/")};
const unsigned referer_weights[] = {40, 25, 5, 12, 10, 4, 4};
// Histograms as (lo, hi, weight): bytes, and the response time in thousandths of a ms.
struct Range {
    unsigned lo, hi, weight;
};
const Range byte_ranges[] = {{100, 999, 25}, {1000, 9999, 50}, {10000, 99999, 20}, {100000, 2000000, 5}};
const Range time_ranges[] = {{1000, 19999, 60}, {20000, 99999, 30}, {100000, 999999, 9}, {1000000, 5000000, 1}};
const char* const month_abbrs[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

constexpr unsigned pick_slots = 1024;  // weighted choices: 10 random bits index a table

struct Tables {
    unsigned char endpoint[pick_slots], protocol[pick_slots], status[pick_slots], agent[pick_slots],
        referer[pick_slots], bytes_range[pick_slots], time_range[pick_slots];
    char pairs[200];  // "00".."99"
    char hex[512];    // "00".."ff"
};

void fill_pick(unsigned char* slots, const unsigned* weights, unsigned n) {
    unsigned total = 0;
    for (unsigned i = 0; i < n; ++i) total += weights[i];
    unsigned slot = 0;
    unsigned running = 0;
    for (unsigned i = 0; i < n; ++i) {
        running += weights[i];
        const unsigned end = i + 1 == n ? pick_slots : running * pick_slots / total;
        for (; slot < end; ++slot) slots[slot] = static_cast<unsigned char>(i);
    }
}

Tables make_tables() {
    Tables t;
    unsigned w[32];
    for (unsigned i = 0; i < 32; ++i) w[i] = endpoints[i].weight;
    fill_pick(t.endpoint, w, 32);
    fill_pick(t.protocol, protocol_weights, 2);
    fill_pick(t.status, status_weights, 13);
    fill_pick(t.agent, agent_weights, 12);
    fill_pick(t.referer, referer_weights, 7);
    for (unsigned i = 0; i < 4; ++i) w[i] = byte_ranges[i].weight;
    fill_pick(t.bytes_range, w, 4);
    for (unsigned i = 0; i < 4; ++i) w[i] = time_ranges[i].weight;
    fill_pick(t.time_range, w, 4);
    for (unsigned i = 0; i < 100; ++i) {
        t.pairs[2 * i] = static_cast<char>('0' + i / 10);
        t.pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    const char* digits = "0123456789abcdef";
    for (unsigned i = 0; i < 256; ++i) {
        t.hex[2 * i] = digits[i >> 4];
        t.hex[2 * i + 1] = digits[i & 15];
    }
    return t;
}

const Tables tables = make_tables();

__extension__ using u128 = unsigned __int128;

inline std::uint64_t wyrand(std::uint64_t* state) {
    *state += 0xa0761d6478bd642full;
    const u128 m = static_cast<u128>(*state) * (*state ^ 0xe7037ed1a0b428dbull);
    return static_cast<std::uint64_t>(m >> 64) ^ static_cast<std::uint64_t>(m);
}

inline char* put(char* p, Str s) {
    std::memcpy(p, s.s, s.len);
    return p + s.len;
}

#define LIT(p, x) (std::memcpy(p, x, sizeof(x) - 1), (p) + sizeof(x) - 1)

inline char* put_uint(char* p, std::uint32_t v) {
    char buf[10];
    char* e = buf + 10;
    char* b = e;
    while (v >= 100) {
        b -= 2;
        std::memcpy(b, tables.pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        b -= 2;
        std::memcpy(b, tables.pairs + 2 * v, 2);
    } else {
        *--b = static_cast<char>('0' + v);
    }
    std::memcpy(p, b, static_cast<std::size_t>(e - b));
    return p + (e - b);
}

inline char* put_ipv4(char* p, std::uint32_t ip) {
    p = put_uint(p, ip >> 24);
    *p++ = '.';
    p = put_uint(p, (ip >> 16) & 255);
    *p++ = '.';
    p = put_uint(p, (ip >> 8) & 255);
    *p++ = '.';
    return put_uint(p, ip & 255);
}

inline char* put_hex_bytes(char* p, std::uint64_t v, unsigned bytes) {  // most significant first
    for (unsigned i = bytes; i-- > 0;) {
        std::memcpy(p, tables.hex + 2 * ((v >> (8 * i)) & 255), 2);
        p += 2;
    }
    return p;
}

inline char* put_uuid(char* p, std::uint64_t hi, std::uint64_t lo) {
    hi = (hi & ~0xF000ull) | 0x4000ull;  // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
    p = put_hex_bytes(p, hi >> 32, 4);
    *p++ = '-';
    p = put_hex_bytes(p, hi >> 16, 2);
    *p++ = '-';
    p = put_hex_bytes(p, hi, 2);
    *p++ = '-';
    p = put_hex_bytes(p, lo >> 48, 2);
    *p++ = '-';
    return put_hex_bytes(p, lo, 6);
}

inline std::uint32_t in_range(const Range& r, std::uint64_t word) {
    return r.lo + static_cast<std::uint32_t>(((word >> 32) * (r.hi - r.lo + 1)) >> 32);
}

}  // namespace

// Renders the once-a-second texts: "2026-11-18T11:06:40." and "18/Nov/2026:11:06:40 +0000".
void PlainCPeer::render_second(std::int64_t second) {
    const std::int64_t days = second / 86400;
    const auto sod = static_cast<unsigned>(second % 86400);
    // civil_from_days (Hinnant), times after 1970.
    const std::int64_t z = days + 719468;
    const std::int64_t era = z / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    const auto year = static_cast<unsigned>(yoe + era * 400 + (month <= 2 ? 1 : 0));
    const char* pairs = tables.pairs;
    auto two = [&](char* at, unsigned v) { std::memcpy(at, pairs + 2 * v, 2); };
    char* r = rfc3339_;  // YYYY-MM-DDTHH:MM:SS.
    two(r, year / 100), two(r + 2, year % 100), r[4] = '-', two(r + 5, month), r[7] = '-', two(r + 8, day);
    r[10] = 'T', two(r + 11, sod / 3600), r[13] = ':', two(r + 14, sod / 60 % 60), r[16] = ':', two(r + 17, sod % 60);
    r[19] = '.';
    char* a = apache_;  // DD/Mon/YYYY:HH:MM:SS +0000
    two(a, day), a[2] = '/', std::memcpy(a + 3, month_abbrs[month - 1], 3), a[6] = '/';
    two(a + 7, year / 100), two(a + 9, year % 100), a[11] = ':', std::memcpy(a + 12, r + 11, 8);
    std::memcpy(a + 20, " +0000", 6);
    second_ = second;
}

char* PlainCPeer::write_event(char* p, std::int64_t time_ns) {
    const std::int64_t second = time_ns / 1000000000;
    const auto nano = static_cast<std::uint32_t>(time_ns % 1000000000);
    if (second != second_) render_second(second);
    const std::uint64_t r0 = wyrand(&state_), r1 = wyrand(&state_), r2 = wyrand(&state_), r3 = wyrand(&state_);
    const std::uint64_t r4 = wyrand(&state_), r5 = wyrand(&state_);
    const Endpoint& ep = endpoints[tables.endpoint[r0 & 1023]];
    const Str method = methods[ep.method];
    const Str protocol = protocols[tables.protocol[(r0 >> 10) & 1023]];
    const Str status = statuses[tables.status[(r0 >> 20) & 1023]];
    const Str agent = agents[tables.agent[(r0 >> 30) & 1023]];
    const Str referer = referers[tables.referer[(r0 >> 40) & 1023]];
    const std::uint32_t bytes = ep.method == 5 ? 0 : in_range(byte_ranges[tables.bytes_range[(r0 >> 50) & 1023]], r1);
    const std::uint32_t millis_x1000 = in_range(time_ranges[tables.time_range[r1 & 1023]], r2);
    // A private address: 10/8 (a third), 172.16/12, 192.168/16.
    const auto ip_word = static_cast<std::uint32_t>(r3);
    const unsigned net = static_cast<unsigned>((r3 >> 32) % 3);
    const std::uint32_t ip = net == 0   ? (10u << 24) | (ip_word & 0xFFFFFF)
                             : net == 1 ? (172u << 24) | (16u << 16) | (ip_word & 0xFFFFF)
                                        : (192u << 24) | (168u << 16) | (ip_word & 0xFFFF);

    p = LIT(p, "{\"_time\":\"");
    std::memcpy(p, rfc3339_, 20);
    p += 20;
    char* n = p;  // nine nanosecond digits
    std::memcpy(n, tables.pairs + 2 * (nano / 10000000), 2);
    std::memcpy(n + 2, tables.pairs + 2 * (nano / 100000 % 100), 2);
    std::memcpy(n + 4, tables.pairs + 2 * (nano / 1000 % 100), 2);
    std::memcpy(n + 6, tables.pairs + 2 * (nano / 10 % 100), 2);
    n[8] = static_cast<char>('0' + nano % 10);
    p += 9;
    p = LIT(p, "Z\",\"source\":\"web access log\",\"event_type\":\"access\",\"message\":\"");
    char* ip_text = p;
    p = put_ipv4(p, ip);
    const auto ip_len = static_cast<unsigned>(p - ip_text);
    p = LIT(p, " - - [");
    std::memcpy(p, apache_, 26);
    p += 26;
    p = LIT(p, "] \\\"");
    p = put(p, method);
    *p++ = ' ';
    p = put(p, ep.path);
    *p++ = ' ';
    p = put(p, protocol);
    p = LIT(p, "\\\" ");
    p = put(p, status);
    *p++ = ' ';
    p = put_uint(p, bytes);
    p = LIT(p, " \\\"");
    p = put(p, referer);
    p = LIT(p, "\\\" \\\"");
    p = put(p, agent);
    p = LIT(p, "\\\"\",\"attributes\":{\"method\":\"");
    p = put(p, method);
    p = LIT(p, "\",\"path\":\"");
    p = put(p, ep.path);
    p = LIT(p, "\",\"protocol\":\"");
    p = put(p, protocol);
    p = LIT(p, "\",\"status\":");
    p = put(p, status);
    p = LIT(p, ",\"bytes\":");
    p = put_uint(p, bytes);
    p = LIT(p, ",\"client_ip\":\"");
    std::memcpy(p, ip_text, ip_len);
    p += ip_len;
    p = LIT(p, "\",\"user_agent\":\"");
    p = put(p, agent);
    p = LIT(p, "\",\"referer\":\"");
    p = put(p, referer);
    p = LIT(p, "\",\"response_time_ms\":");
    p = put_uint(p, millis_x1000 / 1000);
    *p++ = '.';
    const unsigned frac = millis_x1000 % 1000;
    *p++ = static_cast<char>('0' + frac / 100);
    std::memcpy(p, tables.pairs + 2 * (frac % 100), 2);
    p += 2;
    p = LIT(p, ",\"request_id\":\"");
    p = put_uuid(p, r4, r5);
    return LIT(p, "\"}}\n");
}

std::size_t PlainCPeer::write_batch(std::uint32_t count, std::int64_t begin_ns, std::int64_t end_ns, char* out) {
    // Times as the engine spreads them: one random point in each event's
    // equal share of the window, so they never decrease.
    const std::uint64_t step = static_cast<std::uint64_t>(end_ns - begin_ns) / count;
    char* p = out;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto jitter = static_cast<std::uint64_t>((static_cast<u128>(wyrand(&state_)) * step) >> 64);
        p = write_event(p, begin_ns + static_cast<std::int64_t>(i * step + jitter));
    }
    return static_cast<std::size_t>(p - out);
}

}  // namespace supervent::bench
