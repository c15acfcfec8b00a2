#pragma once
// Assertions that stay on in every build type.
//
// AINET_ASSERT is for broken invariants (bugs): it prints the failed condition with file and line
// and aborts. It is never used on untrusted input: malformed bytes, bad signatures and full
// queues are operating errors and travel as result<T> instead (see result.hpp). Any thread may
// call it; it allocates nothing before aborting.

namespace ainet::detail {
[[noreturn]] void assert_fail(const char* condition, const char* file, int line,
                              const char* message) noexcept;
} // namespace ainet::detail

#define AINET_ASSERT(condition)                                                                    \
    do {                                                                                           \
        if (!(condition)) [[unlikely]]                                                             \
            ::ainet::detail::assert_fail(#condition, __FILE__, __LINE__, nullptr);                 \
    } while (false)

#define AINET_ASSERT_MSG(condition, message)                                                       \
    do {                                                                                           \
        if (!(condition)) [[unlikely]]                                                             \
            ::ainet::detail::assert_fail(#condition, __FILE__, __LINE__, (message));               \
    } while (false)

#define AINET_UNREACHABLE()                                                                        \
    ::ainet::detail::assert_fail("unreachable", __FILE__, __LINE__, nullptr)
