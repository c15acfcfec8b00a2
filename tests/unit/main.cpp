// The single Catch2 main for ainet-unit-tests. Tests run in random order (seed printed by
// Catch2) so no test can lean on another's side effects.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
