#pragma once
// Durable file replacement: the one place that knows how to make "this file now holds exactly
// these bytes" survive a crash (write a fresh temp beside it, fsync, rename over, fsync the
// directory). Config state files and key files both go through it.
//
// Blocking POSIX I/O: call from control/start-up threads, never from a shard loop. Thread-safe
// (temp names carry the pid and a process-wide sequence, O_EXCL refuses a leftover).

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ainet {

// Which step of a durable write failed; errno_value says why.
enum class durable_write_stage : uint8_t {
    none,        // success
    no_filename, // the path names a directory
    create_temp,
    write_temp, // write, fchmod, fsync or close of the temp file
    rename,
    sync_directory,
};

struct durable_write_status {
    durable_write_stage failed_at = durable_write_stage::none;
    int errno_value = 0;

    [[nodiscard]] bool ok() const noexcept { return failed_at == durable_write_stage::none; }
};

// Replaces path with data, mode exactly `mode` whatever the umask (fchmod on the temp). A
// reader sees the old file or the new one, never a mix; the temp file is removed on failure.
[[nodiscard]] durable_write_status write_file_durably(const std::filesystem::path& path,
                                                      std::string_view data,
                                                      unsigned mode) noexcept;

// Writes all of data to fd, retrying short writes and EINTR.
[[nodiscard]] bool write_all(int fd, std::string_view data) noexcept;

// fsync, retried on EINTR.
[[nodiscard]] bool fsync_retry(int fd) noexcept;

} // namespace ainet
