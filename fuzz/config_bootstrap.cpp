// Fuzzes the bootstrap list parser: no input may crash it; an accepted list stays within its
// cap and holds no duplicate public key or udp endpoint.
#include <ainet/config/bootstrap_list.hpp>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = ainet::config::parse_bootstrap_list(text, "fuzz/boot.json");
    if (!parsed) {
        if (parsed.error().message().rfind("fuzz/boot.json: ", 0) != 0)
            std::abort();
        return 0;
    }
    if (parsed->nodes.size() > ainet::config::bootstrap_node_count_max)
        std::abort();
    std::set<ainet::node_id> keys;
    std::set<ainet::endpoint> udp;
    for (const auto& node : parsed->nodes) {
        if (!keys.insert(node.public_key).second || !udp.insert(node.udp).second)
            std::abort();
        if (node.udp.port == 0 || node.http.port == 0)
            std::abort();
    }
    return 0;
}
