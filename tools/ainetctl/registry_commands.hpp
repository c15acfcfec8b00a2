#pragma once
// `ainetctl registry put|get|list|root`: the registry HTTP API of a node
// (docs/PROTOCOL.md "Registry HTTP API").
//
//   ainetctl registry put  --http ADDR --key FILE --name NAME [--value TEXT | --value-base64 B64]
//                          [--delete] [--hlc N] [--json]
//   ainetctl registry get  --http ADDR (--public-key HEX | --key FILE) --name NAME [--json]
//   ainetctl registry list --http ADDR [--public-key HEX] [--limit N] [--json]
//   ainetctl registry root --http ADDR [--verify] [--json]
//
// put signs the entry with the key file (the writer's key: entries live under its public key)
// and stamps it with the local clock's hybrid timestamp (unix ms << 16) unless --hlc is given;
// --delete writes a tombstone. Exit codes: 0 success, 1 the node refused or is unreachable
// (get: 1 also when the entry is absent), 2 usage errors.

#include <CLI/CLI.hpp>

namespace ainet::ctl {

// Adds the registry subcommand; status receives the exit code once a registry command ran.
void add_registry_commands(CLI::App& app, int& status);

} // namespace ainet::ctl
