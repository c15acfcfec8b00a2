// Goal: config::write_file_atomic replaces a file's contents whole, with the requested mode,
// leaves no temporary file behind, and fails cleanly (the old contents kept) when it cannot.
#include <ainet/config/file.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

using namespace ainet;
namespace fs = std::filesystem;

TEST_CASE("write_file_atomic writes, replaces, sets the mode and cleans up") {
    std::string pattern = (fs::temp_directory_path() / "ainet-atomic.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const fs::path dir = pattern;
    const fs::path file = dir / "state";

    auto first = config::write_file_atomic(file, "first");
    REQUIRE(first);
    CHECK(*first == 5);
    CHECK(config::read_config_file(file).value() == "first");
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);

    REQUIRE(config::write_file_atomic(file, std::string(10000, 'x'), 0640));
    CHECK(config::read_config_file(file).value() == std::string(10000, 'x'));
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0640);
    size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
        ++entries;
    CHECK(entries == 1); // no temporary left

    // A directory where the file should be: the rename fails, nothing is left behind.
    fs::create_directory(dir / "occupied");
    fs::create_directory(dir / "occupied" / "inner");
    auto refused = config::write_file_atomic(dir / "occupied", "data");
    CHECK_FALSE(refused);
    CHECK_FALSE(config::write_file_atomic(dir / "missing" / "state", "data"));
    entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
        ++entries;
    CHECK(entries == 2);
    fs::remove_all(dir);
}
