// Fuzzes the sync datagram decoder (codes 0x40..0x46): no input may crash it; an accepted
// message respects the size and chunk limits and its entries stay inside the datagram. The
// first input byte picks the receiver's leaf depth.
#include <ainet/sync/messages.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet::sync;
    if (size == 0)
        return 0;
    const auto leaf_depth = static_cast<uint8_t>(1 + data[0] % 5);
    const ainet::bytes_view input(data + 1, size - 1);
    auto m = decode(input, leaf_depth);
    if (!m)
        return 0;
    if (input.size() > sync_datagram_size_max || m->head.chunk_index >= m->head.chunk_count)
        std::abort();
    for (const auto& e : m->entries) {
        if (e.wire.data() < input.data() || e.wire.data() + e.wire.size() > input.data() + input.size())
            std::abort();
        (void)ainet::registry::decode(e.wire);
    }
    return 0;
}
