#include <ainet/merkle/tree.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace ainet::merkle {

static_assert(std::endian::native == std::endian::little,
              "bucket hashes read key hashes as little-endian in-memory bytes");
static_assert(sizeof(digest) * fanout == 256, "an inner node hashes 256 bytes");
static_assert(bits_per_level * leaf_depth_max <= 32, "bucket prefixes fit the sort key's top 32 bits");
static_assert(pending_count_max <= UINT32_MAX, "log indexes fit the sort key's low 32 bits");

namespace {

// How far ahead apply_pending and rehash prefetch: the bucket slot at this distance, its leaves
// at half of it (by then the slot is in cache).
constexpr size_t prefetch_distance = 16;
// Log capacity (entries) kept between batches; a larger log is freed once applied.
constexpr size_t log_capacity_kept = 4096;
// Logs up to this size are sorted by insertion sort; longer ones by radix sort.
constexpr size_t insertion_sort_max = 32;

size_t node_count(uint8_t depth) noexcept { return size_t{1} << (bits_per_level * depth); }

// std::lower_bound by key_hash without data-dependent branches: a bucket is a few cache lines
// of random keys, so a branchy search mispredicts about every other step.
size_t lower_bound_index(const leaf* leaves, size_t count, uint64_t key_hash) noexcept {
    const leaf* base = leaves;
    size_t size = count;
    if (size == 0)
        return 0;
    while (size > 1) {
        const size_t half = size / 2;
        base = base[half - 1].key_hash < key_hash ? base + half : base;
        size -= half;
    }
    return static_cast<size_t>(base - leaves) + (base->key_hash < key_hash ? 1 : 0);
}

// Leaves a bucket block gets: on growth (+25%, at least one) and at compaction (+1/8).
uint32_t grown_capacity(uint32_t count) noexcept { return count + 1 + count / 4; }
uint32_t compact_capacity(uint32_t count) noexcept { return count + count / 8; }

void prefetch(const void* p) noexcept {
#if defined(__x86_64__)
    // GCC 12 deletes __builtin_prefetch in a loop with a data-dependent trip count once the
    // loop is inlined (observed in prefetch_range); an asm statement it must keep.
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}

// Prefetches every cache line of `size` bytes at `data` (at most max_lines of them).
void prefetch_range(const void* data, size_t size, size_t max_lines) noexcept {
    const auto* p = static_cast<const char*>(data);
    const size_t lines = std::min((size + 63) / 64, max_lines);
    for (size_t i = 0; i < lines; ++i)
        prefetch(p + 64 * i);
}

// A bucket's leaves: prefetched whole up to this many cache lines (a 1M-entry tree at leaf
// depth 4 averages 15 leaves, 6 lines).
constexpr size_t bucket_prefetch_lines = 12;

bool all_zero(const digest* children) noexcept {
    uint64_t acc = 0;
    for (size_t i = 0; i < fanout; ++i) {
        uint64_t half[2];
        std::memcpy(half, children[i].bytes.data(), sizeof(half));
        acc |= half[0] | half[1];
    }
    return acc == 0;
}

// Stable LSD radix sort of `keys` by bits [32, 32 + prefix_bits), 8 bits per pass. The low 32
// bits (log indexes) are already ascending, so equal prefixes keep log order.
void radix_sort(std::vector<uint64_t>& keys, std::vector<uint64_t>& scratch, unsigned prefix_bits) {
    scratch.resize(keys.size());
    for (unsigned shift = 32; shift < 32 + prefix_bits; shift += 8) {
        std::array<uint32_t, 256> count{};
        for (uint64_t k : keys)
            ++count[(k >> shift) & 0xff];
        uint32_t sum = 0;
        for (auto& c : count) {
            const uint32_t here = c;
            c = sum;
            sum += here;
        }
        for (uint64_t k : keys)
            scratch[count[(k >> shift) & 0xff]++] = k;
        keys.swap(scratch);
    }
}

} // namespace

namespace detail {

namespace {
constexpr size_t huge_page_size = size_t{2} << 20;
}

// Large blocks are mapped directly (not through malloc) so that freeing one returns its pages:
// huge pages left in malloc's heap after the arena moves would stay resident.
void* allocate_arena(size_t bytes) {
    if (bytes < huge_page_size)
        return ::operator new(bytes);
    const size_t rounded = (bytes + huge_page_size - 1) & ~(huge_page_size - 1);
    // Over-map by one huge page, then unmap the unaligned head and the tail.
    void* raw = mmap(nullptr, rounded + huge_page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        throw std::bad_alloc();
    const auto raw_start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t start = (raw_start + huge_page_size - 1) & ~uintptr_t{huge_page_size - 1};
    if (start != raw_start)
        (void)munmap(raw, start - raw_start);
    const uintptr_t tail = raw_start + rounded + huge_page_size - (start + rounded);
    if (tail != 0)
        (void)munmap(reinterpret_cast<void*>(start + rounded), tail);
    (void)madvise(reinterpret_cast<void*>(start), rounded, MADV_HUGEPAGE);  // a hint only
    return reinterpret_cast<void*>(start);
}

void deallocate_arena(void* block, size_t bytes) noexcept {
    if (bytes < huge_page_size) {
        ::operator delete(block);
        return;
    }
    const size_t rounded = (bytes + huge_page_size - 1) & ~(huge_page_size - 1);
    (void)munmap(block, rounded);
}

} // namespace detail

tree::tree(const tree_config& config)
    : m_config(config), m_backend(resolve(config.backend)), m_hash(hash_function(m_backend)) {
    AINET_ASSERT(config.leaf_depth >= 1 && config.leaf_depth <= leaf_depth_max);
    AINET_ASSERT(config.entry_count_max >= 1);
    for (uint8_t depth = 1; depth <= config.leaf_depth; ++depth)
        m_digests[depth].assign(node_count(depth), empty_digest);
    const size_t bucket_count = node_count(config.leaf_depth);
    m_slots.resize(bucket_count);
    m_dirty_bits.assign((bucket_count + 63) / 64, 0);
}

void tree::set_backend(hash_backend backend) noexcept {
    m_backend = resolve(backend);
    m_hash = hash_function(m_backend);
}

void tree::mark_dirty(uint32_t bucket_index) noexcept {
    uint64_t& word = m_dirty_bits[bucket_index / 64];
    const uint64_t bit = uint64_t{1} << (bucket_index % 64);
    if ((word & bit) != 0)
        return;
    word |= bit;
    if (!m_dirty.empty() && m_dirty.back() > bucket_index)
        m_dirty_unsorted = true;
    m_dirty.push_back(bucket_index);
}

result<void> tree::upsert(uint64_t key_hash, const digest& leaf_digest) {
    if (m_pending.size() >= pending_count_max)
        apply_pending();
    if (m_entry_count + m_pending.size() >= m_config.entry_count_max) {
        // Possibly full: decide exactly on the applied state (only replacing is allowed then).
        apply_pending();
        if (m_entry_count >= m_config.entry_count_max) {
            const bucket_slot& slot = m_slots[prefix_of(key_hash, m_config.leaf_depth)];
            const leaf* leaves = leaves_of(slot);
            const size_t index = lower_bound_index(leaves, slot.count, key_hash);
            if (index == slot.count || leaves[index].key_hash != key_hash)
                return fail(errc::tree_full);
        }
    }
    m_pending.push_back(leaf{key_hash, leaf_digest});
    return {};
}

void tree::compact() {
    size_t total = 0;
    for (const bucket_slot& slot : m_slots)
        total += compact_capacity(slot.count);
    AINET_ASSERT(total <= UINT32_MAX);
    leaf_arena next;
    next.reserve(total + total / 16);
    for (bucket_slot& slot : m_slots) {
        if (slot.count == 0) {
            slot = bucket_slot{};
            continue;
        }
        const auto offset = static_cast<uint32_t>(next.size());
        next.insert(next.end(), leaves_of(slot), leaves_of(slot) + slot.count);
        slot.offset = offset;
        slot.capacity = compact_capacity(slot.count);
        next.resize(offset + size_t{slot.capacity});
    }
    m_arena.swap(next);
    m_arena_garbage = 0;
}

void tree::grow(bucket_slot& slot) {
    AINET_ASSERT(slot.count == slot.capacity);
    const uint32_t capacity = grown_capacity(slot.count);
    if (m_arena.size() + capacity > m_arena.capacity()) {
        // The arena would grow: first drop the abandoned blocks if they are a fifth of it.
        if (4 * m_arena_garbage > m_arena.size() - m_arena_garbage) {
            compact();
            if (slot.count < slot.capacity)
                return;
        }
        if (m_arena.size() + capacity > m_arena.capacity()) {
            const size_t needed = m_arena.size() + capacity;
            m_arena.reserve(needed + needed / 8);
        }
    }
    const size_t offset = m_arena.size();
    AINET_ASSERT(offset + capacity <= UINT32_MAX);
    m_arena.resize(offset + capacity);
    std::copy_n(leaves_of(slot), slot.count, m_arena.data() + offset);
    m_arena_garbage += slot.capacity;
    slot.offset = static_cast<uint32_t>(offset);
    slot.capacity = capacity;
}

void tree::insert_leaf(bucket_slot& slot, size_t index, const leaf& l) {
    if (slot.count == slot.capacity)
        grow(slot);
    leaf* leaves = leaves_of(slot);
    std::copy_backward(leaves + index, leaves + slot.count, leaves + slot.count + 1);
    leaves[index] = l;
    ++slot.count;
}

void tree::apply_pending(bool hash_buckets) {
    const size_t count = m_pending.size();
    if (count == 0)
        return;
    const uint8_t leaf_depth = m_config.leaf_depth;
    m_order.resize(count);
    for (size_t i = 0; i < count; ++i)
        m_order[i] = (prefix_of(m_pending[i].key_hash, leaf_depth) << 32) | i;
    if (count <= insertion_sort_max) {
        // Sorting whole keys (prefix, then log index) is stable by construction.
        for (size_t i = 1; i < count; ++i) {
            const uint64_t k = m_order[i];
            size_t j = i;
            for (; j > 0 && m_order[j - 1] > k; --j)
                m_order[j] = m_order[j - 1];
            m_order[j] = k;
        }
    } else {
        radix_sort(m_order, m_order_scratch, bits_per_level * leaf_depth);
    }
    for (size_t i = 0; i < count; ++i) {
        if (i + prefetch_distance < count)
            prefetch(&m_slots[m_order[i + prefetch_distance] >> 32]);
        if (i + prefetch_distance / 2 < count) {
            const bucket_slot& ahead = m_slots[m_order[i + prefetch_distance / 2] >> 32];
            prefetch_range(leaves_of(ahead), ahead.count * sizeof(leaf), bucket_prefetch_lines);
        }
        const auto bucket_index = static_cast<uint32_t>(m_order[i] >> 32);
        const leaf& update = m_pending[m_order[i] & UINT32_MAX];
        bucket_slot& slot = m_slots[bucket_index];
        leaf* leaves = leaves_of(slot);
        const size_t index = lower_bound_index(leaves, slot.count, update.key_hash);
        if (index != slot.count && leaves[index].key_hash == update.key_hash) {
            leaves[index].leaf_digest = update.leaf_digest;
        } else {
            insert_leaf(slot, index, update);
            ++m_entry_count;
        }
        mark_dirty(bucket_index);
        if (hash_buckets && (i + 1 == count || (m_order[i + 1] >> 32) != bucket_index)) {
            hash_bucket(bucket_index);
            m_dirty_bits[bucket_index / 64] &= ~(uint64_t{1} << (bucket_index % 64));
        }
    }
    // upsert() queued a possibly new key only while the total stayed below the limit.
    AINET_ASSERT(m_entry_count <= m_config.entry_count_max);
    m_pending.clear();
    if (m_pending.capacity() > log_capacity_kept) {
        // A bulk load's log and sort buffers (up to 2.5 MiB) are not kept for small batches.
        std::vector<leaf>().swap(m_pending);
        std::vector<uint64_t>().swap(m_order);
        std::vector<uint64_t>().swap(m_order_scratch);
    }
}

bool tree::erase(uint64_t key_hash) {
    apply_pending();
    const auto bucket_index = static_cast<uint32_t>(prefix_of(key_hash, m_config.leaf_depth));
    bucket_slot& slot = m_slots[bucket_index];
    leaf* leaves = leaves_of(slot);
    const size_t index = lower_bound_index(leaves, slot.count, key_hash);
    if (index == slot.count || leaves[index].key_hash != key_hash)
        return false;
    std::copy(leaves + index + 1, leaves + slot.count, leaves + index);
    if (--slot.count == 0) {
        // An emptied bucket abandons its block (reclaimed by the next compaction).
        m_arena_garbage += slot.capacity;
        slot = bucket_slot{};
    }
    --m_entry_count;
    mark_dirty(bucket_index);
    return true;
}

void tree::hash_bucket(uint32_t bucket_index) noexcept {
    const bucket_slot& slot = m_slots[bucket_index];
    digest& d = m_digests[m_config.leaf_depth][bucket_index];
    if (slot.count == 0) {
        d = empty_digest;  // emptied by erase
        return;
    }
    d = m_hash(leaves_of(slot), slot.count * sizeof(leaf));
    ++m_hash_count;
}

void tree::rehash() {
    apply_pending(true);
    if (m_dirty.empty())
        return;
    if (m_dirty_unsorted)
        std::sort(m_dirty.begin(), m_dirty.end());
    m_dirty_unsorted = false;
    const uint8_t leaf_depth = m_config.leaf_depth;
    // Buckets dirtied by erase() (apply_pending hashed and unmarked the rest): one XXH3 each.
    for (uint32_t index : m_dirty) {
        uint64_t& word = m_dirty_bits[index / 64];
        const uint64_t bit = uint64_t{1} << (index % 64);
        if ((word & bit) != 0) {
            word &= ~bit;
            hash_bucket(index);
        }
    }
    // Inner levels: the dirty parents are the distinct prefixes >> 4 of the (ascending) dirty
    // children, computed in place; each hashes its 16 child digests where they lie.
    auto& prefixes = m_dirty;
    for (int depth = leaf_depth - 1; depth >= 0; --depth) {
        size_t unique_count = 0;
        for (uint32_t child : prefixes) {
            const uint32_t parent = child >> bits_per_level;
            if (unique_count == 0 || prefixes[unique_count - 1] != parent)
                prefixes[unique_count++] = parent;
        }
        prefixes.resize(unique_count);
        const digest* children = m_digests[static_cast<size_t>(depth + 1)].data();
        for (size_t i = 0; i < unique_count; ++i) {
            if (i + prefetch_distance < unique_count)
                prefetch_range(children + size_t{prefixes[i + prefetch_distance]} * fanout,
                               sizeof(digest) * fanout, 4);
            const uint32_t parent = prefixes[i];
            const digest* block = children + size_t{parent} * fanout;
            digest d = empty_digest;
            if (!all_zero(block)) {
                d = m_hash(block, sizeof(digest) * fanout);
                ++m_hash_count;
            }
            if (depth == 0)
                m_root = d;
            else
                m_digests[static_cast<size_t>(depth)][parent] = d;
        }
    }
    m_dirty.clear();
}

digest tree::root() const noexcept {
    AINET_ASSERT(!dirty());
    return m_root;
}

size_t tree::entry_count() const noexcept {
    AINET_ASSERT(!dirty());
    return m_entry_count;
}

digest tree::node_digest(position pos) const noexcept {
    AINET_ASSERT(!dirty());
    AINET_ASSERT(pos.depth <= m_config.leaf_depth && pos.prefix < node_count(pos.depth));
    if (pos.depth == 0)
        return m_root;
    return m_digests[pos.depth][pos.prefix];
}

void tree::descendant_digests(position pos, uint8_t levels, std::span<digest> out) const noexcept {
    AINET_ASSERT(!dirty());
    AINET_ASSERT(levels >= 1 && pos.depth + levels <= m_config.leaf_depth);
    AINET_ASSERT(pos.prefix < node_count(pos.depth));
    AINET_ASSERT(out.size() == node_count(levels));
    // The descendants of one node are contiguous in their level's array.
    const auto& level = m_digests[pos.depth + levels];
    const size_t first = static_cast<size_t>(pos.prefix) << (bits_per_level * levels);
    std::copy_n(level.begin() + static_cast<std::ptrdiff_t>(first), out.size(), out.begin());
}

std::span<const leaf> tree::bucket(position pos) const noexcept {
    AINET_ASSERT(!dirty());
    AINET_ASSERT(pos.depth == m_config.leaf_depth && pos.prefix < m_slots.size());
    const bucket_slot& slot = m_slots[pos.prefix];
    return {leaves_of(slot), slot.count};
}

std::vector<leaf> tree::leaves() const {
    AINET_ASSERT(!dirty());
    std::vector<leaf> out;
    out.reserve(m_entry_count);
    for (const bucket_slot& slot : m_slots)
        out.insert(out.end(), leaves_of(slot), leaves_of(slot) + slot.count);
    return out;
}

size_t tree::memory_bytes() const noexcept {
    size_t total = sizeof(*this);
    for (const auto& level : m_digests)
        total += level.capacity() * sizeof(digest);
    total += m_slots.capacity() * sizeof(bucket_slot);
    total += (m_arena.capacity() + m_pending.capacity()) * sizeof(leaf);
    total += (m_order.capacity() + m_order_scratch.capacity() + m_dirty_bits.capacity()) * sizeof(uint64_t);
    total += m_dirty.capacity() * sizeof(uint32_t);
    return total;
}

} // namespace ainet::merkle
