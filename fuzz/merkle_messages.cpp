// Fuzzes the reconciliation message decoders (descend, buckets, wants, request) against a tree
// of leaf depth 3: no input may crash them, and whatever they accept re-encodes to the same
// bytes (one encoding per message). The first input byte picks the receiver's leaf depth.
#include <ainet/merkle/reconcile.hpp>

#include <algorithm>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet::merkle;
    if (size == 0)
        return 0;
    const auto leaf_depth = static_cast<uint8_t>(1 + data[0] % 4);
    const ainet::bytes_view input(data + 1, size - 1);
    std::vector<uint8_t> again;
    if (auto m = decode_descend(input, leaf_depth)) {
        encode(*m, again);
    } else if (auto b = decode_buckets(input, leaf_depth)) {
        encode(*b, again);
    } else if (auto w = decode_wants(input)) {
        encode_wants(*w, again);
    } else if (auto q = decode_request(input, leaf_depth)) {
        encode(*q, again);
    } else {
        return 0;
    }
    if (again.size() != input.size() || !std::equal(again.begin(), again.end(), input.begin()))
        std::abort();
    return 0;
}
