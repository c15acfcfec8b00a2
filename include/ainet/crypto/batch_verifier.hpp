#pragma once
// crypto::batch_verifier: collects signature checks during a loop turn and verifies them as
// one batch (docs/protocol/signing.md, "Batch verification").
//
// Callers submit (key, message, signature, completion); the verifier runs the batch when it
// holds `capacity` requests (inside the submit that fills it) or when the owner calls flush(),
// normally at the end of the shard's loop turn. Each completion is called exactly once, from
// flush (or the filling submit), in submission order, with the predicate's verdict: the same
// verdict verify_raw() gives (docs/protocol/signing.md).
//
// Ownership: the message bytes are borrowed until the completion for them has run; the caller
// keeps them alive. Completions must not call submit() or flush() on the same verifier.
//
// Threading and memory: one verifier belongs to one shard (not thread-safe). The constructor
// allocates everything (request slots and the batch engine's workspace, about 0.4 MiB);
// submit() and flush() allocate nothing and never throw.

#include <ainet/crypto/ed25519.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace ainet::crypto {

namespace detail {
struct batch_workspace;
struct batch_workspace_deleter {
    void operator()(batch_workspace* workspace) const noexcept;
};
} // namespace detail

class batch_verifier {
public:
    // Called once per submitted request with its verdict. context is the pointer given to
    // submit(); the function must not throw.
    using completion_fn = void (*)(void* context, bool valid) noexcept;

    // The largest capacity allowed: a batch larger than this gains no speed (the engine works
    // in chunks of 128) but delays verdicts and holds borrowed messages longer.
    static constexpr size_t capacity_max = 1024;

    // Precondition: 1 <= capacity <= capacity_max. Allocates; may throw std::bad_alloc.
    explicit batch_verifier(size_t capacity);
    batch_verifier(const batch_verifier&) = delete;
    batch_verifier& operator=(const batch_verifier&) = delete;
    ~batch_verifier();

    // Queues one check; runs the batch (calling every queued completion) if this fills it.
    void submit(const public_key& key, bytes_view message, const signature& sig,
                completion_fn completion, void* context) noexcept;
    // Verifies everything queued and calls its completions. Returns how many it verified.
    size_t flush() noexcept;

    [[nodiscard]] size_t size() const noexcept { return m_size; }
    [[nodiscard]] size_t capacity() const noexcept { return m_requests.size(); }

private:
    struct pending {
        completion_fn completion;
        void* context;
    };
    std::vector<verify_request> m_requests;
    std::vector<pending> m_pending;
    std::unique_ptr<bool[]> m_verdicts;
    std::unique_ptr<detail::batch_workspace, detail::batch_workspace_deleter> m_workspace;
    size_t m_size = 0;
    bool m_flushing = false;
};

} // namespace ainet::crypto
