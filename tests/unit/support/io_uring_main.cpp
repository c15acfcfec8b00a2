// Catch2 main for the runtime tests. `--require-io-uring` first checks that this machine lets
// us create an io_uring; where it does not (old kernel, seccomp in containers, sysctl
// kernel.io_uring_disabled), the run exits 77 so meson reports a skip with the reason instead
// of a silent pass.
#define CATCH_CONFIG_RUNNER
#include <ainet/runtime/io_backend.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::vector<char*> args;
    bool require_io_uring = false;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--require-io-uring") == 0)
            require_io_uring = true;
        else
            args.push_back(argv[i]);
    }
    if (require_io_uring) {
        using namespace ainet::runtime;
        auto socket = udp_socket::open(ainet::make_ipv4(127, 0, 0, 1, 0), socket_options{});
        shard_counters counters;
        std::string why;
        auto backend = socket ? make_io_backend(backend_choice::automatic, *socket, backend_config{},
                                                counters, &why)
                              : decltype(make_io_backend(backend_choice::automatic, *socket,
                                                         backend_config{}, counters)){
                                    ainet::fail(errc::socket_failed)};
        if (!backend || (*backend)->kind() != backend_kind::io_uring) {
            std::printf("SKIP: io_uring is not usable here: %s\n", why.c_str());
            return 77;
        }
    }
    return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
