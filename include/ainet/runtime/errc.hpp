#pragma once
// Error codes of the runtime module (sockets, io backends, shards).

#include <ainet/core/result.hpp>

#include <cstdint>
#include <string_view>

namespace ainet::runtime {

enum class errc : uint8_t {
    socket_failed = 1,      // socket(), setsockopt() or bind() failed; errno is logged
    address_in_use,         // bind(): EADDRINUSE
    io_uring_unavailable,   // io_uring_setup refused (ENOSYS, EPERM: seccomp, sysctl) or too old
    io_uring_missing_feature, // an opcode or feature ainet needs is not supported by this kernel
    epoll_failed,           // epoll_create1 / epoll_ctl failed
    out_of_memory,          // mmap or a preallocation failed at start-up
    thread_failed,          // pthread creation or pinning failed
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

} // namespace ainet::runtime
