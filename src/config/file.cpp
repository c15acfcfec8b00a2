#include <ainet/config/file.hpp>

#include <ainet/core/file_io.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <atomic>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ainet::config {

result<std::string> read_config_file(const std::filesystem::path& path, size_t size_max) {
    const std::string name = path.string();
    auto io_error = [&](std::string reason) {
        return error_info{errc::file_io, name, "", std::move(reason)};
    };
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec)
        return io_error("cannot open: " + ec.message());
    if (!std::filesystem::is_regular_file(status))
        return io_error("not a regular file");

    // Read at most size_max + 1 bytes whatever the file claims its size is (it may grow, or be
    // a special file), so the cap holds.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file)
        return io_error(std::string("cannot open: ") + std::strerror(errno));
    std::string text;
    char buffer[16384];
    while (text.size() <= size_max) {
        const size_t got = std::fread(buffer, 1, sizeof(buffer), file.get());
        text.append(buffer, got);
        if (got < sizeof(buffer)) {
            if (std::ferror(file.get()))
                return io_error(std::string("read failed: ") + std::strerror(errno));
            break;
        }
    }
    if (text.size() > size_max)
        return error_info{errc::file_too_large, name, "",
                          "file is larger than " + std::to_string(size_max) + " bytes"};
    return text;
}

result<size_t> write_file_atomic(const std::filesystem::path& path, std::string_view data,
                               unsigned mode) {
    const durable_write_status status = write_file_durably(path, data, mode);
    if (status.ok())
        return data.size();
    std::string reason;
    switch (status.failed_at) {
    case durable_write_stage::none:
        break;
    case durable_write_stage::no_filename:
        reason = "no file name";
        break;
    case durable_write_stage::create_temp:
        reason = "cannot create a temporary file beside it";
        break;
    case durable_write_stage::write_temp:
        reason = "cannot write its temporary file";
        break;
    case durable_write_stage::rename:
        reason = "cannot rename over it";
        break;
    case durable_write_stage::sync_directory:
        reason = "cannot fsync its directory";
        break;
    }
    return error_info{errc::file_io, path.string(), "",
                      reason + ": " + std::strerror(status.errno_value)};
}

} // namespace ainet::config
