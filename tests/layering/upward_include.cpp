// Fixture for the layering test: core is the lowest module, so this include must be rejected.
#include <ainet/wire/header.hpp>
