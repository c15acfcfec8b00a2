// Key files: a strict four-line text format (docs/protocol/signing.md, "Key files"), written
// atomically with mode 0600 and refused when group or others can access it.
#include <ainet/crypto/ed25519.hpp>

#include <ainet/core/encoding.hpp>
#include <ainet/core/file_io.hpp>

#include <sodium.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ainet::crypto {

namespace {

// The file is exactly these four lines, each ending in one '\n', hex in lowercase: one text per
// key, so format_key_file(parse_key_file(t)) == t for every accepted t.
constexpr std::string_view comment_line =
    "# ainet Ed25519 key file v1: keep this file secret (mode 0600)\n";
constexpr std::string_view magic_line = "ainet-key-v1\n";
constexpr std::string_view seed_label = "seed ";
constexpr std::string_view public_label = "public ";
constexpr size_t seed_hex_size = seed_size * 2;
constexpr size_t public_hex_size = public_key_size * 2;

// The exact size of every valid key file; load_key_file reads at most one byte more.
constexpr size_t key_file_size = comment_line.size() + magic_line.size() + seed_label.size() +
                                 seed_hex_size + 1 + public_label.size() + public_hex_size + 1;
static_assert(key_file_size < 256);

// Takes expected off the front of text, or returns false.
bool consume(std::string_view& text, std::string_view expected) noexcept {
    if (!text.starts_with(expected))
        return false;
    text.remove_prefix(expected.size());
    return true;
}

// Takes size lowercase hex digits off the front of text and decodes them into out.
bool consume_hex(std::string_view& text, size_t size, mutable_bytes out) noexcept {
    if (text.size() < size)
        return false;
    const std::string_view digits = text.substr(0, size);
    for (char c : digits)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    if (!from_hex_into(digits, out))
        return false;
    text.remove_prefix(size);
    return true;
}

// Owns one file descriptor.
class unique_fd {
public:
    explicit unique_fd(int fd) noexcept : m_fd(fd) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }

private:
    int m_fd;
};

// Zeroes a string that held secret material before it is freed.
void wipe(std::string& text) noexcept {
    if (!text.empty())
        sodium_memzero(text.data(), text.size());
}

} // namespace

std::string format_key_file(const key_pair& keys) {
    std::string text;
    text.reserve(key_file_size);
    text += comment_line;
    text += magic_line;
    text += seed_label;
    std::string seed_hex = to_hex(keys.secret_seed());
    text += seed_hex;
    wipe(seed_hex);
    text += '\n';
    text += public_label;
    text += to_hex(keys.public_key_bytes());
    text += '\n';
    AINET_ASSERT(text.size() == key_file_size);
    return text;
}

result<key_pair> parse_key_file(std::string_view text) {
    if (text.size() != key_file_size)
        return fail(errc::key_file_malformed);
    seed secret_seed{};
    public_key stored_public{};
    const bool well_formed =
        consume(text, comment_line) && consume(text, magic_line) && consume(text, seed_label) &&
        consume_hex(text, seed_hex_size, secret_seed) && consume(text, "\n") &&
        consume(text, public_label) && consume_hex(text, public_hex_size, stored_public) &&
        consume(text, "\n") && text.empty();
    if (!well_formed) {
        sodium_memzero(secret_seed.data(), secret_seed.size());
        return fail(errc::key_file_malformed);
    }
    key_pair keys = key_pair::from_seed(secret_seed);
    sodium_memzero(secret_seed.data(), secret_seed.size());
    if (keys.public_key_bytes() != stored_public)
        return fail(errc::key_file_key_mismatch);
    return keys;
}

result<void> save_key_file(const std::filesystem::path& path, const key_pair& keys) {
    if (!init())
        return fail(errc::init_failed);
    std::string text = format_key_file(keys);
    const bool saved = write_file_durably(path, text, 0600).ok();
    wipe(text);
    if (!saved)
        return fail(errc::key_file_io);
    return {};
}

result<key_pair> load_key_file(const std::filesystem::path& path) {
    unique_fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!file.valid())
        return fail(errc::key_file_io);
    // fstat on the open descriptor checks the very file that is read (no stat/open race).
    struct stat info {};
    if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode))
        return fail(errc::key_file_io);
    if ((info.st_mode & 077) != 0)
        return fail(errc::key_file_permissions);

    // Read at most one byte more than a valid file holds: enough to tell "too long".
    std::array<char, key_file_size + 1> buffer{};
    size_t size = 0;
    while (size < buffer.size()) {
        const ssize_t got = ::read(file.get(), buffer.data() + size, buffer.size() - size);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            sodium_memzero(buffer.data(), buffer.size());
            return fail(errc::key_file_io);
        }
        if (got == 0)
            break;
        size += static_cast<size_t>(got);
    }
    auto keys = parse_key_file(std::string_view(buffer.data(), size));
    sodium_memzero(buffer.data(), buffer.size());
    return keys;
}

std::string describe_key_file_error(const std::filesystem::path& path, errc e) {
    const std::string name = path.string();
    std::string out = "key file " + name + ": ";
    switch (e) {
    case errc::key_file_io:
        out += "cannot be read or written (check that it exists, is a regular file, and that its "
               "directory is writable for saving)";
        break;
    case errc::key_file_permissions:
        out +=
            "the key file is readable or writable by group or others (run chmod 600 " + name + ")";
        break;
    case errc::key_file_malformed:
        out += "not an ainet-key-v1 file (expected the exact four-line format of "
               "docs/protocol/signing.md; restore it from a backup or generate a new key)";
        break;
    case errc::key_file_key_mismatch:
        out += "the public key does not belong to the seed (the file was edited or damaged; "
               "restore it from a backup or generate a new key)";
        break;
    default:
        out += std::string(to_string(e));
        break;
    }
    return out;
}

} // namespace ainet::crypto
