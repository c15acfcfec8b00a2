// Fuzzes the fault settings parser (POST /admin/faults bodies, the node config's "faults"):
// no input may crash it; what it accepts is within the documented bounds and survives a
// to_json round trip unchanged; what it rejects comes with a message naming the source.
#include <ainet/config/fault_config.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet::config;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_fault_config(text, "fuzz/faults");
    if (!parsed) {
        if (parsed.error().message().rfind("fuzz/faults: ", 0) != 0)
            std::abort();
        return 0;
    }
    const fault_config& c = *parsed;
    for (double p : {c.drop_probability, c.duplicate_probability, c.reorder_probability})
        if (!(p >= 0 && p <= 1))
            std::abort();
    if (c.delay_ms > fault_delay_ms_max || c.jitter_ms > fault_delay_ms_max ||
        c.reorder_window_ms > fault_delay_ms_max || c.block.size() > fault_block_count_max)
        std::abort();
    auto again = parse_fault_config(to_json(c), "fuzz/faults");
    if (!again || !(*again == c))
        std::abort();
    return 0;
}
