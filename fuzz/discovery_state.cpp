// Fuzzes the bootstrap manager's persisted state (bootstrap_manager::restore): no input may
// crash it or restore more records than the table holds; whatever it restores persists again
// into a blob that restores to the same records (a fixed point after one round).
#include <ainet/discovery/bootstrap_manager.hpp>

#include <cstdint>
#include <cstdlib>

using namespace ainet;

namespace {

discovery::bootstrap_manager_config fuzz_config() {
    discovery::bootstrap_manager_config c;
    c.udp = make_ipv4(10, 0, 0, 1, 7000);
    c.http = make_ipv4(10, 0, 0, 1, 8000);
    c.table.nodes_max = 64;
    return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool initialised = crypto::init().has_value();
    if (!initialised)
        std::abort();
    static const crypto::key_pair self = crypto::key_pair::from_seed(crypto::seed{1});
    // Inside the seeds' validity window, so their records are restored.
    const unix_ms wall{1700000100000};
    const auto config = fuzz_config();
    discovery::bootstrap_manager first(self, config);
    auto restored = first.restore(bytes_view(data, size), wall);
    if (!restored)
        return 0;
    if (*restored > config.table.nodes_max || first.known_count() != *restored)
        std::abort();
    const auto blob = first.persist();
    discovery::bootstrap_manager second(self, config);
    auto again = second.restore(blob, wall);
    if (!again || *again != *restored || second.persist() != blob)
        std::abort();
    return 0;
}
