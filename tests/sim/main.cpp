// The Catch2 main of the simulator's scenarios (ainet-sim-tests). Random order, seed printed.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
