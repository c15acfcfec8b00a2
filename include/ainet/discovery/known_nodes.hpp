#pragma once
// known_nodes: the table of node records learnt from bootstrap lists, merged by node id with
// the newest record winning.
//
// Only records that passed verification (bootstrap_document.hpp, verdict accepted) go in; the
// caller hands over a verified_document, so nothing from a rejected list can be merged. Every
// entry is attributed to the source (the list's signer) whose record it currently holds.
//
// Bounds (STYLE.md: everything has a limit):
// - nodes_max: entries in the table. A record for a new node when the table is full is dropped
//   (table_full); nothing is evicted here: the owner (bootstrap_manager.hpp) prunes dead nodes
//   with erase().
// - per_source_max: entries one source may be attributed, so a single node serving a huge list
//   of invented nodes cannot fill the table. A record that would give a source more is dropped
//   (source_cap), whether it adds a node or replaces another source's record.
//
// Merge rule: a record for a known node replaces the entry only when its issued_at is strictly
// greater (a tie or an older record is stale and changes nothing), so merging is idempotent
// and, for records with distinct issued_at, independent of the order lists arrive in.
//
// Not thread-safe: owned by one thread. Allocates as the table grows, up to nodes_max entries.

#include <ainet/core/ids.hpp>
#include <ainet/discovery/bootstrap_document.hpp>

#include <cstddef>
#include <span>
#include <unordered_map>
#include <vector>

namespace ainet::discovery {

struct known_nodes_limits {
    size_t nodes_max = 4096;
    size_t per_source_max = 256;
};

// What one merge did. added and updated list the node ids whose entry changed.
struct merge_report {
    std::vector<node_id> added;
    std::vector<node_id> updated;
    size_t stale_count = 0;       // known node, record not newer
    size_t source_cap_count = 0;  // dropped: the source is at per_source_max
    size_t table_full_count = 0;  // dropped: the table is at nodes_max

    [[nodiscard]] bool changed() const noexcept { return !added.empty() || !updated.empty(); }
};

class known_nodes {
public:
    // Preconditions: both limits are at least 1.
    explicit known_nodes(const known_nodes_limits& limits);

    // Merges the accepted records of a verified list, attributed to its signer.
    merge_report merge(const verified_document& document);
    // Merges records the caller has verified (e.g. verified_document::accepted()), from source.
    merge_report merge(const node_id& source, std::span<const node_record> verified_records);

    // Removes id's entry (pruning a dead node); false if it had none.
    bool erase(const node_id& id);

    // The record held for id, or nullptr.
    [[nodiscard]] const node_record* find(const node_id& id) const noexcept;
    // The source the entry of id is attributed to, or nullptr.
    [[nodiscard]] const node_id* source_of(const node_id& id) const noexcept;
    [[nodiscard]] size_t size() const noexcept { return m_entries.size(); }
    // Entries attributed to source.
    [[nodiscard]] size_t count_from(const node_id& source) const noexcept;
    [[nodiscard]] const known_nodes_limits& limits() const noexcept { return m_limits; }

private:
    struct entry {
        node_record record;
        node_id source;
    };

    void attribute(const node_id& source, int delta);

    known_nodes_limits m_limits;
    std::unordered_map<node_id, entry> m_entries;
    std::unordered_map<node_id, size_t> m_per_source; // only sources with a count above 0
};

} // namespace ainet::discovery
