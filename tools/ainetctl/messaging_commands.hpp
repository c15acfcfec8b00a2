#pragma once
// `ainetctl send|recv`: the application side of reliable messaging, through a node's HTTP
// control address (docs/OPERATIONS.md, "Messaging").
//
//   ainetctl send --node HTTP_ADDR --to NODE_ID_HEX --channel N (--body TEXT | --file F)
//   ainetctl recv --node HTTP_ADDR --channel N [--wait-ms T] [--max N] [--ack] [--json]
//
// send prints the message id once the node accepted the message (durable; HTTP 202) and exits
// 0; it exits 1 with the node's reason on 400/413/429/503. recv prints one line per message,
// "<id> <from hex> <seq> <body>" (the body as text; --json prints the node's JSON instead) and,
// with --ack, acknowledges what it printed, so that the next recv starts after it. It exits 0
// when it printed at least one message, 1 when --wait-ms passed without one.

#include <CLI/CLI.hpp>

namespace ainet::ctl {

void add_messaging_commands(CLI::App& app, int& status);

} // namespace ainet::ctl
