// Fuzzes `ainetctl verify --stream`: the line parser must never crash, an accepted line must
// re-parse identically from its canonical form, and the whole input run as a stream must give
// exactly one answer per line, the same with batching as without.
#include "verify_stream.hpp"

#include <ainet/core/encoding.hpp>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet;
    if (!crypto::init())
        std::abort();
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto line = ctl::parse_verify_line(text)) {
        const std::string canonical = to_hex(line->key) + " " +
                                      (line->message.empty() ? "-" : to_hex(line->message)) + " " +
                                      to_hex(line->sig);
        auto again = ctl::parse_verify_line(canonical);
        if (!again || again->key != line->key || again->message != line->message ||
            again->sig != line->sig)
            std::abort();
    }

    std::string outputs[2];
    uint64_t line_count = 0;
    for (size_t pass = 0; pass < 2; ++pass) {
        std::istringstream in{std::string(text)};
        std::ostringstream out;
        std::ostringstream err;
        ctl::verify_stream_options options;
        options.batch_size = pass == 0 ? 0 : 3;
        const auto counts = ctl::run_verify_stream(in, out, err, options);
        outputs[pass] = out.str();
        line_count = counts.line_count;
        if (counts.ok_count + counts.bad_count != counts.line_count)
            std::abort();
    }
    if (outputs[0] != outputs[1])
        std::abort();
    uint64_t answers = 0;
    for (char c : outputs[0])
        answers += c == '\n' ? 1 : 0;
    if (answers != line_count)
        std::abort();
    return 0;
}
