#include "lossy_path.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace ainet::bench {

netns_scope::netns_scope(int netns_fd) {
    if (netns_fd < 0)
        return;
    m_original = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    m_ok = m_original >= 0 && ::setns(netns_fd, CLONE_NEWNET) == 0;
}

netns_scope::~netns_scope() {
    if (m_original >= 0) {
        (void)::setns(m_original, CLONE_NEWNET);
        ::close(m_original);
    }
}

namespace {

// Runs a shell command quietly; true on exit status 0.
bool sh(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

} // namespace

std::optional<lossy_path> lossy_path::create(unsigned loss_percent, std::string& error) {
    if (loss_percent > 100) {
        error = "loss must be 0..100 %";
        return std::nullopt;
    }
    if (::geteuid() != 0) {
        error = "a lossy path needs root (network namespaces and nftables)";
        return std::nullopt;
    }
    const std::string tag = "ainet-bench-" + std::to_string(::getpid());
    const std::string ns[2] = {tag + "-s", tag + "-r"};
    const std::string link[2] = {"abs" + std::to_string(::getpid()),
                                 "abr" + std::to_string(::getpid())};
    const std::string ip[2] = {"10.213.0.1", "10.213.0.2"};
    auto remove_names = [&] {
        for (const auto& n : ns)
            sh("ip netns del " + n);
    };
    bool ok = sh("ip netns add " + ns[0]) && sh("ip netns add " + ns[1]) &&
              sh("ip link add " + link[0] + " type veth peer name " + link[1]);
    for (int i = 0; ok && i < 2; ++i) {
        const std::string in = "ip netns exec " + ns[i] + " ";
        // Each side drops loss_percent of what it sends: independent loss each way.
        const std::string rules =
            "add table inet ainet_bench_loss; "
            "add chain inet ainet_bench_loss out { type filter hook output priority 0; "
            "policy accept; }; "
            "add rule inet ainet_bench_loss out meta l4proto udp numgen random mod 100 < " +
            std::to_string(loss_percent) + " counter drop";
        ok = sh("ip link set " + link[i] + " netns " + ns[i]) &&
             sh(in + "ip link set lo up") &&
             sh(in + "ip addr add " + ip[i] + "/30 dev " + link[i]) &&
             sh(in + "ip link set " + link[i] + " up") &&
             (loss_percent == 0 || sh(in + "nft '" + rules + "'"));
    }
    lossy_path made;
    made.m_path.description = "two network namespaces over veth, " +
                              std::to_string(loss_percent) + "% random drop each way (nft)";
    path_end* ends[2] = {&made.m_path.sender, &made.m_path.receiver};
    for (int i = 0; ok && i < 2; ++i) {
        ends[i]->ip = ip[i];
        ends[i]->netns_fd = ::open(("/run/netns/" + ns[i]).c_str(), O_RDONLY | O_CLOEXEC);
        ok = ends[i]->netns_fd >= 0;
    }
    if (ok) {
        // The link needs a moment to come up; a probe ping would need ping installed, so wait
        // until the kernel reports the carrier instead.
        for (int attempt = 0; attempt < 100; ++attempt) {
            if (sh("ip netns exec " + ns[1] + " sh -c 'grep -q 1 /sys/class/net/" + link[1] +
                   "/carrier'"))
                break;
            ::usleep(20'000);
        }
    }
    // The descriptors keep the namespaces (and the veth pair inside them) alive; without the
    // names, they vanish with this process whatever way it ends.
    remove_names();
    if (!ok) {
        error = "could not set up the namespaces (ip netns, veth, nft): run as root on a kernel "
                "with network namespaces and nftables";
        return std::nullopt;
    }
    return made;
}

lossy_path::lossy_path(lossy_path&& other) noexcept : m_path(std::move(other.m_path)) {
    other.m_path.sender.netns_fd = -1;
    other.m_path.receiver.netns_fd = -1;
}

lossy_path::~lossy_path() {
    for (int fd : {m_path.sender.netns_fd, m_path.receiver.netns_fd})
        if (fd >= 0)
            ::close(fd);
}

} // namespace ainet::bench
