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
// Signals: SIGINT and SIGTERM are blocked in every thread before anything else runs, and the
// main thread takes them with sigwait(), so no handler runs asynchronously and nothing spins.

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/config/node_config.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/node/registry_service.hpp> // registry
#include <ainet/node/relay_node.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <random> // registry
#include <string>
#include <thread>

namespace {

namespace config = ainet::config;
namespace crypto = ainet::crypto;

constexpr int exit_ok = 0;
constexpr int exit_startup_failed = 2;

int startup_failed(const std::string& message) {
    std::cerr << "ainetd: start-up failed: " << message << '\n';
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

    auto keys = crypto::load_key_file(cfg->key_file);
    if (!keys)
        return startup_failed(crypto::describe_key_file_error(cfg->key_file, keys.error()));

    size_t bootstrap_node_count = 0;
    std::vector<ainet::endpoint> registry_static_peers; // registry
    if (!cfg->bootstrap_file.empty()) {
        auto list = config::load_bootstrap_list(cfg->bootstrap_file);
        if (!list)
            return startup_failed(list.error().message());
        bootstrap_node_count = list->nodes.size();
        // --- registry: the bootstrap nodes are the sync peers until membership publishes ---
        for (const auto& n : list->nodes)
            if (n.public_key.bytes != keys->public_key_bytes())
                registry_static_peers.push_back(n.udp);
        // --- end registry ---
    }

    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    if (ec || !std::filesystem::is_directory(cfg->data_dir))
        return startup_failed("data_dir " + cfg->data_dir.string() + ": " +
                              (ec ? ec.message() : std::string("not a directory")));

    // --- registry: replica + sync on shard 0, persisted in <data_dir>/store; declared before
    // the node so that it outlives the node's shards ---
    std::unique_ptr<ainet::node::registry_node> registry;
    ainet::node::relay_node node(*cfg, *keys);
    try {
        ainet::node::registry_node_options registry_options;
        registry_options.store_directory = cfg->data_dir / "store";
        registry_options.static_peers = registry_static_peers;
        registry_options.seed = std::random_device{}();
        registry = std::make_unique<ainet::node::registry_node>(registry_options, *keys);
    } catch (const std::exception& e) {
        return startup_failed(e.what());
    }
    registry->attach(node);
    // --- end registry ---
    std::string error;
    if (!node.start(error))
        return startup_failed(error);
    if (!node.backend_fallback_reason().empty())
        std::cerr << "ainetd: io_uring not used (" << node.backend_fallback_reason()
                  << "); running the epoll backend" << std::endl;
    std::cerr << "ainetd: started node_id=" << ainet::to_hex(keys->public_key_bytes())
              << " udp=" << ainet::to_string(node.udp_endpoint())
              << " http=" << ainet::to_string(node.http_endpoint())
              << " shards=" << node.shard_count()
              << " backend=" << ainet::runtime::to_string(node.backend())
              << " data_dir=" << cfg->data_dir.string()
              << " bootstrap_nodes=" << bootstrap_node_count
              << " log_level=" << config::to_string(cfg->log) << std::endl;

    int signal_number = 0;
    if (const int rc = sigwait(&stop_signals, &signal_number); rc != 0) {
        std::cerr << "ainetd: sigwait: " << std::strerror(rc) << '\n';
        return exit_startup_failed;
    }
    std::cerr << "ainetd: received " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
              << ", shutting down" << std::endl;
    node.stop();
    std::cerr << "ainetd: stopped" << std::endl;
    return exit_ok;
}
