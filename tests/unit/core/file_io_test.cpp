// Goal: write_file_durably names the step that failed, so callers can say why a state or key
// file was not saved (the success path is covered through config::write_file_atomic).
#include <ainet/core/file_io.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

using namespace ainet;
namespace fs = std::filesystem;

TEST_CASE("write_file_durably reports the failing step and its errno") {
    std::string pattern = (fs::temp_directory_path() / "ainet-durable.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const fs::path dir = pattern;

    CHECK(write_file_durably(dir / "ok", "x", 0600).ok());

    const auto missing_dir = write_file_durably(dir / "missing" / "state", "x", 0600);
    CHECK(missing_dir.failed_at == durable_write_stage::create_temp);
    CHECK(missing_dir.errno_value == ENOENT);

    fs::create_directories(dir / "occupied" / "inner");
    const auto over_directory = write_file_durably(dir / "occupied", "x", 0600);
    CHECK(over_directory.failed_at == durable_write_stage::rename);
    CHECK(over_directory.errno_value != 0);

    CHECK(write_file_durably(dir / "", "x", 0600).failed_at == durable_write_stage::no_filename);
    fs::remove_all(dir);
}
