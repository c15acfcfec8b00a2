#include <ainet/merkle/reconcile.hpp>

#include <algorithm>
#include <cstring>

namespace ainet::merkle {
namespace {

constexpr size_t header_size_max = 64;

uint64_t position_count(uint8_t depth) noexcept { return uint64_t{1} << (bits_per_level * depth); }
size_t descendants(uint8_t levels) noexcept { return size_t{1} << (bits_per_level * levels); }

// Runs write(writer) on a buffer of size_max bytes appended to out; keeps what was written.
template <class Write>
size_t append(std::vector<uint8_t>& out, size_t size_max, Write write) {
    const size_t start = out.size();
    out.resize(start + size_max);
    byte_writer w(mutable_bytes(out.data() + start, size_max));
    write(w);
    const size_t written = w.finish().value();  // size_max is an upper bound: a bug otherwise
    out.resize(start + written);
    return written;
}

void write_positions(byte_writer& w, const std::vector<uint64_t>& prefixes) {
    w.varint(prefixes.size());
    for (size_t i = 0; i < prefixes.size(); ++i) {
        AINET_ASSERT(i == 0 || prefixes[i] > prefixes[i - 1]);
        w.varint(i == 0 ? prefixes[0] : prefixes[i] - prefixes[i - 1] - 1);
    }
}

// Reads count positions at depth, rejecting values outside the depth and any overflow.
result<std::vector<uint64_t>> read_positions(byte_reader& r, uint8_t depth, uint64_t count) {
    std::vector<uint64_t> out;
    out.reserve(static_cast<size_t>(std::min<uint64_t>(count, r.remaining())));
    const uint64_t limit = position_count(depth);
    for (uint64_t i = 0; i < count; ++i) {
        auto gap = r.varint();
        if (!gap)
            return fail(from_core(gap.error()));
        uint64_t value = *gap;
        if (i != 0) {
            if (value >= limit || out.back() >= limit - 1 - value)
                return fail(errc::bad_position);
            value += out.back() + 1;
        }
        if (value >= limit)
            return fail(errc::bad_position);
        out.push_back(value);
    }
    return out;
}

result<uint64_t> read_count(byte_reader& r, uint64_t max) {
    auto count = r.varint();
    if (!count)
        return fail(from_core(count.error()));
    if (*count > max)
        return fail(errc::bad_count);
    return *count;
}

result<uint8_t> read_u8(byte_reader& r) {
    auto v = r.u8();
    if (!v)
        return fail(from_core(v.error()));
    return *v;
}

result<uint64_t> read_u64(byte_reader& r) {
    auto v = r.u64();
    if (!v)
        return fail(from_core(v.error()));
    return *v;
}

result<void> expect_type(byte_reader& r, message_type type) {
    AINET_TRY(t, read_u8(r));
    if (t != static_cast<uint8_t>(type))
        return fail(errc::bad_message_type);
    return {};
}

bool same_fingerprint(const digest& d, uint64_t salt, uint8_t size, const uint8_t* remote) noexcept {
    std::array<uint8_t, digest_size> local{};
    fingerprint(d, salt, size, local.data());
    return std::memcmp(local.data(), remote, size) == 0;
}

} // namespace

bool valid_fingerprint_size(uint8_t size) noexcept { return size == 4 || size == 8 || size == 16; }

void fingerprint(const digest& d, uint64_t salt, uint8_t fingerprint_size, uint8_t* out) noexcept {
    AINET_ASSERT(valid_fingerprint_size(fingerprint_size));
    if (fingerprint_size == digest_size) {
        std::memcpy(out, d.bytes.data(), digest_size);
        return;
    }
    const uint64_t h = xxh3_64_seeded(d, salt);
    for (uint8_t i = 0; i < fingerprint_size; ++i)
        out[i] = static_cast<uint8_t>(h >> (8 * i));
}

descend_message make_descend(const tree& t, uint8_t parent_depth, uint8_t levels,
                             uint8_t fingerprint_size, uint64_t salt, std::vector<uint64_t> parents) {
    AINET_ASSERT(levels >= 1 && levels <= levels_per_message_max);
    AINET_ASSERT(parent_depth + levels <= t.config().leaf_depth);
    AINET_ASSERT(valid_fingerprint_size(fingerprint_size));
    descend_message m;
    m.parent_depth = parent_depth;
    m.levels = levels;
    m.fingerprint_size = fingerprint_size;
    m.salt = salt;
    if (parent_depth == 0)
        m.root = t.root();
    const size_t per_parent = descendants(levels);
    m.fingerprints.resize(parents.size() * per_parent * fingerprint_size);
    std::vector<digest> digests(per_parent);
    for (size_t i = 0; i < parents.size(); ++i) {
        t.descendant_digests(position{parent_depth, parents[i]}, levels, digests);
        for (size_t j = 0; j < per_parent; ++j)
            fingerprint(digests[j], salt, fingerprint_size,
                        m.fingerprints.data() + (i * per_parent + j) * fingerprint_size);
    }
    m.parents = std::move(parents);
    return m;
}

buckets_message make_buckets(const tree& t, uint8_t fingerprint_size, uint64_t salt,
                             const std::vector<uint64_t>& prefixes) {
    AINET_ASSERT(valid_fingerprint_size(fingerprint_size));
    buckets_message m;
    m.fingerprint_size = fingerprint_size;
    m.salt = salt;
    m.buckets.reserve(prefixes.size());
    for (uint64_t prefix : prefixes) {
        bucket_list list;
        list.prefix = prefix;
        const auto leaves = t.bucket(position{t.config().leaf_depth, prefix});
        list.fingerprints.resize(leaves.size() * fingerprint_size);
        for (size_t i = 0; i < leaves.size(); ++i) {
            list.key_hashes.push_back(leaves[i].key_hash);
            fingerprint(leaves[i].leaf_digest, salt, fingerprint_size, list.fingerprints.data() + i * fingerprint_size);
        }
        m.buckets.push_back(std::move(list));
    }
    return m;
}

size_t encode(const descend_message& m, std::vector<uint8_t>& out) {
    AINET_ASSERT(m.root.has_value() == (m.parent_depth == 0));
    AINET_ASSERT(m.fingerprints.size() == m.parents.size() * descendants(m.levels) * m.fingerprint_size);
    const size_t size_max = header_size_max + (m.parents.size() + 1) * varint_size_max + m.fingerprints.size();
    return append(out, size_max, [&](byte_writer& w) {
        w.u8(static_cast<uint8_t>(message_type::descend));
        w.u8(m.parent_depth);
        w.u8(m.levels);
        w.u8(m.fingerprint_size);
        w.u64(m.salt);
        if (m.root)
            w.bytes(bytes_view(m.root->bytes));
        write_positions(w, m.parents);
        w.bytes(bytes_view(m.fingerprints));
    });
}

size_t encode(const buckets_message& m, std::vector<uint8_t>& out) {
    size_t size_max = header_size_max + varint_size_max;
    for (const auto& b : m.buckets)
        size_max += 2 * varint_size_max + b.key_hashes.size() * 8 + b.fingerprints.size();
    return append(out, size_max, [&](byte_writer& w) {
        w.u8(static_cast<uint8_t>(message_type::buckets));
        w.u8(m.fingerprint_size);
        w.u64(m.salt);
        w.varint(m.buckets.size());
        for (size_t i = 0; i < m.buckets.size(); ++i) {
            const auto& b = m.buckets[i];
            AINET_ASSERT(i == 0 || b.prefix > m.buckets[i - 1].prefix);
            AINET_ASSERT(b.fingerprints.size() == b.key_hashes.size() * m.fingerprint_size);
            w.varint(i == 0 ? b.prefix : b.prefix - m.buckets[i - 1].prefix - 1);
            w.varint(b.key_hashes.size());
            for (size_t j = 0; j < b.key_hashes.size(); ++j) {
                w.u64(b.key_hashes[j]);
                w.bytes(bytes_view(b.fingerprints).subspan(j * m.fingerprint_size, m.fingerprint_size));
            }
        }
    });
}

size_t encode_wants(const std::vector<uint64_t>& key_hashes, std::vector<uint8_t>& out) {
    return append(out, 1 + varint_size_max + key_hashes.size() * 8, [&](byte_writer& w) {
        w.u8(static_cast<uint8_t>(message_type::wants));
        w.varint(key_hashes.size());
        for (size_t i = 0; i < key_hashes.size(); ++i) {
            AINET_ASSERT(i == 0 || key_hashes[i] > key_hashes[i - 1]);
            w.u64(key_hashes[i]);
        }
    });
}

size_t encode(const request_message& m, std::vector<uint8_t>& out) {
    return append(out, header_size_max + (m.positions.size() + 1) * varint_size_max, [&](byte_writer& w) {
        w.u8(static_cast<uint8_t>(message_type::request));
        w.u8(m.depth);
        write_positions(w, m.positions);
    });
}

result<message_type> peek_type(bytes_view input) noexcept {
    if (input.empty())
        return fail(errc::truncated);
    if (input[0] < 1 || input[0] > 4)
        return fail(errc::bad_message_type);
    return static_cast<message_type>(input[0]);
}

result<descend_message> decode_descend(bytes_view input, uint8_t leaf_depth) {
    byte_reader r(input);
    AINET_TRY_VOID(expect_type(r, message_type::descend));
    descend_message m;
    AINET_TRY(parent_depth, read_u8(r));
    AINET_TRY(levels, read_u8(r));
    AINET_TRY(fp_size, read_u8(r));
    if (levels < 1 || levels > levels_per_message_max || leaf_depth > leaf_depth_max ||
        parent_depth + levels > leaf_depth)
        return fail(errc::bad_depth);
    if (!valid_fingerprint_size(fp_size))
        return fail(errc::bad_fingerprint_size);
    m.parent_depth = parent_depth;
    m.levels = levels;
    m.fingerprint_size = fp_size;
    AINET_TRY(salt, read_u64(r));
    m.salt = salt;
    if (parent_depth == 0) {
        auto root = r.fixed<digest_size>();
        if (!root)
            return fail(from_core(root.error()));
        m.root = digest{*root};
    }
    const uint64_t per_parent_bytes = descendants(levels) * fp_size;
    AINET_TRY(count, read_count(r, std::min<uint64_t>(message_item_count_max, position_count(parent_depth))));
    if (count == 0)
        return fail(errc::bad_count);
    // Each parent takes at least one position byte plus its fingerprints: reject impossible
    // counts before reserving anything.
    if (count > r.remaining() / (per_parent_bytes + 1))
        return fail(errc::bad_count);
    AINET_TRY(parents, read_positions(r, parent_depth, count));
    m.parents = std::move(parents);
    if (r.remaining() != count * per_parent_bytes)
        return fail(r.remaining() < count * per_parent_bytes ? errc::truncated : errc::trailing_bytes);
    const auto rest = r.rest();
    m.fingerprints.assign(rest.begin(), rest.end());
    return m;
}

result<buckets_message> decode_buckets(bytes_view input, uint8_t leaf_depth) {
    if (leaf_depth < 1 || leaf_depth > leaf_depth_max)
        return fail(errc::bad_depth);
    byte_reader r(input);
    AINET_TRY_VOID(expect_type(r, message_type::buckets));
    buckets_message m;
    AINET_TRY(fp_size, read_u8(r));
    if (!valid_fingerprint_size(fp_size))
        return fail(errc::bad_fingerprint_size);
    m.fingerprint_size = fp_size;
    AINET_TRY(salt, read_u64(r));
    m.salt = salt;
    const uint64_t bucket_limit = position_count(leaf_depth);
    AINET_TRY(bucket_count, read_count(r, std::min<uint64_t>(message_item_count_max, bucket_limit)));
    if (bucket_count > r.remaining() / 2)  // a gap byte and a count byte at least
        return fail(errc::bad_count);
    m.buckets.reserve(static_cast<size_t>(bucket_count));
    for (uint64_t i = 0; i < bucket_count; ++i) {
        AINET_TRY(gap, read_count(r, bucket_limit - 1));
        uint64_t prefix = gap;
        if (i != 0) {
            const uint64_t previous = m.buckets.back().prefix;
            if (previous >= bucket_limit - 1 - gap)
                return fail(errc::bad_position);
            prefix = previous + 1 + gap;
        }
        AINET_TRY(leaf_count, read_count(r, r.remaining() / (8u + fp_size)));
        bucket_list list;
        list.prefix = prefix;
        list.key_hashes.reserve(static_cast<size_t>(leaf_count));
        list.fingerprints.reserve(static_cast<size_t>(leaf_count) * fp_size);
        for (uint64_t j = 0; j < leaf_count; ++j) {
            AINET_TRY(key_hash, read_u64(r));
            if (prefix_of(key_hash, leaf_depth) != prefix)
                return fail(errc::bad_position);
            if (j != 0 && key_hash <= list.key_hashes.back())
                return fail(errc::not_increasing);
            auto fp = r.bytes(fp_size);
            if (!fp)
                return fail(from_core(fp.error()));
            list.key_hashes.push_back(key_hash);
            list.fingerprints.insert(list.fingerprints.end(), fp->begin(), fp->end());
        }
        m.buckets.push_back(std::move(list));
    }
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    return m;
}

result<std::vector<uint64_t>> decode_wants(bytes_view input) {
    byte_reader r(input);
    AINET_TRY_VOID(expect_type(r, message_type::wants));
    AINET_TRY(count, read_count(r, std::min<uint64_t>(message_item_count_max, r.remaining() / 8)));
    std::vector<uint64_t> keys;
    keys.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
        AINET_TRY(key_hash, read_u64(r));
        if (i != 0 && key_hash <= keys.back())
            return fail(errc::not_increasing);
        keys.push_back(key_hash);
    }
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    return keys;
}

result<request_message> decode_request(bytes_view input, uint8_t leaf_depth) {
    byte_reader r(input);
    AINET_TRY_VOID(expect_type(r, message_type::request));
    request_message m;
    AINET_TRY(depth, read_u8(r));
    if (depth > leaf_depth || leaf_depth > leaf_depth_max)
        return fail(errc::bad_depth);
    m.depth = depth;
    AINET_TRY(count, read_count(r, std::min<uint64_t>({message_item_count_max, position_count(depth), r.remaining()})));
    AINET_TRY(positions, read_positions(r, depth, count));
    m.positions = std::move(positions);
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    return m;
}

std::vector<position> diff(const tree& t, const descend_message& m) {
    const size_t per_parent = descendants(m.levels);
    const auto child_depth = static_cast<uint8_t>(m.parent_depth + m.levels);
    AINET_ASSERT(child_depth <= t.config().leaf_depth);
    AINET_ASSERT(m.fingerprints.size() == m.parents.size() * per_parent * m.fingerprint_size);
    std::vector<position> out;
    std::vector<digest> digests(per_parent);
    for (size_t i = 0; i < m.parents.size(); ++i) {
        t.descendant_digests(position{m.parent_depth, m.parents[i]}, m.levels, digests);
        for (size_t j = 0; j < per_parent; ++j) {
            const uint8_t* remote = m.fingerprints.data() + (i * per_parent + j) * m.fingerprint_size;
            if (!same_fingerprint(digests[j], m.salt, m.fingerprint_size, remote))
                out.push_back(position{child_depth, (m.parents[i] << (bits_per_level * m.levels)) | j});
        }
    }
    return out;
}

std::vector<position> diff(const tree& t, std::span<const position> positions, std::span<const digest> remote) {
    AINET_ASSERT(positions.size() == remote.size());
    std::vector<position> out;
    for (size_t i = 0; i < positions.size(); ++i)
        if (t.node_digest(positions[i]) != remote[i])
            out.push_back(positions[i]);
    return out;
}

leaf_diff diff_buckets(const tree& t, const buckets_message& m) {
    leaf_diff out;
    const uint8_t leaf_depth = t.config().leaf_depth;
    for (const auto& b : m.buckets) {
        const auto local = t.bucket(position{leaf_depth, b.prefix});
        size_t i = 0;
        size_t j = 0;
        while (i < local.size() || j < b.key_hashes.size()) {
            if (j == b.key_hashes.size() || (i < local.size() && local[i].key_hash < b.key_hashes[j])) {
                out.send.push_back(local[i++].key_hash);
            } else if (i == local.size() || b.key_hashes[j] < local[i].key_hash) {
                out.want.push_back(b.key_hashes[j++]);
            } else {
                if (!same_fingerprint(local[i].leaf_digest, m.salt, m.fingerprint_size,
                                      b.fingerprints.data() + j * m.fingerprint_size)) {
                    out.send.push_back(local[i].key_hash);
                    out.want.push_back(b.key_hashes[j]);
                }
                ++i;
                ++j;
            }
        }
    }
    return out;
}

namespace {

std::vector<uint64_t> prefixes_of(const std::vector<position>& positions) {
    std::vector<uint64_t> out;
    out.reserve(positions.size());
    for (const auto& p : positions)
        out.push_back(p.prefix);
    return out;
}

// One side of the simulated exchange: the bytes it put on the wire, checked by decoding.
struct wire {
    reconcile_report& report;
    std::vector<uint8_t> buffer;

    bytes_view send(auto encode_fn) {
        buffer.clear();
        report.overhead_bytes += encode_fn(buffer);
        ++report.messages;
        return bytes_view(buffer);
    }
    // A message carrying only entries (payload, not counted as overhead).
    void send_entries() { ++report.messages; }
};

// The last two steps every strategy shares: the side that received bucket lists (receiver)
// knows the difference; it sends its entries plus the keys it wants, the other answers those.
void finish_leaf_exchange(wire& w, const tree& receiver, const buckets_message& m, bool receiver_is_a) {
    leaf_diff d = diff_buckets(receiver, m);
    auto& mine = receiver_is_a ? w.report.a_sends : w.report.b_sends;
    auto& theirs = receiver_is_a ? w.report.b_sends : w.report.a_sends;
    if (d.send.empty() && d.want.empty()) {
        w.report.missed = true;
        return;
    }
    if (d.want.empty()) {
        w.send_entries();
    } else {
        auto bytes = w.send([&](std::vector<uint8_t>& out) { return encode_wants(d.want, out); });
        AINET_ASSERT(decode_wants(bytes).value() == d.want);
        w.send_entries();  // the wanted entries
    }
    mine = std::move(d.send);
    theirs = std::move(d.want);
}

void run_multi_level(const tree& a, const tree& b, const reconcile_options& o, wire& w) {
    const uint8_t leaf_depth = a.config().leaf_depth;
    const auto first = static_cast<uint8_t>(std::min<int>(o.first_levels, leaf_depth));
    auto m = make_descend(a, 0, first, o.fingerprint_size, o.salt, {0});
    auto bytes = w.send([&](std::vector<uint8_t>& out) { return encode(m, out); });
    auto decoded = decode_descend(bytes, leaf_depth).value();
    if (decoded.root == b.root())
        return;
    std::vector<position> frontier = diff(b, decoded);
    bool sender_is_a = false;  // B found the frontier; B speaks next
    // Each step descends at least one level: bounded by leaf_depth + 1 steps.
    for (int step = 0; step <= leaf_depth_max + 1; ++step) {
        if (frontier.empty()) {
            w.report.missed = true;
            return;
        }
        const tree& sender = sender_is_a ? a : b;
        const tree& receiver = sender_is_a ? b : a;
        const uint8_t depth = frontier.front().depth;
        if (depth == leaf_depth) {
            auto bm = make_buckets(sender, o.fingerprint_size, o.salt, prefixes_of(frontier));
            auto bb = w.send([&](std::vector<uint8_t>& out) { return encode(bm, out); });
            finish_leaf_exchange(w, receiver, decode_buckets(bb, leaf_depth).value(), !sender_is_a);
            return;
        }
        const auto levels = static_cast<uint8_t>(std::min<int>(o.levels, leaf_depth - depth));
        auto dm = make_descend(sender, depth, levels, o.fingerprint_size, o.salt, prefixes_of(frontier));
        auto db = w.send([&](std::vector<uint8_t>& out) { return encode(dm, out); });
        frontier = diff(receiver, decode_descend(db, leaf_depth).value());
        sender_is_a = !sender_is_a;
    }
    AINET_UNREACHABLE();
}

void run_one_level(const tree& a, const tree& b, const reconcile_options& o, wire& w) {
    const uint8_t leaf_depth = a.config().leaf_depth;
    std::vector<position> frontier{position{0, 0}};
    for (int step = 0; step <= leaf_depth_max + 1; ++step) {
        if (frontier.empty()) {
            w.report.missed = true;
            return;
        }
        const uint8_t depth = frontier.front().depth;
        request_message q{depth, prefixes_of(frontier)};
        auto qb = w.send([&](std::vector<uint8_t>& out) { return encode(q, out); });
        auto asked = decode_request(qb, leaf_depth).value();
        if (depth == leaf_depth) {
            auto bm = make_buckets(b, o.fingerprint_size, o.salt, asked.positions);
            auto bb = w.send([&](std::vector<uint8_t>& out) { return encode(bm, out); });
            finish_leaf_exchange(w, a, decode_buckets(bb, leaf_depth).value(), true);
            return;
        }
        auto dm = make_descend(b, depth, 1, o.fingerprint_size, o.salt, asked.positions);
        auto db = w.send([&](std::vector<uint8_t>& out) { return encode(dm, out); });
        auto decoded = decode_descend(db, leaf_depth).value();
        if (depth == 0 && decoded.root == a.root())
            return;
        frontier = diff(a, decoded);
    }
    AINET_UNREACHABLE();
}

void run_whole_state(const tree& a, const tree& b, wire& w) {
    const uint8_t leaf_depth = a.config().leaf_depth;
    std::vector<uint64_t> prefixes;
    for (const leaf& l : a.leaves())
        if (prefixes.empty() || prefixes.back() != prefix_of(l.key_hash, leaf_depth))
            prefixes.push_back(prefix_of(l.key_hash, leaf_depth));
    auto bm = make_buckets(a, digest_size, 0, prefixes);
    auto bb = w.send([&](std::vector<uint8_t>& out) { return encode(bm, out); });
    auto decoded = decode_buckets(bb, leaf_depth).value();
    leaf_diff d = diff_buckets(b, decoded);
    // B also holds keys in buckets A did not list: it sends all of those.
    for (const leaf& l : b.leaves())
        if (!std::binary_search(prefixes.begin(), prefixes.end(), prefix_of(l.key_hash, leaf_depth)))
            d.send.push_back(l.key_hash);
    std::sort(d.send.begin(), d.send.end());
    if (d.send.empty() && d.want.empty())
        return;
    if (d.want.empty()) {
        w.send_entries();
    } else {
        (void)w.send([&](std::vector<uint8_t>& out) { return encode_wants(d.want, out); });
        w.send_entries();
    }
    w.report.b_sends = std::move(d.send);
    w.report.a_sends = std::move(d.want);
}

} // namespace

reconcile_report simulate_reconcile(const tree& a, const tree& b, const reconcile_options& options) {
    AINET_ASSERT(a.config().leaf_depth == b.config().leaf_depth);
    AINET_ASSERT(valid_fingerprint_size(options.fingerprint_size));
    AINET_ASSERT(options.levels >= 1 && options.levels <= levels_per_message_max);
    AINET_ASSERT(options.first_levels >= 1 && options.first_levels <= levels_per_message_max);
    reconcile_report report;
    wire w{report, {}};
    switch (options.how) {
    case strategy::whole_state: run_whole_state(a, b, w); break;
    case strategy::one_level: run_one_level(a, b, options, w); break;
    case strategy::multi_level: run_multi_level(a, b, options, w); break;
    }
    report.round_trips = (report.messages + 1) / 2;
    return report;
}

std::string_view to_string(strategy s) noexcept {
    switch (s) {
    case strategy::whole_state: return "whole_state";
    case strategy::one_level: return "one_level";
    case strategy::multi_level: return "multi_level";
    }
    return "unknown";
}

} // namespace ainet::merkle
