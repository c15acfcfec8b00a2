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
#include <ainet/node/relay_node.hpp>
// membership/discovery
#include <ainet/crypto/mac.hpp>
#include <ainet/node/discovery_service.hpp>
#include <ainet/node/membership_service.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <memory>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>
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
    config::bootstrap_list bootstrap; // membership/discovery: kept for the discovery thread
    if (!cfg->bootstrap_file.empty()) {
        auto list = config::load_bootstrap_list(cfg->bootstrap_file);
        if (!list)
            return startup_failed(list.error().message());
        bootstrap_node_count = list->nodes.size();
        bootstrap = std::move(*list);
    }

    std::error_code ec;
    std::filesystem::create_directories(cfg->data_dir, ec);
    if (ec || !std::filesystem::is_directory(cfg->data_dir))
        return startup_failed("data_dir " + cfg->data_dir.string() + ": " +
                              (ec ? ec.message() : std::string("not a directory")));

    ainet::node::relay_node node(*cfg, *keys);
    // membership/discovery: both announce the configured addresses, so they run only when
    // those are addresses others can reach (not 0.0.0.0 or ::).
    std::unique_ptr<ainet::node::membership_service> membership;
    std::unique_ptr<ainet::node::discovery_service> discovery;
    const auto unspecified = [](const ainet::endpoint& e) {
        return std::all_of(e.address.begin(), e.address.end(), [](uint8_t b) { return b == 0; });
    };
    if (unspecified(cfg->udp_listen) || unspecified(cfg->http_listen)) {
        std::cerr << "ainetd: membership and discovery off: udp_listen and http_listen must be "
                     "addresses other nodes can reach, not a wildcard" << std::endl;
    } else {
        uint64_t seeds[2];
        crypto::random_bytes({reinterpret_cast<uint8_t*>(seeds), sizeof(seeds)});
        ainet::node::membership_service_options m;
        m.advertise = cfg->udp_listen;
        m.seed = seeds[0];
        membership = std::make_unique<ainet::node::membership_service>(*keys, m);
        membership->attach(node);
        ainet::node::discovery_service_options d;
        d.manager.udp = cfg->udp_listen;
        d.manager.http = cfg->http_listen;
        d.manager.statics = bootstrap;
        d.manager.seed = seeds[1];
        d.state_file = cfg->data_dir / "discovery.state";
        discovery = std::make_unique<ainet::node::discovery_service>(*keys, d, membership.get());
        discovery->attach(node);
    }
    std::string error;
    if (!node.start(error))
        return startup_failed(error);
    if (discovery)
        discovery->start();
    // end membership/discovery
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
    if (discovery) // membership/discovery
        discovery->stop();
    node.stop();
    std::cerr << "ainetd: stopped" << std::endl;
    return exit_ok;
}
