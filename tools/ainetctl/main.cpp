// ainetctl: the operator's tool for keys, signatures and config files.
//
//   ainetctl keygen --out FILE [--force] [--json]
//   ainetctl sign --key FILE [--domain cli|raw] (--message-hex HEX | --file F)
//   ainetctl verify --public-key HEX --signature HEX [--domain cli|raw]
//                   (--message-hex HEX | --file F)
//   ainetctl verify --stream [--batch N] [--domain cli|raw]
//   ainetctl config check [--bootstrap] FILE
//   ainetctl relay send|listen ... (relay_commands.hpp)
//   ainetctl registry put|get|list|root ... (registry_commands.hpp)
//   ainetctl peers [--json] [--http ADDR] (peers_command.hpp)
//   ainetctl send|recv ... (messaging_commands.hpp)
//   ainetctl status|metrics [--json] [--http ADDR] (status_commands.hpp)
//   ainetctl fault set|clear|show [--http ADDR] (fault_command.hpp)
// Every command that talks to a node takes --http (alias --node) and prints a human table, or
// the node's JSON with --json (table.hpp says when tables are padded).
//
// Exit codes: 0 success ("ok"); 1 the thing checked is bad (signature does not verify, config
// invalid) or the operation failed (key file, I/O); 2 usage errors.
// Signatures are made and checked in the "cli" domain by default (what is signed is
// context("ainet/v1/cli-message") || message), so a signature made with a node's key by this
// tool can never pass as a protocol object; --domain raw signs and verifies plain Ed25519 over
// exactly the message bytes (test vectors, interop with other tools).

#include "registry_commands.hpp" // registry
#include "peers_command.hpp" // membership/discovery
#include "fault_command.hpp" // faults
#include "relay_commands.hpp"
#include "status_commands.hpp" // operations
// messaging
#include "messaging_commands.hpp"
// end messaging
#include "verify_stream.hpp"

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/config/file.hpp>
#include <ainet/config/node_config.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace crypto = ainet::crypto;
namespace config = ainet::config;

constexpr int exit_ok = 0;
constexpr int exit_bad = 1;
constexpr int exit_usage = 2;

// Largest --file message for sign/verify.
constexpr size_t message_file_size_max = 16u << 20;

struct options {
    // keygen
    std::string out_path;
    bool force = false;
    bool json = false;
    // sign / verify
    std::string key_path;
    std::string domain = "cli";
    std::optional<std::string> message_hex;
    std::optional<std::string> message_file;
    std::string public_key_hex;
    std::string signature_hex;
    bool stream = false;
    size_t batch_size = 0;
    // config check
    std::string config_path;
    bool bootstrap = false;
};

std::optional<crypto::sig_domain> domain_of(const std::string& name) {
    if (name == "raw")
        return std::nullopt;
    return crypto::sig_domain::cli_message;
}

// The message given by --message-hex ("-" or "" for empty) or --file; nullopt after printing
// the reason.
std::optional<std::vector<uint8_t>> read_message(const options& o) {
    if (o.message_hex.has_value() == o.message_file.has_value()) {
        std::cerr << "ainetctl: give exactly one of --message-hex and --file\n";
        return std::nullopt;
    }
    if (o.message_hex) {
        if (*o.message_hex == "-" || o.message_hex->empty())
            return std::vector<uint8_t>{};
        auto bytes = ainet::from_hex(*o.message_hex);
        if (!bytes) {
            std::cerr << "ainetctl: --message-hex: " << ainet::to_string(bytes.error()) << '\n';
            return std::nullopt;
        }
        return std::move(bytes).value();
    }
    auto text = config::read_config_file(*o.message_file, message_file_size_max);
    if (!text) {
        std::cerr << "ainetctl: --file " << text.error().message() << '\n';
        return std::nullopt;
    }
    return std::vector<uint8_t>(text->begin(), text->end());
}

int run_keygen(const options& o) {
    const std::filesystem::path path(o.out_path);
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)) && !o.force) {
        std::cerr << "ainetctl: " << path.string()
                  << " already exists (use --force to overwrite it)\n";
        return exit_bad;
    }
    const auto keys = crypto::key_pair::generate();
    if (auto saved = crypto::save_key_file(path, keys); !saved) {
        std::cerr << "ainetctl: " << crypto::describe_key_file_error(path, saved.error()) << '\n';
        return exit_bad;
    }
    const std::string id = ainet::to_hex(keys.public_key_bytes());
    if (o.json) {
        nlohmann::json out = {{"node_id", id}, {"public_key", id}, {"key_file", path.string()}};
        std::cout << out.dump() << '\n';
    } else {
        std::cout << id << '\n';
    }
    return exit_ok;
}

int run_sign(const options& o) {
    auto message = read_message(o);
    if (!message)
        return exit_usage;
    auto keys = crypto::load_key_file(o.key_path);
    if (!keys) {
        std::cerr << "ainetctl: " << crypto::describe_key_file_error(o.key_path, keys.error())
                  << '\n';
        return exit_bad;
    }
    const auto domain = domain_of(o.domain);
    const crypto::signature sig =
        domain ? keys->sign(*domain, *message) : keys->sign_raw(*message);
    std::cout << ainet::to_hex(sig) << '\n';
    return exit_ok;
}

int run_verify_one(const options& o) {
    auto message = read_message(o);
    if (!message)
        return exit_usage;
    // Malformed keys and signatures are answers, not usage errors: they do not verify.
    crypto::public_key key{};
    crypto::signature sig{};
    bool well_formed = true;
    if (auto r = ainet::from_hex_into(o.public_key_hex, key); !r) {
        std::cerr << "ainetctl: --public-key: " << ainet::to_string(r.error())
                  << " (want 64 hex characters)\n";
        well_formed = false;
    }
    if (auto r = ainet::from_hex_into(o.signature_hex, sig); !r) {
        std::cerr << "ainetctl: --signature: " << ainet::to_string(r.error())
                  << " (want 128 hex characters)\n";
        well_formed = false;
    }
    const auto domain = domain_of(o.domain);
    const bool ok = well_formed && (domain ? crypto::verify(key, *domain, *message, sig)
                                           : crypto::verify_raw(key, *message, sig));
    std::cout << (ok ? "ok" : "bad") << '\n';
    return ok ? exit_ok : exit_bad;
}

int run_verify(const options& o) {
    if (!o.stream) {
        if (o.public_key_hex.empty() || o.signature_hex.empty()) {
            std::cerr << "ainetctl: verify needs --public-key and --signature (or --stream)\n";
            return exit_usage;
        }
        if (o.batch_size != 0) {
            std::cerr << "ainetctl: --batch needs --stream\n";
            return exit_usage;
        }
        return run_verify_one(o);
    }
    if (!o.public_key_hex.empty() || !o.signature_hex.empty() || o.message_hex || o.message_file) {
        std::cerr << "ainetctl: --stream reads its keys, messages and signatures from stdin\n";
        return exit_usage;
    }
    std::ios::sync_with_stdio(false);
    ainet::ctl::verify_stream_options stream_options;
    stream_options.domain = domain_of(o.domain);
    stream_options.batch_size = o.batch_size;
    (void)ainet::ctl::run_verify_stream(std::cin, std::cout, std::cerr, stream_options);
    return std::cout ? exit_ok : exit_bad;
}

int run_config_check(const options& o) {
    if (o.bootstrap) {
        auto list = config::load_bootstrap_list(o.config_path);
        if (!list) {
            std::cerr << list.error().message() << '\n';
            return exit_bad;
        }
        std::cout << "ok\n";
        return exit_ok;
    }
    auto node = config::load_node_config(o.config_path);
    if (!node) {
        std::cerr << node.error().message() << '\n';
        return exit_bad;
    }
    // The bootstrap list a node config names is part of what the node loads at start-up.
    if (!node->bootstrap_file.empty()) {
        auto list = config::load_bootstrap_list(node->bootstrap_file);
        if (!list) {
            std::cerr << list.error().message() << '\n';
            return exit_bad;
        }
    }
    std::cout << "ok\n";
    return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"ainetctl: keys, signatures and config files for ainet nodes"};
    app.require_subcommand(1);
    options o;
    const std::map<std::string, std::string> domains{{"cli", "cli"}, {"raw", "raw"}};
    int status = exit_usage;

    auto* keygen = app.add_subcommand("keygen", "generate a node key file (mode 0600) and print "
                                                "the node id");
    keygen->add_option("--out", o.out_path, "key file to write")->required();
    keygen->add_flag("--force", o.force, "overwrite an existing file");
    keygen->add_flag("--json", o.json, "print {\"node_id\", \"public_key\", \"key_file\"}");
    keygen->callback([&] { status = run_keygen(o); });

    auto* sign = app.add_subcommand("sign", "sign a message, print the signature hex");
    sign->add_option("--key", o.key_path, "key file")->required();
    sign->add_option("--domain", o.domain, "cli (default): domain-separated; raw: plain Ed25519")
        ->check(CLI::IsMember(domains));
    auto* sign_hex =
        sign->add_option("--message-hex", o.message_hex, "message as hex ('-': empty)");
    auto* sign_file = sign->add_option("--file", o.message_file, "message file");
    sign_hex->excludes(sign_file);
    sign->callback([&] { status = run_sign(o); });

    auto* verify = app.add_subcommand("verify", "verify a signature (exit 0: ok, 1: bad)");
    verify->add_option("--public-key", o.public_key_hex, "public key hex (64 characters)");
    verify->add_option("--signature", o.signature_hex, "signature hex (128 characters)");
    verify->add_option("--domain", o.domain, "cli (default) or raw")
        ->check(CLI::IsMember(domains));
    auto* verify_hex =
        verify->add_option("--message-hex", o.message_hex, "message as hex ('-': empty)");
    auto* verify_file = verify->add_option("--file", o.message_file, "message file");
    verify_hex->excludes(verify_file);
    verify->add_flag("--stream", o.stream,
                     "read 'PK_HEX MSG_HEX SIG_HEX' lines on stdin, answer ok/bad per line");
    verify->add_option("--batch", o.batch_size, "with --stream: verify N lines at a time")
        ->check(CLI::Range(size_t{1}, ainet::ctl::verify_batch_size_max));
    verify->callback([&] { status = run_verify(o); });

    auto* config_cmd = app.add_subcommand("config", "configuration files");
    config_cmd->require_subcommand(1);
    auto* check = config_cmd->add_subcommand("check", "check a node config (or bootstrap) file");
    check->add_option("file", o.config_path, "the file")->required();
    check->add_flag("--bootstrap", o.bootstrap, "the file is a bootstrap node list");
    check->callback([&] { status = run_config_check(o); });

    ainet::ctl::add_relay_commands(app, status);
    // messaging
    ainet::ctl::add_messaging_commands(app, status);
    // end messaging
    ainet::ctl::add_registry_commands(app, status); // registry
    ainet::ctl::add_peers_command(app, status); // membership/discovery
    ainet::ctl::add_status_commands(app, status); // operations
    ainet::ctl::add_fault_command(app, status); // faults

    if (auto init = crypto::init(); !init) {
        std::cerr << "ainetctl: " << crypto::to_string(init.error()) << '\n';
        return exit_bad;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    return status;
}
