// Goal: route_table behaves exactly like a std::unordered_map capped at capacity_max under
// seeded random puts, erases and lookups (differential test), including long probe runs that
// wrap around the slot array and backward-shift deletion inside them, and it never allocates
// after construction.
#include "../support/allocation_counter.hpp"
#include "../support/rng.hpp"

#include <ainet/relay/route_table.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <unordered_map>

using namespace ainet;

namespace {

// Ids whose hashed bytes (std::hash<node_id> reads the first 8) are chosen, so tests can make
// many keys share a home slot. The other bytes keep them distinct.
node_id id_with_hash(uint64_t hash_bytes, uint32_t distinct) {
    node_id id;
    std::memcpy(id.bytes.data(), &hash_bytes, sizeof(hash_bytes));
    std::memcpy(id.bytes.data() + 16, &distinct, sizeof(distinct));
    return id;
}

endpoint endpoint_of(uint64_t value) {
    return make_ipv4(10, static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
                     static_cast<uint8_t>(value), static_cast<uint16_t>(1 + value % 60000));
}

void check_same(const relay::route_table& table, const std::unordered_map<node_id, endpoint>& model,
                const std::vector<node_id>& keys) {
    REQUIRE(table.size() == model.size());
    for (const node_id& key : keys) {
        const endpoint* found = table.find(key);
        const auto it = model.find(key);
        REQUIRE((found != nullptr) == (it != model.end()));
        if (found != nullptr)
            REQUIRE(*found == it->second);
    }
}

} // namespace

TEST_CASE("route_table matches an unordered_map model under seeded random operations", "[relay][route_table][property]") {
    auto rng = test::seeded_rng(41);
    INFO("seed " << Catch::rngSeed());
    for (int round = 0; round < 40; ++round) {
        const auto capacity = static_cast<uint32_t>(1 + rng() % (round % 4 == 0 ? 8 : 300));
        // Key pools: uniform keys, or keys crowded onto few hash values (long probe runs that
        // wrap around the array), a few more keys than the capacity so "full" happens.
        const bool crowded = round % 2 == 1;
        std::vector<node_id> keys;
        const size_t key_count = capacity + 1 + rng() % (capacity + 4);
        for (uint32_t i = 0; i < key_count; ++i) {
            // Crowded: three home slots, the last ones of the array, so runs wrap around.
            const uint64_t hash_bytes = crowded ? ~uint64_t{0} - rng() % 3 : rng();
            keys.push_back(id_with_hash(hash_bytes, i));
        }
        relay::route_table table(capacity);
        std::unordered_map<node_id, endpoint> model;
        for (int op = 0; op < 3000; ++op) {
            const node_id& key = keys[rng() % keys.size()];
            switch (rng() % 3) {
            case 0: {
                const endpoint at = endpoint_of(rng());
                const auto result = table.put(key, at);
                if (model.count(key)) {
                    REQUIRE(result == relay::route_table::put_result::updated);
                    model[key] = at;
                } else if (model.size() >= capacity) {
                    REQUIRE(result == relay::route_table::put_result::full);
                } else {
                    REQUIRE(result == relay::route_table::put_result::inserted);
                    model[key] = at;
                }
                break;
            }
            case 1:
                REQUIRE(table.erase(key) == (model.erase(key) == 1));
                break;
            default: {
                const endpoint* found = table.find(key);
                REQUIRE((found != nullptr) == (model.count(key) == 1));
                break;
            }
            }
            if (op % 97 == 0)
                check_same(table, model, keys);
        }
        check_same(table, model, keys);
        // The model allocates, so the table's own share is counted on operations without it.
        const uint64_t before = test::allocation_count();
        for (int op = 0; op < 500; ++op) {
            const node_id& key = keys[rng() % keys.size()];
            if (rng() % 2)
                (void)table.put(key, endpoint_of(op));
            else
                (void)table.erase(key);
        }
        REQUIRE(test::allocation_count() == before);
    }
}

TEST_CASE("route_table with capacity 0 holds nothing", "[relay][route_table]") {
    relay::route_table table(0);
    CHECK(table.put(id_with_hash(1, 1), endpoint_of(1)) == relay::route_table::put_result::full);
    CHECK(table.find(id_with_hash(1, 1)) == nullptr);
    CHECK_FALSE(table.erase(id_with_hash(1, 1)));
    CHECK(table.size() == 0);
}
