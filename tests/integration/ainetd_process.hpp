#pragma once
// One ainetd child process for the C++ integration tests: started (binary from $AINETD) with
// <dir>/node.json, its stdout and stderr appended to <dir>/log, and killed with SIGKILL when
// the object goes, so a failing REQUIRE never leaves a node running. Plus the small file
// helpers those tests share.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            const int log = ::open((dir / "log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (log >= 0) {
                ::dup2(log, 1);
                ::dup2(log, 2);
            }
            const std::string config = (dir / "node.json").string();
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

} // namespace ainet::test
