// Fuzzes the registry entry decoder: no input may crash it, whatever it accepts re-encodes to
// the same bytes (one encoding per entry), and verification of an accepted entry never
// crashes (a random signature simply fails).
#include <ainet/registry/entry.hpp>

#include <algorithm>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet::registry;
    const ainet::bytes_view input(data, size);
    auto e = decode(input);
    if (!e)
        return 0;
    const auto again = encode(*e);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data))
        std::abort();
    if (again.size() > entry_wire_size_max)
        std::abort();
    (void)verify(*e);
    (void)entry_digest(input);
    return 0;
}
