#include <ainet/node/registry_shards.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/node/registry_service.hpp>

#include <charconv>
#include <map>
#include <set>
#include <stdexcept>

namespace ainet::node {

merkle::digest combine_branch_digests(
    std::span<const merkle::digest, registry_branch_count> branches) noexcept {
    bool any = false;
    for (const auto& d : branches)
        any = any || !d.is_zero();
    if (!any)
        return merkle::empty_digest;
    static_assert(sizeof(merkle::digest) == merkle::digest_size);
    return merkle::xxh3_128(
        bytes_view(reinterpret_cast<const uint8_t*>(branches.data()),
                   branches.size() * sizeof(merkle::digest)));
}

std::array<merkle::digest, registry_branch_count> branch_digests(const merkle::tree& t) noexcept {
    std::array<merkle::digest, registry_branch_count> out{};
    for (size_t b = 0; b < registry_branch_count; ++b)
        out[b] = t.node_digest(merkle::position{1, b});
    return out;
}

registry_split_batch split_by_slice(const registry::durable_batch& batch, size_t slice_count) {
    AINET_ASSERT(slice_count >= 1 && slice_count <= registry_slice_count_max);
    registry_split_batch out;
    out.sequence = batch.sequence;
    out.part.resize(slice_count);
    for (auto& p : out.part)
        p.sequence = batch.sequence;
    for (const auto& put : batch.puts)
        out.part[registry_slice_of(put.e->key_hash, slice_count)].puts.push_back(put);
    for (const auto& remove : batch.removes)
        out.part[registry_slice_of(registry::key_hash(remove.public_key, remove.name), slice_count)]
            .removes.push_back(remove);
    out.part[0].meta = batch.meta;
    return out;
}

std::filesystem::path registry_slices::slice_directory(const std::filesystem::path& directory,
                                                       size_t index) {
    if (index == 0)
        return directory;
    return directory / (std::string(registry_slice_prefix) + std::to_string(index));
}

namespace {

[[noreturn]] void startup_error(const std::filesystem::path& dir, std::string_view what,
                                store::errc e, std::string_view detail = {}) {
    throw std::runtime_error("registry store " + dir.string() + ": " + std::string(what) + ": " +
                             std::string(store::to_string(e)) +
                             (detail.empty() ? "" : " " + std::string(detail)));
}

// Every slice index with a directory under `directory` (index 0 always).
std::set<size_t> slices_present(const std::filesystem::path& directory) {
    std::set<size_t> found{0};
    std::error_code ec;
    for (const auto& item : std::filesystem::directory_iterator(directory, ec)) {
        const std::string name = item.path().filename().string();
        if (!item.is_directory() || name.rfind(registry_slice_prefix, 0) != 0)
            continue;
        size_t index = 0;
        const char* first = name.data() + registry_slice_prefix.size();
        const char* last = name.data() + name.size();
        auto [ptr, err] = std::from_chars(first, last, index);
        // Only canonical names (no leading zero, no junk) within the limit count as slices.
        if (err == std::errc{} && ptr == last && index > 0 && index < registry_slice_count_max &&
            std::to_string(index) == std::string(first, last))
            found.insert(index);
    }
    return found;
}

using entry_key = std::pair<crypto::public_key, std::string>;

} // namespace

registry_slices::registry_slices(const std::filesystem::path& directory, size_t slice_count,
                                 const store::options& opts, registry::replica_meta& meta,
                                 std::vector<registry::durable_put>& puts, load_report& report) {
    AINET_ASSERT(slice_count >= 1 && slice_count <= registry_slice_count_max);
    report = {};
    // Slice 0 first: it creates the store directory the others live in.
    auto open_slice = [&](size_t index) {
        std::string error;
        const auto dir = slice_directory(directory, index);
        auto opened = registry_store::open(dir, opts, &error);
        if (!opened)
            startup_error(dir, "open", opened.error(), error);
        return std::make_unique<registry_store>(std::move(*opened));
    };
    std::map<size_t, std::unique_ptr<registry_store>> open;
    open.emplace(0, open_slice(0));
    for (size_t index : slices_present(directory))
        if (!open.contains(index))
            open.emplace(index, open_slice(index));
    report.slices_found = open.size();
    for (size_t index = 1; index < slice_count; ++index)
        if (!open.contains(index))
            open.emplace(index, open_slice(index));

    // Load every slice; keep one winner per key (LWW), remember the copies outside their owner.
    std::map<entry_key, registry::durable_put> winners;
    std::vector<std::pair<size_t, entry_key>> misplaced;
    for (auto& [index, slice] : open) {
        registry::replica_meta slice_meta;
        std::vector<registry::durable_put> slice_puts;
        size_t skipped = 0;
        if (auto loaded = slice->load(slice_meta, slice_puts, skipped); !loaded)
            startup_error(slice_directory(directory, index), "load", loaded.error());
        report.skipped += skipped;
        if (index == 0)
            meta = slice_meta; // only slice 0 stores the meta
        for (auto& p : slice_puts) {
            entry_key key{p.e->value.public_key, p.e->value.name};
            if (registry_slice_of(p.e->key_hash, slice_count) != index)
                misplaced.emplace_back(index, key);
            auto [it, inserted] = winners.try_emplace(std::move(key), p);
            if (!inserted && registry::supersedes(*p.e, *it->second.e))
                it->second = std::move(p);
        }
    }

    // Re-partition: the winners into their owners first, then the stray copies erased.
    if (!misplaced.empty()) {
        std::vector<registry::durable_batch> into(slice_count);
        std::map<size_t, registry::durable_batch> out_of;
        std::set<entry_key> moved;
        for (const auto& [index, key] : misplaced) {
            const auto& winner = winners.at(key);
            if (moved.insert(key).second)
                into[registry_slice_of(winner.e->key_hash, slice_count)].puts.push_back(winner);
            out_of[index].removes.push_back({key.first, key.second});
        }
        report.moved = moved.size();
        auto commit = [&](size_t index, const registry::durable_batch& part) {
            auto written = open.at(index)->write(part, index == 0);
            if (!written)
                startup_error(slice_directory(directory, index), "re-partition", written.error());
        };
        into[0].meta = meta;
        for (size_t index = 0; index < slice_count; ++index)
            if (!into[index].puts.empty())
                commit(index, into[index]);
        for (auto& [index, part] : out_of) {
            part.meta = meta;
            commit(index, part);
        }
    }
    // Slices beyond the new count are empty now: close them, then remove their directories.
    for (auto it = open.begin(); it != open.end();) {
        if (it->first < slice_count) {
            ++it;
            continue;
        }
        const auto dir = slice_directory(directory, it->first);
        it = open.erase(it);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec)
            throw std::runtime_error("registry store " + dir.string() + ": remove: " + ec.message());
        ++report.slices_removed;
    }
    for (auto& [index, slice] : open)
        m_slices.push_back(std::move(slice));
    AINET_ASSERT(m_slices.size() == slice_count);

    puts.clear();
    puts.reserve(winners.size());
    for (auto& [key, p] : winners)
        puts.push_back(std::move(p));
    report.restored = puts.size();
}

registry_slices::~registry_slices() = default;

store::result<uint64_t> registry_slices::write_part(size_t index,
                                                    const registry::durable_batch& part) {
    AINET_ASSERT(index < m_slices.size());
    return m_slices[index]->write(part, index == 0);
}

store::result<void> registry_slices::write(const registry_split_batch& batch) {
    AINET_ASSERT(batch.part.size() == m_slices.size());
    // Entries before the meta: the meta (vector, counter) never claims what no slice holds.
    for (size_t index = 1; index < m_slices.size(); ++index)
        if (!batch.part[index].empty())
            AINET_TRY_VOID(write_part(index, batch.part[index]));
    AINET_TRY_VOID(write_part(0, batch.part[0]));
    return {};
}

bool registry_commit_pipeline::batch::parts_done() const noexcept {
    for (size_t i = 0; i < state.size(); ++i)
        if (state[i] != part_state::none && state[i] != part_state::done)
            return false;
    return true;
}

namespace {

// Appends later to earlier (same slice): the later state of a key replaces every earlier one,
// so a put then a remove of one key (or the reverse) lands as the later operation alone,
// whatever order the store writes puts and removes in.
void merge_part(registry::durable_batch& earlier, registry::durable_batch&& later) {
    std::set<entry_key> touched;
    for (const auto& p : later.puts)
        touched.emplace(p.e->value.public_key, p.e->value.name);
    for (const auto& r : later.removes)
        touched.emplace(r.public_key, r.name);
    std::erase_if(earlier.puts, [&](const registry::durable_put& p) {
        return touched.contains(entry_key{p.e->value.public_key, p.e->value.name});
    });
    std::erase_if(earlier.removes, [&](const registry::durable_remove& r) {
        return touched.contains(entry_key{r.public_key, r.name});
    });
    earlier.puts.insert(earlier.puts.end(), std::make_move_iterator(later.puts.begin()),
                        std::make_move_iterator(later.puts.end()));
    earlier.removes.insert(earlier.removes.end(), std::make_move_iterator(later.removes.begin()),
                           std::make_move_iterator(later.removes.end()));
    earlier.sequence = later.sequence;
    earlier.meta = std::move(later.meta);
}

} // namespace

bool registry_commit_pipeline::batch::fresh() const noexcept {
    for (auto s : state)
        if (s == part_state::posted || s == part_state::done)
            return false;
    return true;
}

void registry_commit_pipeline::push(const registry::durable_batch& b, size_t slice_count) {
    AINET_ASSERT(batches.empty() || batches.back().batch.sequence < b.sequence);
    auto split = split_by_slice(b, slice_count);
    const bool merge = batches.size() >= 2 && batches.back().fresh();
    if (!merge)
        batches.emplace_back();
    auto& item = batches.back();
    entries -= item.entries;
    if (merge) {
        AINET_ASSERT(item.batch.part.size() == slice_count);
        for (size_t i = 0; i < slice_count; ++i)
            merge_part(item.batch.part[i], std::move(split.part[i]));
        item.batch.sequence = split.sequence;
        ++item.merged;
    } else {
        item.batch = std::move(split);
    }
    item.state.assign(slice_count, part_state::none);
    item.state[0] = part_state::local; // the meta is written with every batch
    item.entries = 0;
    for (size_t i = 0; i < slice_count; ++i) {
        const auto& part = item.batch.part[i];
        if (i > 0 && !part.empty())
            item.state[i] = part_state::to_post;
        item.entries += part.puts.size() + part.removes.size();
    }
    entries += item.entries;
    AINET_ASSERT(batches.size() <= 2); // one in flight, one waiting
}

void registry_commit_pipeline::pop() {
    AINET_ASSERT(!batches.empty() && entries >= batches.front().entries);
    entries -= batches.front().entries;
    batches.pop_front();
}

size_t registry_commit_pipeline::flush(registry_slices& store) {
    size_t failures = 0;
    for (auto& b : batches) {
        AINET_ASSERT(b.batch.part.size() == store.slice_count());
        for (size_t i = 1; i < b.state.size(); ++i)
            if (b.state[i] != part_state::none && !store.write_part(i, b.batch.part[i]))
                ++failures;
        if (!store.write_part(0, b.batch.part[0]))
            ++failures;
    }
    batches.clear();
    entries = 0;
    return failures;
}

uint64_t registry_slices::counter_sum(
    std::atomic<uint64_t> store::batch_counters::*field) const noexcept {
    uint64_t sum = 0;
    for (const auto& s : m_slices)
        sum += (s->counters().*field).load(std::memory_order_relaxed);
    return sum;
}

} // namespace ainet::node
