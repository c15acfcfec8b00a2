#pragma once
// GET /status: one JSON object that tells an operator at a glance what a node is and how it is
// doing (`ainetctl status` prints it). It is a digest, not a new source of truth: the node's
// identity and runtime come from relay_node, everything else from the node's own /metrics
// (rendered in-process and parsed with prometheus_text.hpp), so a service that is not running
// shows as null and the status can never disagree with what a scraper sees. The registry's root
// is the one value /metrics lacks: it is asked of shard 0 (registry_node::root, bounded by the
// registry's request timeout; on timeout the registry section carries "error").
//
// Fields (docs/OPERATIONS.md "Status"): node_id, version, uptime_s, udp, http, backend,
// backend_fallback, shard_count, shards[{shard, rx_datagrams, tx_datagrams}], peers{alive,
// suspect, unreachable, dead} | null, partition{suspected, events} | null, registry{entries,
// root} | null, messaging{outbox, inbox, long_polls_waiting} | null, discovery{known_nodes} |
// null, http_control{threads, threads_busy, connections_queued, rejected}.
//
// Threads: the handler runs on a control thread. Lifecycle: install_status() before
// node.start(); the registry (if given) must outlive the node's control server.

#include <ainet/core/ids.hpp>
#include <ainet/node/relay_node.hpp>

#include <string>

namespace ainet::node {

class registry_node;

struct status_options {
    std::string version;
    // Asked for the root and the entry count; null: the entry count comes from /metrics.
    registry_node* registry = nullptr;
    // Hex digits of the root shown (the full root is GET /registry/root).
    size_t root_prefix_size = 16;
};

void install_status(relay_node& node, const node_id& self, status_options options);

} // namespace ainet::node
