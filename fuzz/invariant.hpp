#pragma once
// Invariant checks for stateful fuzz targets: abort (libFuzzer saves the input) naming the
// violated condition and its line, so a crash input explains itself. Active in every build
// type, unlike AINET_ASSERT's debug-only checks.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(ok)                                                                             \
    do {                                                                                           \
        if (!(ok)) {                                                                               \
            std::fprintf(stderr, "invariant violated at %s:%d: %s\n", __FILE__, __LINE__, #ok);    \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)
