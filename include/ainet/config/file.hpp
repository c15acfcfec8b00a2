#pragma once
// Reading a configuration file into memory, with a size cap checked before anything is parsed
// (STYLE.md: everything has a limit), so a wrong path such as /dev/zero or a huge log file fails
// fast with a clear message instead of exhausting memory. Start-up only; any thread.

#include <ainet/config/errc.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace ainet::config {

// Largest config or bootstrap file accepted: 1 MiB is far above any real file.
inline constexpr size_t config_file_size_max = 1u << 20;

// The file's bytes. Fails with file_io (cannot open or read; not a regular file) or
// file_too_large (more than size_max bytes). The error names the file as given.
[[nodiscard]] result<std::string> read_config_file(const std::filesystem::path& path,
                                                   size_t size_max = config_file_size_max);

// Replaces path with data atomically and durably: writes a fresh temporary file beside it
// (O_EXCL, the given mode), fsyncs it, renames it over path and fsyncs the directory, so a crash
// leaves either the old or the new contents, never a torn file. Fails with file_io (the reason
// names the step); the temporary file is removed on failure. Any thread; blocking I/O, so not
// for a shard's loop (state files: the discovery thread's <data_dir>/discovery.state).
// Returns the bytes written.
[[nodiscard]] result<size_t> write_file_atomic(const std::filesystem::path& path,
                                             std::string_view data, unsigned mode = 0600);

} // namespace ainet::config
