// Fixture for the layering test: libsodium belongs to the crypto module alone.
#include <sodium.h>
