#pragma once
// `ainetctl fault set|clear|show [--http ADDR]`: the node's fault injection (runtime/
// fault_injector.hpp) through its admin endpoint (GET/POST /admin/faults on the HTTP control
// address, default 127.0.0.1:8000, loopback clients only).
//
//   ainetctl fault set --block 127.0.0.3 --drop 0.1 --delay-ms 20 --jitter-ms 5 ...
//   ainetctl fault clear
//   ainetctl fault show
//
// `set` replaces every setting at once (what it does not name goes back to "no fault"); `clear`
// is `set` with nothing. They print the settings the node applied (JSON). Exit codes: 0 ok,
// 1 the node did not answer or refused (its message is printed: 400 names the bad field).

#include <CLI/CLI.hpp>

namespace ainet::ctl {

void add_fault_command(CLI::App& app, int& status);

} // namespace ainet::ctl
