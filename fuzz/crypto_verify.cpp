// Fuzzes verification: the input is public key (32 bytes) || signature (64) || message (rest).
// Single and batch verification must give the same verdict, alone and inside a larger batch,
// since later batch verifiers are only correct if they never disagree with the single one.
#include <ainet/crypto/ed25519.hpp>

#include <array>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet::crypto;
    if (size < public_key_size + signature_size)
        return 0;
    verify_request request{};
    std::memcpy(request.key.data(), data, public_key_size);
    std::memcpy(request.sig.data(), data + public_key_size, signature_size);
    request.message = ainet::bytes_view(data + public_key_size + signature_size,
                                        size - public_key_size - signature_size);
    const bool single = verify_raw(request.key, request.message, request.sig);

    // The same request alone, and between two copies with one S bit flipped, so a batch
    // verifier cannot pass by giving every request the same verdict.
    verify_request flipped = request;
    flipped.sig[signature_size - 1] ^= 0x01;
    const std::array<verify_request, 3> batch = {flipped, request, flipped};
    std::array<bool, 3> verdicts{};
    verify_batch(batch, verdicts);
    bool alone = !single;
    verify_batch({&request, 1}, {&alone, 1});
    if (alone != single || verdicts[1] != single ||
        verdicts[0] != verify_raw(flipped.key, flipped.message, flipped.sig) ||
        verdicts[2] != verdicts[0])
        std::abort();
    return 0;
}
