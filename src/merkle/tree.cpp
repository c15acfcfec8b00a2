#include <ainet/merkle/tree.hpp>

#include <algorithm>
#include <bit>

namespace ainet::merkle {

static_assert(std::endian::native == std::endian::little,
              "bucket hashes read key hashes as little-endian in-memory bytes");
static_assert(sizeof(digest) * fanout == 256, "an inner node hashes 256 bytes");

namespace {

uint8_t nibble(uint64_t key_hash, uint8_t depth) noexcept {
    // The child slot taken at `depth` on the way down: bits [60 - 4*depth, 64 - 4*depth).
    return static_cast<uint8_t>((key_hash >> (60 - bits_per_level * depth)) & 0xf);
}

} // namespace

tree::tree(const tree_config& config)
    : m_config(config), m_backend(resolve(config.backend)), m_hash(hash_function(m_backend)) {
    AINET_ASSERT(config.leaf_depth >= 1 && config.leaf_depth <= leaf_depth_max);
    AINET_ASSERT(config.entry_count_max >= 1);
    inner_node root_node;
    root_node.child.fill(none);
    m_inner[0].push_back(root_node);
}

void tree::set_backend(hash_backend backend) noexcept {
    m_backend = resolve(backend);
    m_hash = hash_function(m_backend);
}

uint32_t tree::new_inner(uint8_t depth, uint32_t parent, uint8_t slot) {
    auto& pool = m_inner[depth];
    uint32_t index;
    if (!m_inner_free[depth].empty()) {
        index = m_inner_free[depth].back();
        m_inner_free[depth].pop_back();
    } else {
        AINET_ASSERT(pool.size() < none);
        index = static_cast<uint32_t>(pool.size());
        pool.emplace_back();
    }
    inner_node& node = pool[index];
    node.child_digest.fill(empty_digest);
    node.child.fill(none);
    node.parent = parent;
    node.slot = slot;
    node.child_count = 0;
    node.dirty = false;
    return index;
}

uint32_t tree::new_bucket(uint32_t parent, uint8_t slot) {
    uint32_t index;
    if (!m_bucket_free.empty()) {
        index = m_bucket_free.back();
        m_bucket_free.pop_back();
    } else {
        AINET_ASSERT(m_buckets.size() < none);
        index = static_cast<uint32_t>(m_buckets.size());
        m_buckets.emplace_back();
    }
    bucket_node& b = m_buckets[index];
    AINET_ASSERT(b.leaves.empty());
    b.parent = parent;
    b.slot = slot;
    b.dirty = false;
    return index;
}

void tree::mark_inner(uint8_t depth, uint32_t index) noexcept {
    inner_node& node = m_inner[depth][index];
    if (!node.dirty) {
        node.dirty = true;
        m_inner_dirty[depth].push_back(index);
    }
    m_dirty_count = 1;
}

void tree::mark_bucket(uint32_t index) noexcept {
    bucket_node& b = m_buckets[index];
    if (!b.dirty) {
        b.dirty = true;
        m_bucket_dirty.push_back(index);
    }
    m_dirty_count = 1;
}

result<void> tree::upsert(uint64_t key_hash, const digest& leaf_digest) {
    const uint8_t leaf_depth = m_config.leaf_depth;
    if (m_entry_count >= m_config.entry_count_max) {
        // Full: only replacing an existing key is allowed. Checked before anything changes.
        const auto existing = bucket(position{leaf_depth, prefix_of(key_hash, leaf_depth)});
        if (!std::binary_search(existing.begin(), existing.end(), leaf{key_hash, {}},
                                [](const leaf& a, const leaf& b) { return a.key_hash < b.key_hash; }))
            return fail(errc::tree_full);
    }
    uint32_t index = 0;
    for (uint8_t depth = 0; depth < leaf_depth; ++depth) {
        const uint8_t slot = nibble(key_hash, depth);
        uint32_t child = m_inner[depth][index].child[slot];
        if (child == none) {
            child = depth + 1 < leaf_depth ? new_inner(static_cast<uint8_t>(depth + 1), index, slot)
                                           : new_bucket(index, slot);
            inner_node& node = m_inner[depth][index];
            node.child[slot] = child;
            ++node.child_count;
        }
        mark_inner(depth, index);
        index = child;
    }
    auto& leaves = m_buckets[index].leaves;
    auto it = std::lower_bound(leaves.begin(), leaves.end(), key_hash,
                               [](const leaf& l, uint64_t k) { return l.key_hash < k; });
    if (it != leaves.end() && it->key_hash == key_hash) {
        it->leaf_digest = leaf_digest;
    } else {
        leaves.insert(it, leaf{key_hash, leaf_digest});
        ++m_entry_count;
    }
    mark_bucket(index);
    return {};
}

bool tree::erase(uint64_t key_hash) noexcept {
    const uint8_t leaf_depth = m_config.leaf_depth;
    std::array<uint32_t, leaf_depth_max + 1> path{};
    uint32_t index = 0;
    for (uint8_t depth = 0; depth < leaf_depth; ++depth) {
        path[depth] = index;
        index = m_inner[depth][index].child[nibble(key_hash, depth)];
        if (index == none)
            return false;
    }
    auto& leaves = m_buckets[index].leaves;
    auto it = std::lower_bound(leaves.begin(), leaves.end(), key_hash,
                               [](const leaf& l, uint64_t k) { return l.key_hash < k; });
    if (it == leaves.end() || it->key_hash != key_hash)
        return false;
    leaves.erase(it);
    --m_entry_count;
    for (uint8_t depth = 0; depth < leaf_depth; ++depth)
        mark_inner(depth, path[depth]);
    if (!leaves.empty()) {
        mark_bucket(index);
        return true;
    }
    // Release the empty bucket, then every inner node left without children (never the root).
    // A released node may still sit in a dirty list; its cleared flag makes rehash skip it.
    m_buckets[index].dirty = false;
    m_bucket_free.push_back(index);
    uint8_t depth = static_cast<uint8_t>(leaf_depth - 1);
    uint8_t slot = nibble(key_hash, depth);
    for (;;) {
        inner_node& parent = m_inner[depth][path[depth]];
        parent.child[slot] = none;
        parent.child_digest[slot] = empty_digest;
        --parent.child_count;
        if (parent.child_count != 0 || depth == 0)
            break;
        parent.dirty = false;
        m_inner_free[depth].push_back(path[depth]);
        --depth;
        slot = nibble(key_hash, depth);
    }
    return true;
}

void tree::rehash() noexcept {
    if (m_dirty_count == 0)
        return;
    const uint8_t leaf_depth = m_config.leaf_depth;
    auto& bottom = m_inner[leaf_depth - 1];
    for (uint32_t index : m_bucket_dirty) {
        bucket_node& b = m_buckets[index];
        if (!b.dirty)
            continue;
        b.dirty = false;
        AINET_ASSERT(!b.leaves.empty());
        bottom[b.parent].child_digest[b.slot] = m_hash(b.leaves.data(), b.leaves.size() * sizeof(leaf));
        ++m_hash_count;
    }
    m_bucket_dirty.clear();
    for (int depth = leaf_depth - 1; depth >= 0; --depth) {
        auto& pool = m_inner[static_cast<size_t>(depth)];
        auto& dirty_list = m_inner_dirty[static_cast<size_t>(depth)];
        for (size_t i = 0; i < dirty_list.size(); ++i) {
            inner_node& node = pool[dirty_list[i]];
            if (i + 1 < dirty_list.size())
                __builtin_prefetch(&pool[dirty_list[i + 1]]);
            if (!node.dirty)
                continue;
            node.dirty = false;
            digest d = empty_digest;
            if (node.child_count != 0) {
                d = m_hash(node.child_digest.data(), sizeof(node.child_digest));
                ++m_hash_count;
            }
            if (depth == 0)
                m_root = d;
            else
                m_inner[static_cast<size_t>(depth - 1)][node.parent].child_digest[node.slot] = d;
        }
        dirty_list.clear();
    }
    m_dirty_count = 0;
}

digest tree::root() const noexcept {
    AINET_ASSERT(!dirty());
    return m_root;
}

uint32_t tree::find(position pos) const noexcept {
    AINET_ASSERT(pos.depth <= m_config.leaf_depth);
    uint32_t index = 0;
    for (uint8_t depth = 0; depth < pos.depth; ++depth) {
        const auto slot = static_cast<uint8_t>((pos.prefix >> (bits_per_level * (pos.depth - 1 - depth))) & 0xf);
        index = m_inner[depth][index].child[slot];
        if (index == none)
            return none;
    }
    return index;
}

digest tree::node_digest(position pos) const noexcept {
    AINET_ASSERT(!dirty());
    if (pos.depth == 0)
        return m_root;
    const uint32_t parent = find(position{static_cast<uint8_t>(pos.depth - 1), pos.prefix >> bits_per_level});
    if (parent == none)
        return empty_digest;
    return m_inner[pos.depth - 1u][parent].child_digest[pos.prefix & 0xf];
}

void tree::descendant_digests(position pos, uint8_t levels, std::span<digest> out) const noexcept {
    AINET_ASSERT(!dirty());
    AINET_ASSERT(levels >= 1 && pos.depth + levels <= m_config.leaf_depth);
    AINET_ASSERT(out.size() == size_t{1} << (bits_per_level * levels));
    const uint32_t start = find(pos);
    if (start == none) {
        std::fill(out.begin(), out.end(), empty_digest);
        return;
    }
    // Recursion depth is levels (<= leaf_depth_max); each call fills 16^levels digests.
    auto fill = [&](auto& self, uint8_t depth, uint32_t index, uint8_t left, std::span<digest> dst) -> void {
        const inner_node& node = m_inner[depth][index];
        if (left == 1) {
            std::copy(node.child_digest.begin(), node.child_digest.end(), dst.begin());
            return;
        }
        const size_t stride = dst.size() / fanout;
        for (size_t slot = 0; slot < fanout; ++slot) {
            auto part = dst.subspan(slot * stride, stride);
            if (node.child[slot] == none)
                std::fill(part.begin(), part.end(), empty_digest);
            else
                self(self, static_cast<uint8_t>(depth + 1), node.child[slot], static_cast<uint8_t>(left - 1), part);
        }
    };
    fill(fill, pos.depth, start, levels, out);
}

std::span<const leaf> tree::bucket(position pos) const noexcept {
    AINET_ASSERT(pos.depth == m_config.leaf_depth);
    const uint32_t index = find(pos);
    if (index == none)
        return {};
    return m_buckets[index].leaves;
}

std::vector<leaf> tree::leaves() const {
    std::vector<leaf> out;
    out.reserve(m_entry_count);
    // Walk in prefix order so the output is sorted by key hash.
    auto walk = [&](auto& self, uint8_t depth, uint32_t index) -> void {
        if (depth == m_config.leaf_depth) {
            const auto& l = m_buckets[index].leaves;
            out.insert(out.end(), l.begin(), l.end());
            return;
        }
        for (uint32_t child : m_inner[depth][index].child)
            if (child != none)
                self(self, static_cast<uint8_t>(depth + 1), child);
    };
    walk(walk, 0, 0);
    return out;
}

size_t tree::memory_bytes() const noexcept {
    size_t total = sizeof(*this);
    for (size_t depth = 0; depth < leaf_depth_max; ++depth) {
        total += m_inner[depth].capacity() * sizeof(inner_node);
        total += (m_inner_free[depth].capacity() + m_inner_dirty[depth].capacity()) * sizeof(uint32_t);
    }
    total += m_buckets.capacity() * sizeof(bucket_node);
    total += (m_bucket_free.capacity() + m_bucket_dirty.capacity()) * sizeof(uint32_t);
    for (const auto& b : m_buckets)
        total += b.leaves.capacity() * sizeof(leaf);
    return total;
}

} // namespace ainet::merkle
