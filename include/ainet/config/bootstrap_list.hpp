#pragma once
// The bootstrap node list (config/bootstrap_nodes.json): the nodes a fresh node contacts first.
//
//     {"version": 1,
//      "nodes": [{"public_key": "<64 hex>", "udp": "127.0.0.1:7001", "http": "127.0.0.1:8001"}]}
//
// Parsing is strict: unknown fields, wrong JSON types, bad endpoints or ports, public keys that
// are not exactly 64 hex characters, a public key or udp endpoint listed twice, and more than
// bootstrap_node_count_max nodes are all rejected with an error naming the field
// ("/nodes/2/udp"). An empty list is allowed: it is how the first node of a network (or a
// deliberately isolated test node) is configured, and the node then waits to be contacted.
// Field reference: docs/OPERATIONS.md, "Configuration". Start-up only; allocates; any thread.

#include <ainet/config/errc.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

namespace ainet::config {

// Entries in one bootstrap file. A bootstrap list names a handful of well-known nodes; 1024 is
// far above any real list and keeps a mistaken file (a dump of a whole network) from loading.
inline constexpr size_t bootstrap_node_count_max = 1024;
inline constexpr int bootstrap_file_version = 1;

struct bootstrap_node {
    node_id public_key; // the node's Ed25519 public key, which is its identity
    endpoint udp;       // where its UDP protocol traffic goes
    endpoint http;      // its HTTP control address (GET /bootstrap/nodes)

    friend bool operator==(const bootstrap_node&, const bootstrap_node&) = default;
};

struct bootstrap_list {
    std::vector<bootstrap_node> nodes; // in file order, at most bootstrap_node_count_max
};

// Parses bootstrap list text; source_name names the file in error messages. Never throws.
[[nodiscard]] result<bootstrap_list> parse_bootstrap_list(std::string_view text,
                                                          std::string_view source_name);
// Reads (size-capped, see file.hpp) and parses a bootstrap file.
[[nodiscard]] result<bootstrap_list> load_bootstrap_list(const std::filesystem::path& path);

} // namespace ainet::config
