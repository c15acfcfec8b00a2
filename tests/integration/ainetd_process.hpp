#pragma once
// One ainetd child process for the C++ integration tests: started (binary from $AINETD) with
// <dir>/node.json, its stdout and stderr appended to <dir>/log, and killed with SIGKILL when
// the object goes, so a failing REQUIRE never leaves a node running. Plus the small file and
// port helpers those tests share.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace ainet::test {

struct ainetd_process {
    std::filesystem::path dir;
    pid_t pid = -1;

    ainetd_process() = default;
    ainetd_process(const ainetd_process&) = delete;
    ainetd_process& operator=(const ainetd_process&) = delete;
    ~ainetd_process() { kill(SIGKILL); }

    void start() {
        const char* binary = std::getenv("AINETD");
        REQUIRE(binary != nullptr);
        // Built before fork(): the child of a multithreaded process (these tests run HTTP
        // servers on threads) may only make async-signal-safe calls until exec, and building a
        // path allocates; a lock another thread held at fork() would hang the child forever
        // (seen once under ASan: an empty log and a node that never started).
        const std::string log_path = (dir / "log").string();
        const std::string config = (dir / "node.json").string();
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (log >= 0) {
                ::dup2(log, 1);
                ::dup2(log, 2);
            }
            ::execl(binary, binary, "--config", config.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    // True while the process has not exited (reaps it when it has).
    bool running() {
        if (pid <= 0)
            return false;
        int status = 0;
        return ::waitpid(pid, &status, WNOHANG) == 0;
    }
    // Sends signal and waits for the exit.
    void kill(int signal) {
        if (pid <= 0)
            return;
        ::kill(pid, signal);
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
    }
};

inline void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p);
    out << text;
    REQUIRE(out.good());
}

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A port P such that P .. P+count-1 were free for TCP and UDP on 127.0.0.1 when checked, below
// the kernel's ephemeral range (32768..), where client sockets of other tests cannot take
// them between this check and the node's bind (tests/integration/ports.sh does the same).
inline uint16_t free_port_base(uint16_t count) {
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(20000, 32767 - count);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto base = static_cast<uint16_t>(pick(rng));
        std::vector<int> held;
        bool free = true;
        for (uint16_t port = base; free && port < base + count; ++port) {
            for (const int kind : {SOCK_STREAM, SOCK_DGRAM}) {
                const int fd = ::socket(AF_INET, kind, 0);
                REQUIRE(fd >= 0);
                held.push_back(fd);
                sockaddr_in address{};
                address.sin_family = AF_INET;
                address.sin_port = htons(port);
                address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
                    free = false;
            }
        }
        for (const int fd : held)
            ::close(fd);
        if (free)
            return base;
    }
    FAIL("no free range of " << count << " ports below 32768");
    return 0;
}

} // namespace ainet::test
