#pragma once
// The simulator draws from core's deterministic generator (ainet/core/rng.hpp); these names
// keep sim code and tests spelling it sim::rng.

#include <ainet/core/rng.hpp>

namespace ainet::sim {

using ainet::derive_seed;
using ainet::log2_q32;
using ainet::probability;
using ainet::rng;
using ainet::splitmix64;
using ainet::uint128_t;

} // namespace ainet::sim
