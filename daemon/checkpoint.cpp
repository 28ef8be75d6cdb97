#include "daemon/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "config/toml_write.hpp"
#include "core/bounds.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/checkpoint_share.hpp"

namespace supervent::daemon {
namespace {

// The first line, with the format's number: 2 adds `failed` records; 1 (no
// failed batches recorded, its watermark stopped at the first) still loads.
constexpr std::string_view magic_prefix = "supervent checkpoint ";
constexpr std::string_view magic = "supervent checkpoint 2";
constexpr int format_oldest = 1;
constexpr int format_current = 2;

std::uint64_t fnv1a64(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;
    }
    return hash;
}

std::string hex16(std::uint64_t value) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

std::string errno_text() { return std::strerror(errno); }

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// What a file that is not a regular one is, for the operator.
std::string kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

// Opens PATH.tmp for the checkpoint's text, as a regular file only: never
// through a link, never blocking on a FIFO someone put there.
int open_temporary(const std::string& temporary, int flags) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags, 0600);
    if (fd < 0) return fd;
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

// Up to bounds::checkpoint_bytes_max + 1 bytes of `fd`: one more than the
// bound tells a file beyond it without reading the rest.
std::string read_bounded(int fd, const std::string& path) {
    std::string text;
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("cannot read the checkpoint " + path + ": " + errno_text());
        if (n == 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > bounds::checkpoint_bytes_max) {
            throw std::runtime_error("the checkpoint " + path + " is larger than " +
                                     std::to_string(bounds::checkpoint_bytes_max / (1024 * 1024)) +
                                     " MiB: not one superventd wrote");
        }
    }
}

// One line's words, and the line number for messages.
struct Line {
    std::vector<std::string_view> words;
    std::size_t number = 0;
};

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

class Parser {
public:
    explicit Parser(std::string_view origin) : origin_(origin) {}

    [[noreturn]] void fail(const Line& line, const std::string& why) const {
        throw std::runtime_error(std::string(origin_) + ":" + std::to_string(line.number) + ": " + why);
    }
    std::uint64_t number(const Line& line, std::size_t word, std::uint64_t max = UINT64_MAX) const {
        std::uint64_t value = 0;
        const std::string_view text = line.words.at(word);
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc{} || end != text.data() + text.size() || value > max) {
            fail(line, "expected a number, got \"" + std::string(text) + "\"");
        }
        return value;
    }
    void expect_words(const Line& line, std::size_t count) const {
        if (line.words.size() != count) {
            fail(line, "\"" + std::string(line.words.front()) + "\" takes " + std::to_string(count - 1) + " values");
        }
    }
    ShardJournal& shard(Checkpoint& checkpoint, const Line& line) const {
        const std::uint64_t index = number(line, 1);
        if (index >= checkpoint.shards.size()) fail(line, "shard " + std::to_string(index) + " is past the workers line");
        return checkpoint.shards[index];
    }

private:
    std::string_view origin_;
};

// The format number on the first line: 1 or 2; a newer one is refused by name.
int parse_format(const Parser& parser, const Line& line, std::string_view raw) {
    if (raw.substr(0, magic_prefix.size()) != magic_prefix) {
        parser.fail(line, "not a supervent checkpoint (the first line is not \"" + std::string(magic) + "\")");
    }
    const std::string_view version = raw.substr(magic_prefix.size());
    int format = 0;
    const auto [end, error] = std::from_chars(version.data(), version.data() + version.size(), format);
    if (error != std::errc{} || end != version.data() + version.size()) {
        parser.fail(line, "not a supervent checkpoint (the first line is not \"" + std::string(magic) + "\")");
    }
    if (format < format_oldest || format > format_current) {
        parser.fail(line, "checkpoint format " + std::string(version) + ", which this superventd does not read (it reads " +
                              std::to_string(format_oldest) + " to " + std::to_string(format_current) +
                              "): resume with the superventd that wrote it, or remove the file to start afresh");
    }
    return format;
}

// A shard's failed ranges as checkpoint_text writes them: in order, apart,
// each of at least one batch of at least one event, below the watermark, and
// no more than the bound.
void check_failed_ranges(std::string_view origin, std::size_t shard, const ShardJournal& journal) {
    const auto refuse = [&](const std::string& why) {
        throw std::runtime_error(std::string(origin) + ": shard " + std::to_string(shard) + ": " + why);
    };
    if (journal.failed.size() > bounds::checkpoint_failed_ranges_max) {
        refuse(std::to_string(journal.failed.size()) + " failed ranges, more than the " +
               std::to_string(bounds::checkpoint_failed_ranges_max) + " a checkpoint holds");
    }
    std::uint64_t batch = 0, events = 0;
    for (const ShardJournal::FailedRange& range : journal.failed) {
        const std::string name = "the failed range from batch " + std::to_string(range.from);
        if (range.count == 0 || range.events < range.count) refuse(name + " is empty or has a batch without events");
        if (range.from < batch || range.events_before < events) refuse(name + " overlaps or comes before the one above it");
        if (range.from > journal.batches || range.count > journal.batches - range.from ||
            range.events_before > journal.events || range.events > journal.events - range.events_before) {
            refuse(name + " goes past the watermark (batch " + std::to_string(journal.batches) + ")");
        }
        batch = range.end() == UINT64_MAX ? UINT64_MAX : range.end() + 1;  // apart: touching ranges are written as one
        events = range.events_before + range.events;
    }
}

}  // namespace

void ShardJournal::trim_to_settled() {
    bound_failed();
    std::erase_if(sizes, [this](const SizeRun& run) { return run.from_batch >= batches; });
    std::erase_if(toggles, [this](const Toggle& toggle) { return toggle.at_batch >= batches; });
}

void ShardJournal::bound_failed() {
    std::erase_if(failed, [this](const FailedRange& range) { return range.from >= batches; });
    // A range the watermark cuts (the watermark held back inside it): its
    // events past the cut are not known apart, so all of it goes past.
    if (!failed.empty() && failed.back().end() > batches) {
        batches = failed.back().from;
        events = failed.back().events_before;
        failed.pop_back();
    }
    if (failed.size() > bounds::checkpoint_failed_ranges_max) {
        const FailedRange& first_beyond = failed[bounds::checkpoint_failed_ranges_max];
        batches = first_beyond.from;
        events = first_beyond.events_before;
        failed.resize(bounds::checkpoint_failed_ranges_max);
    }
}

std::uint64_t ShardJournal::failed_events() const {
    std::uint64_t total = 0;
    for (const FailedRange& range : failed) total += range.events;
    return total;
}

std::uint64_t ShardJournal::failed_batches() const {
    std::uint64_t total = 0;
    for (const FailedRange& range : failed) total += range.count;
    return total;
}

void add_failed_range(std::vector<ShardJournal::FailedRange>& ranges, const ShardJournal::FailedRange& range) {
    assert(range.count > 0);
    auto at = std::lower_bound(ranges.begin(), ranges.end(), range.from,
                               [](const ShardJournal::FailedRange& r, std::uint64_t from) { return r.from < from; });
    assert(at == ranges.end() || at->from >= range.end());  // a batch fails once: ranges never overlap
    at = ranges.insert(at, range);
    // Merge with the next ranges it reaches, then with the one before.
    while (std::next(at) != ranges.end() && std::next(at)->from <= at->end()) {
        const auto next = std::next(at);
        assert(next->from == at->end());  // a batch fails once: ranges touch, never overlap
        at->count += next->count;
        at->events += next->events;
        ranges.erase(next);
    }
    if (at != ranges.begin() && std::prev(at)->end() >= at->from) {
        const auto previous = std::prev(at);
        assert(previous->end() == at->from);
        previous->count += at->count;
        previous->events += at->events;
        ranges.erase(at);
    }
}

std::string run_fingerprint(const config::Settings& settings, const core::CompiledScenario& scenario,
                            std::uint32_t workers) {
    // The scenario as the TOML it would convert to, and only the settings
    // that change what the engine makes.
    config::Settings stream;
    stream.seed = settings.seed;
    stream.scenario = settings.scenario;
    stream.sources = settings.sources;
    stream.scenario_spec = settings.scenario_spec;
    stream.scale = settings.scale;
    stream.events = settings.events;
    stream.dataset = settings.dataset;
    std::ostringstream text;
    text << config::to_toml(stream) << "\nworkers " << workers << "\nbatch_events " << settings.batch_events
         << "\nbatch_bytes " << settings.batch_bytes_max << "\nformat " << static_cast<int>(settings.format)
         << "\nwindow " << scenario.window_start_ns << " " << scenario.window_end_ns << "\nroots "
         << scenario.roots_total << "\n";
    if (settings.shard_count > 1) text << "part " << settings.shard_index << " " << settings.shard_count << "\n";
    return hex16(fnv1a64(text.str()));
}

CheckpointStart open_checkpoint(const config::Settings& settings, const core::CompiledScenario& scenario,
                                std::uint32_t workers) {
    CheckpointStart start;
    start.path = settings.checkpoint_path;
    if (!scenario.backfill) {
        throw std::invalid_argument("--checkpoint " + start.path +
                                    ": only a backfill (a fixed time window) can resume; a live run has nothing to "
                                    "checkpoint");
    }
    check_checkpoint_path(start.path);
    start.fingerprint = run_fingerprint(settings, scenario, workers);
    start.found = load_checkpoint(start.path);
    start.part_index = settings.shard_index;
    start.part_count = settings.shard_count;
    if (start.found && (start.found->part_index != start.part_index || start.found->part_count != start.part_count)) {
        const auto part = [](std::uint32_t i, std::uint32_t n) { return std::to_string(i) + "/" + std::to_string(n); };
        throw std::invalid_argument("the checkpoint " + start.path + " records part " +
                                    part(start.found->part_index, start.found->part_count) +
                                    " of its run, but this process is part " + part(start.part_index, start.part_count) +
                                    " (--shard): give each part its own checkpoint file, or resume it with --shard " +
                                    part(start.found->part_index, start.found->part_count));
    }
    if (start.found && (start.found->fingerprint != start.fingerprint || start.found->shards.size() != workers)) {
        throw std::invalid_argument(
            "the checkpoint " + start.path + " was written by another run (its scenario, seed, window, workers, " +
            "batch size or format differ from this one's): run with the settings that wrote it to resume, or " +
            "remove it to start this backfill afresh");
    }
    return start;
}

std::string checkpoint_text(const Checkpoint& checkpoint) {
    std::ostringstream out;
    out << magic << "\n"
        << "fingerprint " << checkpoint.fingerprint << "\n"
        << "workers " << checkpoint.shards.size() << "\n";
    if (checkpoint.part_count > 1) out << "part " << checkpoint.part_index << " " << checkpoint.part_count << "\n";
    out
        << "complete " << (checkpoint.complete ? "yes" : "no") << "\n";
    for (std::size_t i = 0; i < checkpoint.shards.size(); ++i) {
        const ShardJournal& shard = checkpoint.shards[i];
        out << "shard " << i << " batches " << shard.batches << " events " << shard.events << "\n";
        for (const auto& run : shard.sizes) out << "size " << i << " " << run.from_batch << " " << run.max_events << "\n";
        for (const auto& toggle : shard.toggles) {
            out << "toggle " << i << " " << toggle.at_batch << " " << toggle.source << " "
                << (toggle.enabled ? "on" : "off") << "\n";
        }
        for (const auto& range : shard.failed) {
            out << "failed " << i << " " << range.from << " " << range.count << " " << range.events_before << " "
                << range.events << "\n";
        }
    }
    return out.str();
}

Checkpoint parse_checkpoint(std::string_view text, std::string_view origin) {
    const Parser parser(origin);
    Checkpoint checkpoint;
    int format = 0;
    bool saw_workers = false;
    bool saw_fingerprint = false;
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view raw = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        const Line line{split_words(raw), ++number};
        if (number == 1) {
            format = parse_format(parser, line, raw);
            continue;
        }
        if (line.words.empty()) continue;
        const std::string_view key = line.words.front();
        if (key == "fingerprint") {
            parser.expect_words(line, 2);
            checkpoint.fingerprint = std::string(line.words[1]);
            saw_fingerprint = true;
        } else if (key == "workers") {
            parser.expect_words(line, 2);
            checkpoint.shards.resize(parser.number(line, 1, 4096));
            saw_workers = true;
        } else if (key == "part") {
            parser.expect_words(line, 3);
            checkpoint.part_count = static_cast<std::uint32_t>(parser.number(line, 2, UINT32_MAX));
            checkpoint.part_index = static_cast<std::uint32_t>(parser.number(line, 1, UINT32_MAX));
            if (checkpoint.part_count == 0 || checkpoint.part_index >= checkpoint.part_count) {
                parser.fail(line, "part I N needs I < N");
            }
        } else if (key == "complete") {
            parser.expect_words(line, 2);
            if (line.words[1] != "yes" && line.words[1] != "no") parser.fail(line, "complete is yes or no");
            checkpoint.complete = line.words[1] == "yes";
        } else if (key == "shard") {
            parser.expect_words(line, 6);
            if (line.words[2] != "batches" || line.words[4] != "events") parser.fail(line, "expected shard N batches B events E");
            ShardJournal& shard = parser.shard(checkpoint, line);
            shard.batches = parser.number(line, 3);
            shard.events = parser.number(line, 5);
        } else if (key == "size") {
            parser.expect_words(line, 4);
            parser.shard(checkpoint, line).sizes.push_back(
                {parser.number(line, 2), static_cast<std::uint32_t>(parser.number(line, 3, UINT32_MAX))});
        } else if (key == "toggle") {
            parser.expect_words(line, 5);
            if (line.words[4] != "on" && line.words[4] != "off") parser.fail(line, "a toggle ends in on or off");
            parser.shard(checkpoint, line).toggles.push_back({parser.number(line, 2),
                                                              static_cast<std::uint16_t>(parser.number(line, 3, UINT16_MAX)),
                                                              line.words[4] == "on"});
        } else if (key == "failed") {
            if (format < 2) parser.fail(line, "a format 1 checkpoint has no failed records");
            parser.expect_words(line, 6);
            parser.shard(checkpoint, line).failed.push_back(
                {parser.number(line, 2), parser.number(line, 3), parser.number(line, 4), parser.number(line, 5)});
        } else {
            parser.fail(line, "unknown record \"" + std::string(key) + "\"");
        }
    }
    if (number == 0) throw std::runtime_error(std::string(origin) + ": empty file, not a supervent checkpoint");
    if (!saw_fingerprint || !saw_workers) {
        throw std::runtime_error(std::string(origin) + ": incomplete checkpoint (no fingerprint or workers line)");
    }
    for (std::size_t i = 0; i < checkpoint.shards.size(); ++i) check_failed_ranges(origin, i, checkpoint.shards[i]);
    return checkpoint;
}

void check_checkpoint_path(const std::string& path) {
    const auto refuse = [&](const std::string& why) { throw std::invalid_argument("--checkpoint " + path + ": " + why); };
    struct stat status {};
    if (::lstat(path.c_str(), &status) == 0) {
        if (S_ISLNK(status.st_mode)) {
            refuse("is a symbolic link; name the file itself (each write renames a new file over the path, which "
                   "would replace the link, not what it points to)");
        }
        if (!S_ISREG(status.st_mode)) refuse("is " + kind_of(status.st_mode) + ", not a regular file");
        if (static_cast<std::uint64_t>(status.st_size) > bounds::checkpoint_bytes_max) {
            refuse("is larger than " + std::to_string(bounds::checkpoint_bytes_max / (1024 * 1024)) +
                   " MiB: not a checkpoint superventd wrote");
        }
    } else if (errno != ENOENT) {
        refuse("cannot be looked at: " + errno_text());
    }
    const std::string directory = directory_of(path);
    if (::stat(directory.c_str(), &status) != 0) {
        refuse("its directory " + directory + (errno == ENOENT ? " does not exist" : ": " + errno_text()));
    }
    if (!S_ISDIR(status.st_mode)) refuse(directory + " is " + kind_of(status.st_mode) + ", not a directory");
    // Whether a file can be made there is only known by making one (root ignores
    // modes; a read-only mount refuses root too): the temporary the writes use.
    const std::string temporary = path + ".tmp";
    const bool existed = ::lstat(temporary.c_str(), &status) == 0;
    if (existed && !S_ISREG(status.st_mode)) {
        refuse(temporary + " is " + kind_of(status.st_mode) + " in the way of the checkpoint's writes; remove it");
    }
    const int fd = open_temporary(temporary, 0);
    if (fd < 0) refuse("cannot create files in " + directory + ": " + errno_text());
    ::close(fd);
    if (!existed) (void)::unlink(temporary.c_str());
}

std::string resumed_checkpoint_kept(const CheckpointStart& start, const Checkpoint& next) {
    if (!start.resuming()) return {};
    const std::vector<ShardJournal>& resumed = start.found->shards;
    assert(resumed.size() == next.shards.size());  // open_checkpoint refused another worker count
    for (std::size_t i = 0; i < resumed.size() && i < next.shards.size(); ++i) {
        if (next.shards[i].batches < resumed[i].batches) {
            return "left as it was: shard " + std::to_string(i) + " has settled " +
                   std::to_string(next.shards[i].batches) + " of the " + std::to_string(resumed[i].batches) +
                   " batches it records (it stopped before it had made them all again and sent the failed ones, "
                   "or it did not resume from it)";
        }
    }
    return {};
}

ShardJournal resumed_journal(const ShardJournal& resumed, ShardJournal current) {
    if (current.batches >= resumed.batches) return current;
    // Below current.batches this run settled every batch again (each acknowledged
    // or in current.failed); from there to the watermark the resumed file still holds.
    for (const ShardJournal::FailedRange& range : resumed.failed) {
        if (range.end() <= current.batches) continue;
        ShardJournal::FailedRange rest = range;
        if (rest.from < current.batches) {
            assert(current.events > rest.events_before && current.events < rest.events_before + rest.events);
            rest = {current.batches, range.end() - current.batches, current.events,
                    range.events_before + range.events - current.events};
        }
        add_failed_range(current.failed, rest);
    }
    current.batches = resumed.batches;
    current.events = resumed.events;
    // Below the watermark this run journals nothing of its own (sizes and
    // toggles are the replayed ones), and a shard that never started has
    // nothing at all: the resumed file's are the ones.
    current.sizes = resumed.sizes;
    current.toggles = resumed.toggles;
    current.bound_failed();
    return current;
}

std::optional<Checkpoint> load_checkpoint(const std::string& path) {
    const FdCloser file{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
    if (file.fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw std::runtime_error("cannot read the checkpoint " + path + ": " + errno_text());
    }
    struct stat status {};
    if (::fstat(file.fd, &status) != 0) throw std::runtime_error("cannot read the checkpoint " + path + ": " + errno_text());
    if (!S_ISREG(status.st_mode)) {
        throw std::runtime_error("the checkpoint " + path + " is " + kind_of(status.st_mode) + ", not a regular file");
    }
    return parse_checkpoint(read_bounded(file.fd, path), path);
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
    const std::string text = checkpoint_text(checkpoint);
    const std::string temporary = path + ".tmp";
    const int fd = open_temporary(temporary, O_TRUNC);
    if (fd < 0) throw std::runtime_error("cannot write the checkpoint " + temporary + ": " + errno_text());
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = errno_text();
            ::close(fd);
            throw std::runtime_error("cannot write the checkpoint " + temporary + ": " + why);
        }
        written += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const std::string why = synced ? std::string() : errno_text();
    ::close(fd);
    if (!synced) throw std::runtime_error("cannot sync the checkpoint " + temporary + ": " + why);
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot rename " + temporary + " to " + path + ": " + errno_text());
    }
    // The rename itself must survive a crash of the machine, not only of the process.
    if (const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
}

// ---- ShardCheckpointShare (daemon/checkpoint_share.hpp): why it is safe is written there.

void ShardCheckpointShare::seed(std::vector<ShardJournal::SizeRun> sizes, std::vector<ShardJournal::Toggle> toggles) {
    assert(!seeded_.load() && head_.load() == 0 && backlog_count_ == 0 && published_.batches == 0);
    seed_sizes_ = std::move(sizes);
    seed_toggles_ = std::move(toggles);
    // Before any change or prefix: a snapshot that sees either sees the seed.
    seeded_.store(true);
}

void ShardCheckpointShare::journal(const Change& change) {
    assert(change.kind != Change::Kind::failed);  // those go through fail()
    // Nothing from the first dropped change on can ever be replayed.
    if (lost_) return;
    assert(backlog_count_ == 0 || backlog_[(backlog_first_ + backlog_count_ - 1) % backlog_entries].batch <= change.batch);
    if (flush_backlog()) {
        const std::uint64_t head = head_.load();
        if (head - tail_.load() < ring_entries) {
            ring_[head & (ring_entries - 1)] = change;
            head_.store(head + 1);  // after the entry: the control thread reads it only below head
            return;
        }
    }
    if (backlog_count_ < backlog_entries) {
        backlog_[(backlog_first_ + backlog_count_) % backlog_entries] = change;
        ++backlog_count_;
        return;
    }
    lose({change.batch, change.events_before});
}

// The prefix stays below `at` for the rest of the run.
void ShardCheckpointShare::lose(Prefix at) {
    if (!lost_ || at.batches < lost_at_.batches) lost_at_ = at;
    lost_ = true;
}

void ShardCheckpointShare::fail(Prefix at, std::uint32_t events) {
    assert(events > 0);
    if (open_.count > 0 && at.batches == open_.end()) {
        ++open_.count;
        open_.events += events;
        open_stored_ = false;
        return;
    }
    if (open_.count > 0) {
        // The open range goes into the ring, never into the backlog: the
        // control thread may have seen it open, below a prefix already published.
        const std::uint64_t head = head_.load();
        if (head - tail_.load() == ring_entries) {
            lose(at);  // the failure cannot be recorded: hold the prefix below it
            return;
        }
        Change closed;
        closed.kind = Change::Kind::failed;
        closed.batch = open_.from;
        closed.events_before = open_.events_before;
        closed.count = open_.count;
        closed.events = open_.events;
        ring_[head & (ring_entries - 1)] = closed;
        head_.store(head + 1);  // before the new open range is stored
    }
    open_ = {at.batches, 1, at.events, events};
    open_stored_ = false;
}

// Moves waiting changes into the ring, oldest first, while it has room; true
// when none waits.
bool ShardCheckpointShare::flush_backlog() {
    if (backlog_count_ == 0) return true;
    std::uint64_t head = head_.load();
    const std::uint64_t tail = tail_.load();  // the entries below it are read: free to overwrite
    if (head - tail == ring_entries) return false;
    for (; backlog_count_ > 0 && head - tail < ring_entries; ++head, --backlog_count_) {
        ring_[head & (ring_entries - 1)] = backlog_[backlog_first_];
        backlog_first_ = (backlog_first_ + 1) % backlog_entries;
    }
    head_.store(head);
    return backlog_count_ == 0;
}

void ShardCheckpointShare::publish(Prefix settled) {
    flush_backlog();
    Prefix prefix = settled;
    if (backlog_count_ > 0 && backlog_[backlog_first_].batch < prefix.batches) {
        prefix = {backlog_[backlog_first_].batch, backlog_[backlog_first_].events_before};
    }
    if (lost_ && lost_at_.batches < prefix.batches) prefix = lost_at_;
    // Changes are made at the next batch, a failure is of a batch the prefix
    // has not passed (it was held): the prefix only grows.
    if (prefix.batches < published_.batches) prefix = published_;
    if (prefix.batches == published_.batches && open_stored_) return;
    assert(prefix.events >= published_.events);
    published_ = prefix;
    store_state(prefix);
}

void ShardCheckpointShare::store_state(Prefix prefix) {
    const std::uint64_t s = sequence_.load();
    sequence_.store(s + 1);  // odd: being written
    batches_.store(prefix.batches);
    events_.store(prefix.events);
    open_from_.store(open_.from);
    open_count_.store(open_.count);
    open_events_before_.store(open_.events_before);
    open_events_.store(open_.events);
    sequence_.store(s + 2);
    open_stored_ = true;
}

ShardJournal ShardCheckpointShare::snapshot() {
    // The prefix first: the shard put every change it needs into the ring
    // (or the seed) before it published it, and the failures below it into
    // the ring or the open range stored with it.
    const State state = read_state();
    const Prefix prefix = state.prefix;
    const std::uint64_t head = head_.load();
    if (!seed_taken_ && seeded_.load()) {
        assert(sizes_.empty() && toggles_.empty());  // the shard seeds before it journals anything
        sizes_ = std::move(seed_sizes_);
        toggles_ = std::move(seed_toggles_);
        seed_taken_ = true;
    }
    for (std::uint64_t i = tail_.load(); i < head; ++i) {
        const Change& change = ring_[i & (ring_entries - 1)];
        switch (change.kind) {
            case Change::Kind::toggle: toggles_.push_back({change.batch, change.source, change.enabled}); break;
            case Change::Kind::size: sizes_.push_back({change.batch, change.max_events}); break;
            case Change::Kind::failed:
                add_failed_range(failed_, {change.batch, change.count, change.events_before, change.events});
                break;
        }
    }
    tail_.store(head);  // after reading the entries: the shard may overwrite them now
    // Past the bound the watermark stays at the first range beyond it for
    // good (ranges are only added): what follows it need not be kept.
    if (failed_.size() > bounds::checkpoint_failed_ranges_max + 1) failed_.resize(bounds::checkpoint_failed_ranges_max + 1);
    ShardJournal journal;
    journal.sizes = sizes_;
    journal.toggles = toggles_;
    journal.failed = failed_;
    // The open range is not kept: the shard puts it into the ring before it
    // stores another, and a snapshot that sees the other sees the ring. Read
    // while the shard closes it, it is both open here and (whole, as closed)
    // in the ring: then the ring's has it all.
    const auto covering = std::find_if(journal.failed.begin(), journal.failed.end(), [&](const auto& range) {
        return range.from <= state.open.from && state.open.from < range.end();
    });
    if (state.open.count > 0 && covering == journal.failed.end()) add_failed_range(journal.failed, state.open);
    journal.batches = prefix.batches;
    journal.events = prefix.events;
    journal.bound_failed();
    return journal;
}

}  // namespace supervent::daemon
