// ainetd: the ainet node daemon.
//
//   ainetd --config FILE
//
// It loads and checks everything a node needs before its shards start (config, key file,
// bootstrap list, data directory), starts the relay node (one shard per core on the UDP port,
// the HTTP control server with /metrics and /healthz), logs one start-up line and serves until
// SIGINT or SIGTERM, then stops the shards and exits. Exit codes: 0 after a clean shutdown on a
// signal; 2 when start-up fails (the message names the file and the field).
//
// Logs: structured lines on stderr (node/log.hpp), at the config's log_level; events are
// started, io_backend_fallback, startup_failed, signal, stopped (drained=yes|timeout).
//
// Shutdown on SIGTERM or SIGINT is a drain (relay_node::drain_and_stop): the HTTP listener
// closes, each shard runs its services' drain hooks until they have flushed what they hold and
// its send queue is empty (at most drain_timeout), then the shards stop.
//
// Signals: SIGINT and SIGTERM are blocked in every thread before anything else runs, and the
// main thread takes them with sigwait(), so no handler runs asynchronously and nothing spins.

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/config/node_config.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/node/log.hpp>
#include <ainet/node/registry_service.hpp> // registry
#include <ainet/node/status_service.hpp> // operations
#include <ainet/node/relay_node.hpp>
// messaging
#include <ainet/node/messaging_service.hpp>
#include <ainet/node/peer_directory.hpp>
// end messaging
// membership/discovery
#include <ainet/crypto/mac.hpp>
#include <ainet/node/discovery_service.hpp>
#include <ainet/node/membership_service.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <cstring>
#include <filesystem>
#include <pthread.h>
#include <random> // registry
#include <string>
#include <thread>

namespace {

namespace config = ainet::config;
namespace crypto = ainet::crypto;
using ainet::node::log_event;
using ainet::node::log_level;

constexpr int exit_ok = 0;
constexpr int exit_startup_failed = 2;
// How long a SIGTERM/SIGINT drain may take before the shards are stopped anyway; well below
// systemd's TimeoutStopSec (tools/systemd/ainetd.service) so ainetd exits on its own.
constexpr ainet::duration drain_timeout = std::chrono::seconds(5);

int startup_failed(const std::string& message) {
    log_event(log_level::error, "startup_failed").field("error", message);
    return exit_startup_failed;
}

} // namespace

int main(int argc, char** argv) {
    // Block first, so that threads started later inherit the mask and a signal arriving during
    // start-up waits for sigwait instead of killing the process half-initialised.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (const int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); rc != 0)
        return startup_failed(std::string("pthread_sigmask: ") + std::strerror(rc));

    CLI::App app{"ainetd: the ainet node daemon"};
    std::string config_path;
    app.add_option("--config", config_path, "node config file (JSON)")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_startup_failed;
    }

    if (auto init = crypto::init(); !init)
        return startup_failed(std::string(crypto::to_string(init.error())));

    auto cfg = config::load_node_config(config_path);
    if (!cfg)
        return startup_failed(cfg.error().message());

    ainet::node::set_log_level(cfg->log);

    auto keys = crypto::load_key_file(cfg->key_file);
    if (!keys)
        return startup_failed(crypto::describe_key_file_error(cfg->key_file, keys.error()));
    ainet::node::set_log_node(keys->id());

    size_t bootstrap_node_count = 0;
    std::vector<config::bootstrap_node> bootstrap_nodes;
    std::vector<ainet::endpoint> registry_static_peers; // registry
    config::bootstrap_list bootstrap; // membership/discovery: kept for the discovery thread
    if (!cfg->bootstrap_file.empty()) {
        auto list = config::load_bootstrap_list(cfg->bootstrap_file);
        if (!list)
            return startup_failed(list.error().message());
        bootstrap_node_count = list->nodes.size();
        bootstrap_nodes = list->nodes;
        // --- registry: the bootstrap nodes are the sync peers until membership publishes ---
        for (const auto& n : list->nodes)
            if (n.public_key.bytes != keys->public_key_bytes())
                registry_static_peers.push_back(n.udp);
        // --- end registry ---
        bootstrap = std::move(*list);
    }

    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    if (ec || !std::filesystem::is_directory(cfg->data_dir))
        return startup_failed("data_dir " + cfg->data_dir.string() + ": " +
                              (ec ? ec.message() : std::string("not a directory")));

    // membership/discovery: both announce the node's addresses (membership.advertise_udp and
    // advertise_http, else udp_listen and http_listen), so they run only when those are
    // addresses others can reach (not 0.0.0.0 or ::). Membership publishes the peer_directory
    // that messaging and the registry read; without it the directory stays empty and they use
    // the bootstrap list.
    std::unique_ptr<ainet::node::membership_service> membership;
    std::unique_ptr<ainet::node::discovery_service> discovery;
    const auto announced_udp = config::announced_udp(*cfg);
    const auto announced_http = config::announced_http(*cfg);
    if (!announced_udp || !announced_http) {
        log_event(log_level::warn, "membership_off")
            .field("reason", !announced_udp
                                 ? "udp_listen is a wildcard: set membership.advertise_udp"
                                 : "http_listen is a wildcard: set membership.advertise_http");
    } else {
        uint64_t seeds[2];
        crypto::random_bytes({reinterpret_cast<uint8_t*>(seeds), sizeof(seeds)});
        ainet::node::membership_service_options m;
        m.advertise = *announced_udp;
        m.seed = seeds[0];
        m.state_file = cfg->data_dir / "membership.state";
        m.members_file = cfg->data_dir / "membership.members";
        membership = std::make_unique<ainet::node::membership_service>(*keys, m);
        ainet::node::discovery_service_options d;
        d.manager.udp = *announced_udp;
        d.manager.http = *announced_http;
        d.manager.statics = bootstrap;
        d.manager.seed = seeds[1];
        d.state_file = cfg->data_dir / "discovery.state";
        discovery = std::make_unique<ainet::node::discovery_service>(*keys, d, membership.get());
    }
    // end membership/discovery
    // messaging: reliable messages for applications (POST/GET /messages), state in
    // data_dir/messaging; peers the directory lacks are reached through the bootstrap list.
    auto own_directory = std::make_shared<ainet::node::peer_directory>();
    // Aliasing pointer: membership owns its directory and outlives every user of it here.
    std::shared_ptr<const ainet::node::peer_directory> peers =
        membership ? std::shared_ptr<const ainet::node::peer_directory>(own_directory,
                                                                         &membership->directory())
                   : own_directory;
    ainet::node::messaging_options messaging_options;
    messaging_options.directory = cfg->data_dir / "messaging";
    messaging_options.limits.long_poll_count_max = cfg->limits.http_long_poll_count_max;
    ainet::node::messaging_service messaging(messaging_options, keys->id(), peers,
                                             bootstrap_nodes);
    // end messaging
    // registry: replica + sync on shard 0, persisted in <data_dir>/store (a slice per shard).
    std::unique_ptr<ainet::node::registry_node> registry;
    // Declared after the services so that it stops (and its shards let go of them) first.
    ainet::node::relay_node node(*cfg, *keys);
    messaging.install(node);
    try {
        ainet::node::registry_node_options registry_options;
        registry_options.store_directory = cfg->data_dir / "store";
        // One store slice per shard (the shards are created by start(): count them as it will).
        registry_options.shard_count = ainet::config::effective_shard_count(
            *cfg, std::max(1u, std::thread::hardware_concurrency()));
        registry_options.static_peers = registry_static_peers;
        registry_options.seed = std::random_device{}();
        registry_options.peers = peers.get();
        registry = std::make_unique<ainet::node::registry_node>(registry_options, *keys);
    } catch (const std::exception& e) {
        return startup_failed(e.what());
    }
    registry->attach(node);
    // end registry
    // operations: GET /status (ainetctl status), a digest of /metrics plus the registry root.
    ainet::node::install_status(node, keys->id(), {AINET_VERSION, registry.get()});
    // end operations
    if (membership)
        membership->attach(node);
    if (discovery)
        discovery->attach(node);
    std::string error;
    if (!node.start(error))
        return startup_failed(error);
    if (discovery)
        discovery->start();
    // end membership/discovery
    if (!node.backend_fallback_reason().empty())
        log_event(log_level::warn, "io_backend_fallback")
            .field("reason", node.backend_fallback_reason())
            .field("backend", ainet::runtime::to_string(node.backend()));
    {
        log_event started(log_level::info, "started");
        started.field("node_id", ainet::to_hex(keys->public_key_bytes()))
            .field("udp", ainet::to_string(node.udp_endpoint()))
            .field("http", ainet::to_string(node.http_endpoint()))
            .field("shards", unsigned{node.shard_count()})
            .field("backend", ainet::runtime::to_string(node.backend()))
            .field("data_dir", cfg->data_dir.string())
            .field("bootstrap_nodes", uint64_t{bootstrap_node_count})
            .field("log_level", config::to_string(cfg->log));
        if (const auto open = node.public_http_endpoint())
            started.field("public_http", ainet::to_string(*open));
    }

    int signal_number = 0;
    if (const int rc = sigwait(&stop_signals, &signal_number); rc != 0) {
        log_event(log_level::error, "sigwait_failed").field("error", std::strerror(rc));
        return exit_startup_failed;
    }
    log_event(log_level::info, "signal")
        .field("signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM")
        .field("action", "shutting down");
    if (discovery) // membership/discovery
        discovery->stop();
    // Graceful: stop accepting, let the shards drain (shard_service::on_drain), then stop.
    const auto drain_started = std::chrono::steady_clock::now();
    const bool drained = node.drain_and_stop(drain_timeout);
    const auto drain_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - drain_started);
    log_event(drained ? log_level::info : log_level::warn, "stopped")
        .field("drained", drained ? "yes" : "timeout")
        .field("drain_ms", int64_t{drain_ms.count()});
    return exit_ok;
}
