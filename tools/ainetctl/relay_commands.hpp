#pragma once
// `ainetctl relay send|listen`: talk to a relay node as an authenticated peer.
//
//   ainetctl relay send --relay UDP_ADDR --key FILE --to NODE_ID_HEX --text TEXT [--count N]
//   ainetctl relay listen --relay UDP_ADDR --key FILE [--count N] [--timeout-ms T]
//
// listen prints one line per message received: "<source node id hex> <text>". It exits 0
// after --count messages, or 1 when --timeout-ms passes first.

#include <CLI/CLI.hpp>

#include <functional>

namespace ainet::ctl {

// Adds the relay subcommand; status receives the exit code once a relay command ran.
void add_relay_commands(CLI::App& app, int& status);

} // namespace ainet::ctl
