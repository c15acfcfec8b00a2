#include <ainet/core/file_io.hpp>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace ainet {

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

durable_write_status write_file_durably(const std::filesystem::path& path, std::string_view data,
                                        unsigned mode) noexcept {
    auto failed = [](durable_write_stage stage, int saved_errno) {
        return durable_write_status{stage, saved_errno};
    };
    try {
        if (!path.has_filename())
            return failed(durable_write_stage::no_filename, EINVAL);
        const std::filesystem::path directory =
            path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
        static std::atomic<uint64_t> sequence{0};
        std::filesystem::path temp = path;
        temp += ".tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(sequence.fetch_add(1, std::memory_order_relaxed));

        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                              static_cast<mode_t>(mode));
        if (fd < 0)
            return failed(durable_write_stage::create_temp, errno);
        const bool written =
            ::fchmod(fd, static_cast<mode_t>(mode)) == 0 && write_all(fd, data) && fsync_retry(fd);
        const int write_errno = errno;
        // A failed close may mean lost data, so it fails the write too.
        const bool closed = ::close(fd) == 0;
        if (!written || !closed) {
            const int saved = written ? errno : write_errno;
            ::unlink(temp.c_str());
            return failed(durable_write_stage::write_temp, saved);
        }
        if (::rename(temp.c_str(), path.c_str()) != 0) {
            const int saved = errno;
            ::unlink(temp.c_str());
            return failed(durable_write_stage::rename, saved);
        }
        // The rename is durable only once the directory entry is on disk.
        const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
            return failed(durable_write_stage::sync_directory, errno);
        const bool synced = fsync_retry(dir);
        const int saved = errno;
        ::close(dir);
        if (!synced)
            return failed(durable_write_stage::sync_directory, saved);
        return {};
    } catch (...) {
        // Only the path arithmetic allocates; out of memory is reported, not thrown.
        return failed(durable_write_stage::create_temp, ENOMEM);
    }
}

} // namespace ainet
