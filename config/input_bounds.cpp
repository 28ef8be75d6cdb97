// Config files checked against core/bounds.hpp before a parser sees them
// (config/input_bounds.hpp says why). The TOML check is a small scanner of
// its own, the YAML check yaml-cpp's event parser, which builds no nodes and
// resolves no alias, so neither can be made to recurse or allocate beyond
// the bounds it enforces.
#include "config/input_bounds.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "config/settings.hpp"
#include "config/values.hpp"
#include "core/bounds.hpp"
#include "core/escape.hpp"

namespace supervent::config::detail {
namespace {

std::string too_deep() {
    return concat("nested more than ", bounds::config_depth_max,
                  " deep (tables, arrays and the parts of dotted keys); supervent's files nest 6 deep at most");
}

// Text in memory (a `set`, a fuzzer's input) has no file to be too large, but the same bound.
void check_size(std::string_view text, const std::string& origin) {
    if (text.size() > bounds::config_file_bytes_max) {
        throw ConfigError(concat(origin, ": larger than ", bounds::config_file_bytes_max / (1024 * 1024), " MiB"));
    }
}

std::string too_many_nodes() {
    return concat("more than ", bounds::config_nodes_max,
                  " values (aliases counted as what they repeat); is it the right file?");
}

// ---- TOML ---------------------------------------------------------------------

// Walks TOML as toml++ would, counting instead of building. Where the text
// stops being TOML the scan stops too, and toml++ is given only the text up
// to there (the byte it stopped at included), so it never parses what was
// not checked: it reports the syntax error there.
class TomlScan {
public:
    TomlScan(std::string_view text, const std::string& origin) : text_(text), origin_(origin) {}

    // The bytes checked: all of them, or up to the first that is not TOML.
    std::size_t run() {
        if (text_.starts_with("\xEF\xBB\xBF")) at_ = 3;  // a UTF-8 byte order mark, which toml++ skips
        while (more()) {
            skip_blanks();
            const char c = peek();
            if (c == '\n' || c == '\r' || c == '#') {
                end_of_line();
            } else if (c == '[') {
                header();
            } else {
                key_value(table_depth_);
                end_of_line();
            }
        }
        return checked_;
    }

private:
    std::string_view text_;
    const std::string& origin_;
    std::size_t at_ = 0;
    std::uint64_t line_ = 1;
    std::uint64_t nodes_ = 0;
    std::uint32_t table_depth_ = 0;  // the parts of the current [table] header
    std::size_t checked_ = text_.size();

    [[nodiscard]] bool more() const { return at_ < text_.size(); }
    [[nodiscard]] char peek(std::size_t ahead = 0) const {
        return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0';
    }
    // Not TOML (or TOML this scan does not know): stop, and let toml++ say.
    void lost() {
        checked_ = std::min(at_ + 1, text_.size());
        at_ = text_.size();
    }
    [[noreturn]] void refuse(const std::string& why) const { throw ConfigError(concat(origin_, ':', line_, ": ", why)); }

    void count_node(std::uint32_t depth) {
        if (depth > bounds::config_depth_max) refuse(too_deep());
        if (++nodes_ > bounds::config_nodes_max) refuse(too_many_nodes());
    }
    void skip_blanks() {
        while (peek() == ' ' || peek() == '\t') ++at_;
    }
    // Blanks, comments and line ends: what may separate an array's elements.
    void skip_trivia() {
        for (;;) {
            skip_blanks();
            if (peek() == '#') {
                while (more() && peek() != '\n') ++at_;
            } else if (peek() == '\r' && peek(1) == '\n') {
                at_ += 1;
            } else if (peek() == '\n') {
                ++at_;
                ++line_;
            } else {
                return;
            }
        }
    }
    void end_of_line() {
        skip_blanks();
        if (peek() == '#') {
            while (more() && peek() != '\n') ++at_;
        }
        if (peek() == '\r') ++at_;
        if (peek() == '\n') {
            ++at_;
            ++line_;
        } else if (more()) {
            lost();
        }
    }

    void string();
    std::uint32_t key_path();
    void key_value(std::uint32_t depth);
    void header();
    void value(std::uint32_t depth);
    void array(std::uint32_t depth);
    void inline_table(std::uint32_t depth);
};

// "…", '…', """…""" or '''…''', counting the lines a multi-line one spans.
void TomlScan::string() {
    const char quote = peek();
    const bool multiline = peek(1) == quote && peek(2) == quote;
    at_ += multiline ? 3 : 1;
    while (more()) {
        const char c = text_[at_];
        if (c == '\\' && quote == '"') {
            if (peek(1) == '\n') ++line_;
            at_ += 2;
        } else if (c == '\n') {
            if (!multiline) return lost();
            ++line_;
            ++at_;
        } else if (c == quote && (!multiline || (peek(1) == quote && peek(2) == quote))) {
            at_ += multiline ? 3 : 1;
            // Up to two more quotes belong to a multi-line string's text ("""a""""" is a"").
            for (int extra = 0; multiline && extra < 2 && peek() == quote; ++extra) ++at_;
            return;
        } else {
            ++at_;
        }
    }
}

bool is_bare_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// A key, bare or quoted, dotted or not; returns its parts (0 when lost).
std::uint32_t TomlScan::key_path() {
    const std::size_t start = at_;
    std::uint32_t parts = 0;
    for (;;) {
        skip_blanks();
        if (peek() == '"' || peek() == '\'') {
            string();
        } else {
            const std::size_t bare = at_;
            while (is_bare_key_char(peek())) ++at_;
            if (at_ == bare) {
                lost();
                return 0;
            }
        }
        if (++parts > bounds::config_key_parts_max) {
            refuse(concat("a key of more than ", bounds::config_key_parts_max,
                          " dotted parts; supervent's keys have 4 at most"));
        }
        if (at_ - start > bounds::config_key_bytes_max) {
            refuse(concat("a key longer than ", bounds::config_key_bytes_max, " bytes"));
        }
        skip_blanks();
        if (peek() != '.') return more() ? parts : 0;
        ++at_;
    }
}

// [table] or [[array.of.tables]]: an array of tables nests one deeper.
void TomlScan::header() {
    ++at_;
    const bool array_of_tables = peek() == '[';
    if (array_of_tables) ++at_;
    const std::uint32_t parts = key_path();
    if (parts == 0) return;
    table_depth_ = parts + (array_of_tables ? 1 : 0);
    count_node(table_depth_);
    for (int close = array_of_tables ? 2 : 1; close > 0; --close) {
        if (peek() != ']') return lost();
        ++at_;
    }
    end_of_line();
}

// key = value, at `depth` (the table or inline table it is in).
void TomlScan::key_value(std::uint32_t depth) {
    const std::uint32_t parts = key_path();
    if (parts == 0) return;
    if (peek() != '=') return lost();
    ++at_;
    skip_blanks();
    value(depth + parts);
}

void TomlScan::value(std::uint32_t depth) {
    count_node(depth);
    const char c = peek();
    if (c == '"' || c == '\'') return string();
    if (c == '[') return array(depth);
    if (c == '{') return inline_table(depth);
    // A number, a boolean or a date-time: up to what ends a value.
    const std::size_t start = at_;
    while (more() && std::strchr(",]}#\r\n", peek()) == nullptr && peek() != '\0') ++at_;
    if (at_ == start) lost();
}

void TomlScan::array(std::uint32_t depth) {
    ++at_;
    for (;;) {
        skip_trivia();
        if (peek() == ']') {
            ++at_;
            return;
        }
        if (!more()) return;
        value(depth + 1);
        skip_trivia();
        if (peek() == ',') {
            ++at_;
        } else if (peek() != ']') {
            return lost();
        }
    }
}

void TomlScan::inline_table(std::uint32_t depth) {
    ++at_;
    skip_blanks();
    if (peek() == '}') {
        ++at_;
        return;
    }
    while (more()) {
        key_value(depth + 1);
        skip_blanks();
        if (peek() == '}') {
            ++at_;
            return;
        }
        if (peek() != ',') return lost();
        ++at_;
    }
}

// ---- YAML ---------------------------------------------------------------------

struct YamlRefusal {
    YAML::Mark mark;
    std::string why;
};

// Counts the nodes of the first document (YAML::Load reads no further) with
// every alias expanded: the size of each anchored node is known when it
// ends, so an alias adds that size; an alias to a node still open is a node
// containing itself, which no walk of it would finish.
class YamlCount : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
        if (!open_.empty() && open_.back().map && open_.back().next_is_key &&
            value.size() > bounds::config_key_bytes_max) {
            throw YamlRefusal{mark, concat("a key longer than ", bounds::config_key_bytes_max, " bytes")};
        }
        // YAML is Unicode, but yaml-cpp passes any bytes through; a name that is not
        // UTF-8 made `convert` print TOML no parser reads (found by fuzz_convert).
        try {
            (void)core::escape_text(value, core::TextContext::raw);
        } catch (const std::invalid_argument&) {
            throw YamlRefusal{mark, "text that is not UTF-8 (a YAML file is Unicode text)"};
        }
        leaf(mark, anchor);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        if (anchor >= sizes_.size() || sizes_[anchor] == 0) {
            throw YamlRefusal{mark, "an alias inside the node it refers to (a node that contains itself)"};
        }
        add(mark, sizes_[anchor]);
        next_entry();
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, anchor, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
        open(mark, anchor, true);
    }
    void OnMapEnd() override { close(); }

private:
    struct Open {
        YAML::anchor_t anchor;
        std::uint64_t nodes_before;
        bool map;
        bool next_is_key = true;
    };
    std::vector<Open> open_;
    std::vector<std::uint64_t> sizes_;  // by anchor: the nodes it stands for; 0 while it is open
    std::uint64_t nodes_ = 0;

    void add(const YAML::Mark& mark, std::uint64_t nodes) {
        nodes_ += nodes;
        if (nodes_ > bounds::config_nodes_max) throw YamlRefusal{mark, too_many_nodes()};
    }
    // A node ended: the next one in a mapping is a key again, or a value.
    void next_entry() {
        if (!open_.empty() && open_.back().map) open_.back().next_is_key = !open_.back().next_is_key;
    }
    void anchored(YAML::anchor_t anchor, std::uint64_t nodes) {
        if (anchor == 0) return;
        if (anchor >= sizes_.size()) sizes_.resize(anchor + 1, 0);
        sizes_[anchor] = nodes;
    }
    void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
        add(mark, 1);
        anchored(anchor, 1);
        next_entry();
    }
    void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
        if (open_.size() >= bounds::config_depth_max) throw YamlRefusal{mark, too_deep()};
        add(mark, 1);
        if (anchor != 0) anchored(anchor, 0);  // open: an alias to it now is recursion
        open_.push_back({anchor, nodes_ - 1, map});
    }
    void close() {
        assert(!open_.empty());
        const Open done = open_.back();
        open_.pop_back();
        anchored(done.anchor, nodes_ - done.nodes_before);
        next_entry();
    }
};

}  // namespace

std::string read_config_text(const std::string& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!file) throw ConfigError(concat(path, ": cannot open config file: ", std::strerror(errno)));
    // One byte more than allowed tells a file at the bound from one beyond it
    // (and /dev/zero from a config file) without reading the rest.
    std::string text(bounds::config_file_bytes_max + 1, '\0');
    const auto bytes = std::fread(text.data(), 1, text.size(), file.get());
    if (std::ferror(file.get()) != 0) throw ConfigError(concat(path, ": cannot read config file: ", std::strerror(errno)));
    if (bytes > bounds::config_file_bytes_max) {
        throw ConfigError(concat(path, ": config file is larger than ", bounds::config_file_bytes_max / (1024 * 1024),
                                 " MiB; is it the right file?"));
    }
    text.resize(bytes);
    return text;
}

std::size_t check_toml_bounds(std::string_view text, const std::string& origin) {
    check_size(text, origin);
    return TomlScan(text, origin).run();
}

void check_yaml_bounds(std::string_view text, const std::string& origin) {
    check_size(text, origin);
    std::istringstream in{std::string(text)};
    YamlCount count;
    try {
        YAML::Parser parser(in);
        (void)parser.HandleNextDocument(count);
    } catch (const YamlRefusal& refusal) {
        throw ConfigError(concat(origin, ':', refusal.mark.line + 1, ": ", refusal.why));
    } catch (const YAML::Exception&) {
        // Not YAML: YAML::Load reports the same error, with its place, on the same text.
    }
}

}  // namespace supervent::config::detail
