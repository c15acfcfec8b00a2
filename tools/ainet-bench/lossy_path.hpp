#pragma once
// Where the two ends of an ainet-bench measurement live, and the lossy path of issue #8: two
// network namespaces joined by a veth pair, with an nftables rule in each dropping a given
// percentage of the UDP datagrams it sends (so loss is independent in each direction). There is
// no `tc netem` on our kernels; nft's `numgen random` gives the random drop.
//
// A socket belongs to the namespace its creating thread was in, for life; so an end creates its
// sockets inside a netns_scope and its threads may run anywhere. The namespaces are held by
// file descriptor only: their names are removed right after set-up, so nothing outlives the
// process even when it is killed. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), `ip` and `nft`.

#include <optional>
#include <string>

namespace ainet::bench {

struct path_end {
    std::string ip = "127.0.0.1";
    int netns_fd = -1; // -1: the process's own namespace
};

struct bench_path {
    path_end sender;
    path_end receiver;
    std::string description = "loopback";
};

// Enters fd's network namespace on this thread for the scope's lifetime (fd -1: no-op).
class netns_scope {
public:
    explicit netns_scope(int netns_fd);
    ~netns_scope();
    netns_scope(const netns_scope&) = delete;
    netns_scope& operator=(const netns_scope&) = delete;
    [[nodiscard]] bool ok() const noexcept { return m_ok; }

private:
    int m_original = -1;
    bool m_ok = true;
};

class lossy_path {
public:
    // Sets up the two namespaces; on failure returns nullopt with the reason in error (and
    // removes whatever it had made).
    [[nodiscard]] static std::optional<lossy_path> create(unsigned loss_percent,
                                                          std::string& error);
    lossy_path(lossy_path&& other) noexcept;
    lossy_path& operator=(lossy_path&&) = delete;
    lossy_path(const lossy_path&) = delete;
    ~lossy_path();

    [[nodiscard]] const bench_path& path() const noexcept { return m_path; }

private:
    lossy_path() = default;
    bench_path m_path;
};

} // namespace ainet::bench
