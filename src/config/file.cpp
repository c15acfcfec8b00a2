#include <ainet/config/file.hpp>

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

namespace {

bool write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        const ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(written));
    }
    return true;
}

bool fsync_retry(int fd) noexcept {
    int rc = 0;
    do {
        rc = ::fsync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc == 0;
}

} // namespace

result<size_t> write_file_atomic(const std::filesystem::path& path, std::string_view data,
                               unsigned mode) {
    const std::string name = path.string();
    auto io_error = [&](std::string reason) {
        return error_info{errc::file_io, name, "", std::move(reason) + ": " + std::strerror(errno)};
    };
    if (!path.has_filename()) {
        errno = EINVAL;
        return io_error("no file name");
    }
    const std::filesystem::path directory =
        path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    // A fresh name beside the target (same file system for the rename); pid + counter keep
    // concurrent writers in one process or several apart, O_EXCL refuses anything left over.
    static std::atomic<uint64_t> sequence{0};
    std::filesystem::path temp = path;
    temp += ".tmp-" + std::to_string(::getpid()) + "-" +
            std::to_string(sequence.fetch_add(1, std::memory_order_relaxed));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                          static_cast<mode_t>(mode));
    if (fd < 0)
        return io_error("cannot create " + temp.string());
    const bool written = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 && write_all(fd, data) &&
                         fsync_retry(fd);
    const int saved = errno;
    const bool closed = ::close(fd) == 0;
    if (!written || !closed) {
        ::unlink(temp.c_str());
        errno = written ? errno : saved;
        return io_error("cannot write " + temp.string());
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int rename_errno = errno;
        ::unlink(temp.c_str());
        errno = rename_errno;
        return io_error("cannot rename over it");
    }
    // The rename is durable only once the directory entry is on disk.
    const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return io_error("cannot open its directory");
    const bool synced = fsync_retry(dir);
    ::close(dir);
    if (!synced)
        return io_error("cannot fsync its directory");
    return data.size();
}

} // namespace ainet::config
