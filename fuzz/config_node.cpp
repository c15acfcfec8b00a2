// Fuzzes the node config parser: no input may crash it; whatever it accepts must satisfy the
// invariants the rest of the node relies on (valid limits, shard_count within them, non-empty
// paths), and whatever it rejects must come with a message naming the file.
#include <ainet/config/node_config.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = ainet::config::parse_node_config(text, "fuzz/node.json");
    if (parsed) {
        if (!ainet::validate(parsed->limits).empty())
            std::abort();
        if (parsed->shard_count > parsed->limits.shard_count_max)
            std::abort();
        if (parsed->key_file.empty() || parsed->data_dir.empty())
            std::abort();
        if (parsed->udp_listen.port == 0 || parsed->http_listen.port == 0)
            std::abort();
    } else if (parsed.error().message().rfind("fuzz/node.json: ", 0) != 0) {
        std::abort();
    }
    return 0;
}
