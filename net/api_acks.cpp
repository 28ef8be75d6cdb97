#include "net/api_acks.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <string_view>

namespace supervent::net {

namespace {
constexpr std::uint32_t not_held = UINT32_MAX;
}

std::string worker_channel_headers(std::string headers, std::uint32_t worker) {
    constexpr std::string_view name = "X-Splunk-Request-Channel: ";
    const auto at = headers.find(name);
    constexpr std::size_t guid_bytes = 36;
    if (at == std::string::npos || at + name.size() + guid_bytes > headers.size()) return headers;
    char* digits = headers.data() + at + name.size() + guid_bytes - 4;
    unsigned value = 0;
    if (std::from_chars(digits, digits + 4, value, 16).ptr != digits + 4) return headers;
    value = (value + worker) & 0xffffu;
    constexpr std::string_view hex = "0123456789abcdef";
    for (int i = 3; i >= 0; --i, value >>= 4) digits[i] = hex[value & 0xfu];
    return headers;
}

HecAckTable::HecAckTable(std::uint32_t slots, std::uint32_t reorder_window)
    : slots_(slots),
      reorder_window_(reorder_window),
      entries_(std::make_unique<Entry[]>(slots)),
      held_(std::make_unique<std::uint32_t[]>(slots)),
      position_(std::make_unique<std::uint32_t[]>(slots)) {
    std::fill_n(position_.get(), slots, not_held);
}

void HecAckTable::hold(std::uint32_t slot_index, std::uint64_t ack_id, std::int64_t deadline_ns) {
    assert(slot_index < slots_ && position_[slot_index] == not_held);
    // A receiver that started again numbers from 0: what is held from
    // before can no longer be acknowledged (and its ids now name new batches).
    const bool restarted = any_id_ && ack_id + reorder_window_ < highest_id_;
    for (std::uint32_t i = 0; i < held_count_; ++i) {
        Entry& entry = entries_[held_[i]];
        if (restarted || entry.ack_id == ack_id) entry.lost = true;
    }
    highest_id_ = restarted || !any_id_ ? ack_id : std::max(highest_id_, ack_id);
    any_id_ = true;
    entries_[slot_index] = Entry{ack_id, deadline_ns, false};
    position_[slot_index] = held_count_;
    held_[held_count_++] = slot_index;
}

void HecAckTable::release_at(std::uint32_t position) {
    assert(position < held_count_);
    const std::uint32_t slot_index = held_[position];
    const std::uint32_t last = held_[--held_count_];
    held_[position] = last;
    position_[last] = position;
    position_[slot_index] = not_held;
}

std::int64_t HecAckTable::release(std::uint64_t ack_id) {
    for (std::uint32_t i = 0; i < held_count_; ++i) {
        const std::uint32_t slot_index = held_[i];
        // A lost entry's id may now be a new batch's: only that one is meant.
        if (entries_[slot_index].ack_id == ack_id && !entries_[slot_index].lost) {
            release_at(i);
            return slot_index;
        }
    }
    return -1;
}

std::int64_t HecAckTable::take_lost(std::int64_t now_ns) {
    for (std::uint32_t i = 0; i < held_count_; ++i) {
        const std::uint32_t slot_index = held_[i];
        if (entries_[slot_index].lost || now_ns >= entries_[slot_index].deadline_ns) {
            release_at(i);
            return slot_index;
        }
    }
    return -1;
}

std::int64_t HecAckTable::take_any() {
    if (held_count_ == 0) return -1;
    const std::uint32_t slot_index = held_[held_count_ - 1];
    release_at(held_count_ - 1);
    return slot_index;
}

std::int64_t HecAckTable::earliest_deadline_ns() const {
    std::int64_t earliest = INT64_MAX;
    for (std::uint32_t i = 0; i < held_count_; ++i) {
        const Entry& entry = entries_[held_[i]];
        earliest = std::min(earliest, entry.lost ? 0 : entry.deadline_ns);
    }
    return earliest;
}

std::size_t HecAckTable::write_poll_body(char* out) const {
    char* at = out;
    constexpr std::string_view open = R"({"acks":[)";
    std::memcpy(at, open.data(), open.size());
    at += open.size();
    bool first = true;
    for (std::uint32_t i = 0; i < held_count_; ++i) {
        const Entry& entry = entries_[held_[i]];
        if (entry.lost) continue;
        if (!first) *at++ = ',';
        first = false;
        at = std::to_chars(at, at + 20, entry.ack_id).ptr;
    }
    *at++ = ']';
    *at++ = '}';
    assert(static_cast<std::size_t>(at - out) <= poll_body_bytes_max());
    return static_cast<std::size_t>(at - out);
}

}  // namespace supervent::net
