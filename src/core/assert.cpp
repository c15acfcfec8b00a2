#include <ainet/core/assert.hpp>

#include <cstdio>
#include <cstdlib>

namespace ainet::detail {

void assert_fail(const char* condition, const char* file, int line, const char* message) noexcept {
    // stderr is unbuffered, and fprintf does not allocate for this format on glibc.
    std::fprintf(stderr, "ainet: assertion failed: %s at %s:%d%s%s\n", condition, file, line,
                 message ? ": " : "", message ? message : "");
    std::abort();
}

} // namespace ainet::detail
