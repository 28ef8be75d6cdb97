// The Axiom token: a secret. It comes from the environment, a file or a
// systemd credential, never from the command line (visible in ps) or the
// config file (copied and committed). No message here ever contains it.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.hpp"
#include "config/values.hpp"

namespace supervent::config {

namespace {

using detail::concat;

// A token file larger than this is the wrong file; do not slurp it.
constexpr std::size_t token_file_bytes_max = 4000;

// Where a token file is read: one page of its own, kept out of core dumps
// (MADV_DONTDUMP) and out of swap (mlock, when the memlock limit allows), and
// wiped after each use, so the raw file contents never sit in freed heap
// memory. (The checked token itself is a std::string in Settings; superventd
// makes itself non-dumpable while it holds one: see daemon.cpp.)
class ScratchPage {
public:
    ScratchPage() {
        void* page = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) throw ConfigError(concat("cannot map a page for the token: ", std::strerror(errno)));
        data_ = static_cast<char*>(page);
        (void)madvise(data_, bytes_, MADV_DONTDUMP);
        (void)mlock(data_, bytes_);  // best effort: without it the page may be swapped, not dumped
    }
    ~ScratchPage() {
        explicit_bzero(data_, bytes_);
        munmap(data_, bytes_);
    }
    ScratchPage(const ScratchPage&) = delete;
    ScratchPage& operator=(const ScratchPage&) = delete;
    [[nodiscard]] char* data() const { return data_; }
    static constexpr std::size_t bytes_ = 4096;

private:
    char* data_ = nullptr;
};
static_assert(token_file_bytes_max < ScratchPage::bytes_);
constexpr const char* credential_name = "axiom-token";

// Printable ASCII without the space: what an HTTP header value can carry
// without quoting, and what Axiom tokens are made of.
bool is_token_char(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f;
}

// Drops the newline that `echo` and editors leave at the end.
std::string_view trim_line_end(std::string_view token) {
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
        token.remove_suffix(1);
    }
    return token;
}

std::string checked_token(std::string_view raw, std::string_view source) {
    const auto token = trim_line_end(raw);
    if (token.empty()) {
        throw ConfigError(concat("token from ", source, " is empty"));
    }
    if (token.size() > bounds::token_bytes_max) {
        throw ConfigError(concat("token from ", source, " is ", token.size(), " bytes; at most ",
                                 bounds::token_bytes_max, " are allowed"));
    }
    for (std::size_t index = 0; index < token.size(); ++index) {
        if (!is_token_char(token[index])) {
            throw ConfigError(concat("token from ", source, " has a space, control character or non-ASCII byte at ",
                                     "position ", index + 1, "; a token is printable ASCII without spaces"));
        }
    }
    return std::string(token);
}

// Reads the file into `page`; returns its contents (a view into the page),
// or nullopt when it does not exist and that is allowed. A file that other
// users can read gets a warning in `warnings`: whoever can read it has the token.
std::optional<std::string_view> read_small_file(const std::string& path, std::string_view source, bool missing_ok,
                                                const ScratchPage& page, std::vector<std::string>& warnings) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!file) {
        if (missing_ok && errno == ENOENT) {
            return std::nullopt;
        }
        throw ConfigError(concat(source, ": cannot open: ", std::strerror(errno)));
    }
    struct stat info {};
    if (fstat(fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & S_IROTH) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
        warnings.push_back(concat(source, " is readable by every user (mode ", mode,
                                  "): anyone on this machine can read the token; chmod 600 it (or o-r)"));
    }
    std::setvbuf(file.get(), nullptr, _IONBF, 0);  // no stdio buffer: the bytes go straight into the page
    const auto bytes = std::fread(page.data(), 1, token_file_bytes_max + 1, file.get());
    if (std::ferror(file.get()) != 0) {
        throw ConfigError(concat(source, ": cannot read: ", std::strerror(errno)));
    }
    if (bytes > token_file_bytes_max) {
        throw ConfigError(concat(source, ": larger than ", token_file_bytes_max, " bytes; is it the right file?"));
    }
    return std::string_view(page.data(), bytes);
}

bool is_set(const char* value) { return value != nullptr && value[0] != '\0'; }

}  // namespace

const char* process_env(const char* name) { return std::getenv(name); }

void resolve_token(Settings& settings, const GetEnv& get_env) {
    settings.token.clear();
    settings.token_source.clear();
    // An empty AXIOM_TOKEN counts as unset, so `AXIOM_TOKEN= superventd` falls through to the files.
    if (const char* env = get_env("AXIOM_TOKEN"); is_set(env)) {
        settings.token = checked_token(env, "AXIOM_TOKEN");
        settings.token_source = "AXIOM_TOKEN";
        return;
    }
    const ScratchPage page;
    if (!settings.token_file.empty()) {
        const auto source = concat("token file ", detail::quoted(settings.token_file));
        settings.token = checked_token(*read_small_file(settings.token_file, source, false, page, settings.warnings),
                                       source);
        settings.token_source = source;
        return;
    }
    const char* credentials = get_env("CREDENTIALS_DIRECTORY");
    if (!is_set(credentials)) {
        return;
    }
    const auto path = concat(credentials, '/', credential_name);
    const auto source = concat("systemd credential ", detail::quoted(path));
    // The unit may simply not pass this credential: then there is no token.
    if (const auto text = read_small_file(path, source, true, page, settings.warnings)) {
        settings.token = checked_token(*text, source);
        settings.token_source = source;
    }
}

}  // namespace supervent::config
