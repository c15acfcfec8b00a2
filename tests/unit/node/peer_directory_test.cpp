// Goal: readers always see a whole, id-sorted snapshot, and partition transitions are visible
// through the epoch even to a reader that looks rarely.
#include <ainet/node/peer_directory.hpp>

#include <catch2/catch.hpp>

#include <thread>

using namespace ainet;
using namespace ainet::node;

namespace {
node_id id_of(uint8_t n) {
    node_id id{};
    id.bytes[0] = n;
    return id;
}
} // namespace

TEST_CASE("peer directory publishes sorted snapshots", "[node][peers]") {
    peer_directory directory;
    CHECK(directory.snapshot()->peers.empty());
    peer_snapshot s;
    for (uint8_t n : {uint8_t{5}, uint8_t{1}, uint8_t{3}, uint8_t{1}})
        s.peers.push_back(peer_info{.id = id_of(n), .udp = make_ipv4(127, 0, 0, n, 9000)});
    s.partition_epoch = 1;
    s.partition_suspected = true;
    s.unreachable = {id_of(5), id_of(3)};
    directory.publish(s);
    auto snap = directory.snapshot();
    REQUIRE(snap->peers.size() == 3);
    CHECK(snap->peers[0].id == id_of(1));
    CHECK(snap->peers[2].id == id_of(5));
    CHECK(snap->find(id_of(3)) != nullptr);
    CHECK(snap->find(id_of(4)) == nullptr);
    CHECK(snap->unreachable.front() == id_of(3));
    CHECK(snap->partition_epoch == 1);
}

TEST_CASE("peer directory readers on other threads see whole snapshots", "[node][peers]") {
    peer_directory directory;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> torn{0};
    std::thread reader([&] {
        while (!stop.load()) {
            auto snap = directory.snapshot();
            // Every published snapshot has as many peers as its epoch says.
            if (snap->peers.size() != snap->partition_epoch)
                torn++;
        }
    });
    for (uint8_t n = 1; n <= 200; ++n) {
        peer_snapshot s;
        for (uint8_t i = 1; i <= n; ++i)
            s.peers.push_back(peer_info{.id = id_of(i)});
        s.partition_epoch = n;
        directory.publish(std::move(s));
    }
    stop = true;
    reader.join();
    CHECK(torn == 0);
}
