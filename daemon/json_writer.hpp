#pragma once
// A small JSON writer for control replies and reports: objects and arrays
// built in order into one string, with correct string escaping. Used only
// on the control path.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace supervent::daemon {

class JsonWriter {
public:
    JsonWriter& begin_object() { separate(); text_ += '{'; first_ = true; return *this; }
    JsonWriter& end_object() { text_ += '}'; first_ = false; return *this; }
    JsonWriter& begin_array() { separate(); text_ += '['; first_ = true; return *this; }
    JsonWriter& end_array() { text_ += ']'; first_ = false; return *this; }
    JsonWriter& key(std::string_view name) {
        separate();
        append_string(name);
        text_ += ':';
        first_ = true;  // the value that follows takes no comma
        return *this;
    }
    JsonWriter& value(std::string_view text) { separate(); append_string(text); return *this; }
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(bool flag) { separate(); text_ += flag ? "true" : "false"; return *this; }
    JsonWriter& value(std::uint64_t number) { separate(); text_ += std::to_string(number); return *this; }
    JsonWriter& value(std::int64_t number) { separate(); text_ += std::to_string(number); return *this; }
    JsonWriter& value(std::uint32_t number) { return value(std::uint64_t{number}); }
    JsonWriter& value(int number) { return value(std::int64_t{number}); }
    JsonWriter& value(double number) {
        separate();
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.3f", number);
        text_ += buffer;
        return *this;
    }
    JsonWriter& null() { separate(); text_ += "null"; return *this; }
    template <typename T>
    JsonWriter& field(std::string_view name, T&& field_value) {
        key(name);
        return value(std::forward<T>(field_value));
    }

    [[nodiscard]] const std::string& text() const { return text_; }
    [[nodiscard]] std::string take() { return std::move(text_); }

private:
    void separate() {
        if (!first_) text_ += ',';
        first_ = false;
    }
    void append_string(std::string_view raw) {
        text_ += '"';
        for (char c : raw) {
            switch (c) {
                case '"': text_ += "\\\""; break;
                case '\\': text_ += "\\\\"; break;
                case '\n': text_ += "\\n"; break;
                case '\r': text_ += "\\r"; break;
                case '\t': text_ += "\\t"; break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        char escape[8];
                        std::snprintf(escape, sizeof escape, "\\u%04x", c);
                        text_ += escape;
                    } else {
                        text_ += c;
                    }
            }
        }
        text_ += '"';
    }

    std::string text_;
    bool first_ = true;
};

}  // namespace supervent::daemon
