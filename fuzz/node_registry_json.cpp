// Fuzzes the registry's HTTP body parser (PUT /registry/entries): no input may crash or throw
// out of it; a rejected body names its reason; an accepted entry survives its own JSON form
// (what GET answers can be PUT back unchanged: entry_to_json then entry_from_json gives the
// same entry).
#include <ainet/node/registry_service.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto parsed = ainet::node::entry_from_json(body, error);
    if (!parsed) {
        if (error.empty())
            std::abort();
        return 0;
    }
    std::string again_error;
    const auto again = ainet::node::entry_from_json(ainet::node::entry_to_json(*parsed), again_error);
    if (!again || !(*again == *parsed))
        std::abort();
    return 0;
}
