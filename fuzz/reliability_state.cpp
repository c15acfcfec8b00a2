// Fuzzes the persisted-state decoder (what a restarted node reads back from disk): any input
// decodes or fails cleanly, and a blob that decodes re-encodes to itself (canonical form).
#include <ainet/reliability/durability.hpp>

#include <cstdlib>

using namespace ainet;
using namespace ainet::reliability;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto state = decode_state(bytes_view(data, size));
    if (!state)
        return 0;
    const auto again = encode_state(*state);
    if (again.size() != size || !std::equal(again.begin(), again.end(), data))
        std::abort();
    // A decoded state is one a store can hold and give back unchanged.
    memory_store store;
    store.load(*state);
    if (store.encode() != again)
        std::abort();
    return 0;
}
