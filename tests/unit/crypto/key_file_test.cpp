// Goal: key files round-trip, are saved atomically with mode 0600, are refused when group or
// others can access them (with a message naming the file), and the parser accepts exactly the
// documented four-line format and nothing else.
#include <ainet/crypto/ed25519.hpp>

#include <ainet/core/encoding.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ainet;
using namespace ainet::crypto;
namespace fs = std::filesystem;

namespace {

// A fresh, uniquely named directory under the system temp dir, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        // Unique across concurrent runs and within one: the name is not test input, so it may
        // use real entropy without breaking seeded replay.
        static unsigned counter = 0;
        std::random_device entropy;
        const std::string name = "ainet-crypto-test-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(entropy()) + "-" + std::to_string(++counter);
        m_path = fs::temp_directory_path() / name;
        REQUIRE(fs::create_directory(m_path));
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    [[nodiscard]] const fs::path& path() const { return m_path; }
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(m_path))
            names.push_back(entry.path().filename().string());
        return names;
    }

private:
    fs::path m_path;
};

key_pair test_keys(uint8_t first = 0) {
    seed s{};
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<uint8_t>(first + i);
    return key_pair::from_seed(s);
}

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

void write_text(const fs::path& path, std::string_view text, fs::perms perms) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        REQUIRE(out.good());
    }
    fs::permissions(path, perms, fs::perm_options::replace);
}

// The documented file of the seed 00 01 .. 1f (docs/protocol/signing.md).
constexpr std::string_view documented_file =
    "# ainet Ed25519 key file v1: keep this file secret (mode 0600)\n"
    "ainet-key-v1\n"
    "seed 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "public 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8\n";

std::string replaced(std::string text, std::string_view from, std::string_view to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    return text;
}

} // namespace

TEST_CASE("format_key_file writes the documented format", "[crypto][keyfile]") {
    CHECK(format_key_file(test_keys()) == documented_file);
    const auto parsed = parse_key_file(documented_file);
    REQUIRE(parsed.has_value());
    CHECK(parsed->secret_seed() == test_keys().secret_seed());
    CHECK(parsed->public_key_bytes() == test_keys().public_key_bytes());
}

TEST_CASE("key files round-trip through disk with mode 0600", "[crypto][keyfile]") {
    temp_dir dir;
    const fs::path file = dir.path() / "node.key";
    REQUIRE(init().has_value());
    const auto keys = key_pair::generate();
    REQUIRE(save_key_file(file, keys).has_value());
    CHECK(mode_of(file) == 0600);
    const auto loaded = load_key_file(file);
    REQUIRE(loaded.has_value());
    CHECK(loaded->secret_seed() == keys.secret_seed());
    CHECK(loaded->public_key_bytes() == keys.public_key_bytes());
    // Atomic save leaves nothing but the key file behind.
    CHECK(dir.entries() == std::vector<std::string>{"node.key"});
}

TEST_CASE("saving over an existing key file replaces it atomically", "[crypto][keyfile]") {
    temp_dir dir;
    const fs::path file = dir.path() / "node.key";
    REQUIRE(save_key_file(file, test_keys(1)).has_value());
    REQUIRE(save_key_file(file, test_keys(2)).has_value());
    const auto loaded = load_key_file(file);
    REQUIRE(loaded.has_value());
    CHECK(loaded->public_key_bytes() == test_keys(2).public_key_bytes());
    CHECK(mode_of(file) == 0600);
    CHECK(dir.entries() == std::vector<std::string>{"node.key"});

    // Overwriting a file that had loose permissions also leaves a 0600 file.
    fs::permissions(file, fs::perms(0644), fs::perm_options::replace);
    REQUIRE(save_key_file(file, test_keys(3)).has_value());
    CHECK(mode_of(file) == 0600);
    CHECK(load_key_file(file)->public_key_bytes() == test_keys(3).public_key_bytes());
}

TEST_CASE("a key file readable or writable by group or others is refused", "[crypto][keyfile]") {
    temp_dir dir;
    const fs::path file = dir.path() / "loose.key";
    for (unsigned mode : {0644u, 0640u, 0604u, 0620u, 0602u, 0660u, 0666u}) {
        INFO("mode " << std::oct << mode);
        write_text(file, documented_file, fs::perms(mode));
        const auto loaded = load_key_file(file);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error() == crypto::errc::key_file_permissions);
    }
    const std::string message = describe_key_file_error(file, crypto::errc::key_file_permissions);
    CHECK(message.find(file.string()) != std::string::npos);
    CHECK(message.find("chmod 600 " + file.string()) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);

    // Owner-only modes stricter than 0600 are fine.
    write_text(file, documented_file, fs::perms(0400));
    CHECK(load_key_file(file).has_value());
}

TEST_CASE("key file io errors are reported, naming the file", "[crypto][keyfile]") {
    temp_dir dir;
    const fs::path missing = dir.path() / "missing.key";
    CHECK(load_key_file(missing).error() == crypto::errc::key_file_io);
    CHECK(save_key_file(dir.path() / "no-such-dir" / "x.key", test_keys()).error() ==
          crypto::errc::key_file_io);
    CHECK(load_key_file(dir.path()).error() == crypto::errc::key_file_io); // a directory
    CHECK(dir.entries().empty());
    for (auto e : {crypto::errc::key_file_io, crypto::errc::key_file_malformed,
                   crypto::errc::key_file_key_mismatch}) {
        const std::string message = describe_key_file_error(missing, e);
        CHECK(message.rfind("key file " + missing.string() + ": ", 0) == 0);
        CHECK(message.find('\n') == std::string::npos);
    }
}

TEST_CASE("a malformed key file on disk is refused", "[crypto][keyfile]") {
    temp_dir dir;
    const fs::path file = dir.path() / "bad.key";
    write_text(file, replaced(std::string(documented_file), "ainet-key-v1", "ainet-key-v2"),
               fs::perms(0600));
    CHECK(load_key_file(file).error() == crypto::errc::key_file_malformed);
    // Longer than any valid file: refused without reading it all.
    write_text(file, std::string(documented_file) + std::string(10000, 'x'), fs::perms(0600));
    CHECK(load_key_file(file).error() == crypto::errc::key_file_malformed);
}

TEST_CASE("the key file parser accepts exactly the documented format", "[crypto][keyfile]") {
    const std::string good(documented_file);
    REQUIRE(parse_key_file(good).has_value());

    const std::vector<std::pair<const char*, std::string>> malformed = {
        {"empty", ""},
        {"wrong magic", replaced(good, "ainet-key-v1", "ainet-key-v2")},
        {"missing comment", good.substr(good.find('\n') + 1)},
        {"edited comment", replaced(good, "keep this", "keep that")},
        {"uppercase hex", replaced(good, "0a0b0c0d0e0f", "0A0B0C0D0E0F")},
        {"non-hex digit", replaced(good, "seed 00", "seed 0g")},
        {"short seed", replaced(good, "seed 0001", "seed 01")},
        {"long seed", replaced(good, "seed 00", "seed 0000")},
        {"no final newline", good.substr(0, good.size() - 1)},
        {"truncated", good.substr(0, good.size() / 2)},
        {"extra newline", good + "\n"},
        {"extra field", good + "comment hello\n"},
        {"CRLF", replaced(replaced(good, "v1\n", "v1\r\n"), "1f\n", "1f\r\n")},
        {"tab separator", replaced(good, "seed ", "seed\t")},
        {"two spaces", replaced(good, "seed 00", "seed  0")},
        {"fields swapped", std::string(documented_file.substr(0, 76)) +
                               "public 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc86641255"
                               "31b8\n"
                               "seed 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e"
                               "1f\n"},
        {"leading space", " " + good.substr(0, good.size() - 1)},
        {"NUL byte", replaced(good, "seed", std::string("se\0d", 4))},
    };
    for (const auto& [what, text] : malformed) {
        INFO(what);
        const auto parsed = parse_key_file(text);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error() == crypto::errc::key_file_malformed);
    }

    // Well formed, but the public key belongs to another seed.
    const std::string mismatched = replaced(good, "public 03", "public 04");
    CHECK(parse_key_file(mismatched).error() == crypto::errc::key_file_key_mismatch);
    const std::string other_key = replaced(good, to_hex(test_keys().public_key_bytes()),
                                           to_hex(test_keys(9).public_key_bytes()));
    CHECK(parse_key_file(other_key).error() == crypto::errc::key_file_key_mismatch);
}

TEST_CASE("format and parse are inverse for random keys", "[crypto][keyfile]") {
    auto rng = test::seeded_rng(4);
    for (int i = 0; i < 50; ++i) {
        seed s{};
        for (auto& b : s)
            b = static_cast<uint8_t>(rng());
        const auto keys = key_pair::from_seed(s);
        const std::string text = format_key_file(keys);
        const auto parsed = parse_key_file(text);
        REQUIRE(parsed.has_value());
        CHECK(parsed->secret_seed() == s);
        CHECK(format_key_file(*parsed) == text);
    }
}
