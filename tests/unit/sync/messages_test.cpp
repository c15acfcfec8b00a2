// Goal: sync messages round-trip, stay within 1,200 bytes, and decoders reject every
// truncation and malformed prefix without crashing.
#include "../support/rng.hpp"
#include "../registry/registry_test_support.hpp"

#include <ainet/sync/messages.hpp>

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::test;

TEST_CASE("sync messages round-trip and reject truncations", "[sync][messages]") {
    std::vector<uint8_t> out(sync::sync_datagram_size_max);
    const sync::prefix p{0x1122334455667788ull, 3, 1, 2};
    std::vector<std::vector<uint8_t>> encoded;

    sync::begin_body b;
    b.salt = 99;
    b.root.bytes[0] = 7;
    b.entry_count = 12345;
    b.vv = registry::version_vector{{registry::origin_id{1}, 5}, {registry::origin_id{9}, 300}};
    auto size = sync::encode_begin(p, b, out);
    encoded.emplace_back(out.begin(), out.begin() + static_cast<ptrdiff_t>(size));
    auto m = sync::decode(encoded.back(), 4);
    REQUIRE(m);
    CHECK(m->head.session == p.session);
    CHECK(m->head.chunk_index == 1);
    CHECK(m->begin.vv == b.vv);
    CHECK(m->begin.entry_count == 12345);

    sync::reply_body r;
    r.mode = sync::reply_mode::delta;
    size = sync::encode_reply(p, r, out);
    encoded.emplace_back(out.begin(), out.begin() + static_cast<ptrdiff_t>(size));
    CHECK(sync::decode(encoded.back(), 4)->reply.mode == sync::reply_mode::delta);

    auto e = registry::make_stored(registry::make_entry(writer_keys(1), std::string(registry::name_size_max, 'n'),
                                                        std::string(registry::value_size_max, 'v'), 5));
    std::vector<std::pair<registry::entry_ptr, registry::dot>> list{{e, registry::dot{registry::origin_id{3}, 1u << 30}}};
    size = sync::encode_entries(p, list, out);
    CHECK(size <= sync::sync_datagram_size_max);
    encoded.emplace_back(out.begin(), out.begin() + static_cast<ptrdiff_t>(size));
    auto em = sync::decode(encoded.back(), 4);
    REQUIRE(em);
    REQUIRE(em->entries.size() == 1);
    CHECK(std::equal(em->entries[0].wire.begin(), em->entries[0].wire.end(), e->wire.begin(), e->wire.end()));
    CHECK(em->entries[0].d.counter == (1u << 30));

    size = sync::encode_end(p, sync::end_body{sync::end_status::converged, {}}, out);
    encoded.emplace_back(out.begin(), out.begin() + static_cast<ptrdiff_t>(size));
    CHECK(sync::decode(encoded.back(), 4)->end.status == sync::end_status::converged);

    for (const auto& d : encoded) {
        for (size_t cut = 0; cut < d.size(); ++cut)
            CHECK_FALSE(sync::decode(bytes_view(d).first(cut), 4));
    }
    // chunk_index >= chunk_count is rejected.
    auto bad = encoded.back();
    bad[wire::header_size + 9] = 5;
    bad[wire::header_size + 11] = 2;
    CHECK(sync::decode(bad, 4).error() == sync::errc::bad_chunk);
    // Random bytes never crash the decoder.
    auto rng = seeded_rng(90);
    for (int i = 0; i < 20000; ++i) {
        auto d = encoded[rng() % encoded.size()];
        d[rng() % d.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
        (void)sync::decode(d, 4);
    }
}

#include <filesystem>
#include <fstream>

TEST_CASE("the fuzz seed corpora hold valid messages and entries", "[sync][messages][corpus]") {
    namespace fs = std::filesystem;
    const fs::path root(AINET_SOURCE_ROOT);
    size_t sync_seeds = 0;
    for (const auto& f : fs::directory_iterator(root / "fuzz/corpus/sync_messages")) {
        std::ifstream in(f.path(), std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        REQUIRE(bytes.size() > 1);
        INFO(f.path().string());
        CHECK(sync::decode(bytes_view(bytes).subspan(1), static_cast<uint8_t>(1 + bytes[0] % 5)));
        ++sync_seeds;
    }
    CHECK(sync_seeds >= 7);
    for (const char* name : {"small", "tombstone", "largest"}) {
        std::ifstream in(root / "fuzz/corpus/registry_entry" / name, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
        INFO(name);
        CHECK(registry::decode(bytes));
    }
}
