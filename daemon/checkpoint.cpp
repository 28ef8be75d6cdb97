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
#include <sstream>
#include <stdexcept>
#include <utility>

#include "config/toml_write.hpp"
#include "core/bounds.hpp"
#include "core/scenario_engine.hpp"
#include "daemon/checkpoint_share.hpp"

namespace supervent::daemon {
namespace {

constexpr std::string_view magic = "supervent checkpoint 1";

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

}  // namespace

void ShardJournal::trim_to_settled() {
    std::erase_if(sizes, [this](const SizeRun& run) { return run.from_batch >= batches; });
    std::erase_if(toggles, [this](const Toggle& toggle) { return toggle.at_batch >= batches; });
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
    }
    return out.str();
}

Checkpoint parse_checkpoint(std::string_view text, std::string_view origin) {
    const Parser parser(origin);
    Checkpoint checkpoint;
    bool saw_workers = false;
    bool saw_fingerprint = false;
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view raw = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        const Line line{split_words(raw), ++number};
        if (number == 1) {
            if (raw != magic) parser.fail(line, "not a supervent checkpoint (the first line is not \"" + std::string(magic) + "\")");
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
        } else {
            parser.fail(line, "unknown record \"" + std::string(key) + "\"");
        }
    }
    if (number == 0) throw std::runtime_error(std::string(origin) + ": empty file, not a supervent checkpoint");
    if (!saw_fingerprint || !saw_workers) {
        throw std::runtime_error(std::string(origin) + ": incomplete checkpoint (no fingerprint or workers line)");
    }
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
                   " batches it records (it did not resume from it)";
        }
    }
    return {};
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
    lost_ = true;
    lost_at_ = {change.batch, change.events_before};
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
    if (prefix.batches == published_.batches) return;
    // Changes are made at the next batch, never below a settled one: the prefix only grows.
    assert(prefix.batches > published_.batches && prefix.events >= published_.events);
    published_ = prefix;
    store_prefix(prefix);
}

void ShardCheckpointShare::store_prefix(Prefix prefix) {
    const std::uint64_t s = sequence_.load();
    sequence_.store(s + 1);  // odd: being written
    batches_.store(prefix.batches);
    events_.store(prefix.events);
    sequence_.store(s + 2);
}

ShardJournal ShardCheckpointShare::snapshot() {
    // The prefix first: the shard put every change it needs into the ring
    // (or the seed) before it published it.
    const Prefix prefix = read();
    const std::uint64_t head = head_.load();
    if (!seed_taken_ && seeded_.load()) {
        assert(sizes_.empty() && toggles_.empty());  // the shard seeds before it journals anything
        sizes_ = std::move(seed_sizes_);
        toggles_ = std::move(seed_toggles_);
        seed_taken_ = true;
    }
    for (std::uint64_t i = tail_.load(); i < head; ++i) {
        const Change& change = ring_[i & (ring_entries - 1)];
        if (change.toggle) {
            toggles_.push_back({change.batch, change.source, change.enabled});
        } else {
            sizes_.push_back({change.batch, change.max_events});
        }
    }
    tail_.store(head);  // after reading the entries: the shard may overwrite them now
    ShardJournal journal;
    journal.sizes = sizes_;
    journal.toggles = toggles_;
    journal.batches = prefix.batches;
    journal.events = prefix.events;
    return journal;
}

}  // namespace supervent::daemon
