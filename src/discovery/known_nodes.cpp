#include <ainet/core/assert.hpp>
#include <ainet/discovery/known_nodes.hpp>

namespace ainet::discovery {

known_nodes::known_nodes(const known_nodes_limits& limits) : m_limits(limits) {
    AINET_ASSERT(limits.nodes_max >= 1 && limits.per_source_max >= 1);
}

merge_report known_nodes::merge(const verified_document& document) {
    AINET_ASSERT(document.verdicts.size() == document.records.size());
    const auto accepted = document.accepted();
    return merge(document.signer, accepted);
}

merge_report known_nodes::merge(const node_id& source,
                                std::span<const node_record> verified_records) {
    merge_report report;
    for (const auto& record : verified_records) {
        const bool source_full = count_from(source) >= m_limits.per_source_max;
        auto it = m_entries.find(record.id);
        if (it == m_entries.end()) {
            if (m_entries.size() >= m_limits.nodes_max) {
                ++report.table_full_count;
                continue;
            }
            if (source_full) {
                ++report.source_cap_count;
                continue;
            }
            m_entries.emplace(record.id, entry{record, source});
            attribute(source, +1);
            report.added.push_back(record.id);
            continue;
        }
        entry& e = it->second;
        if (record.issued_at <= e.record.issued_at) {
            ++report.stale_count;
            continue;
        }
        if (e.source != source) {
            if (source_full) {
                ++report.source_cap_count;
                continue;
            }
            attribute(e.source, -1);
            attribute(source, +1);
            e.source = source;
        }
        e.record = record;
        report.updated.push_back(record.id);
    }
    AINET_ASSERT(m_entries.size() <= m_limits.nodes_max);
    AINET_ASSERT(count_from(source) <= m_limits.per_source_max);
    return report;
}

bool known_nodes::erase(const node_id& id) {
    auto it = m_entries.find(id);
    if (it == m_entries.end())
        return false;
    attribute(it->second.source, -1);
    m_entries.erase(it);
    return true;
}

const node_record* known_nodes::find(const node_id& id) const noexcept {
    auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second.record;
}

const node_id* known_nodes::source_of(const node_id& id) const noexcept {
    auto it = m_entries.find(id);
    return it == m_entries.end() ? nullptr : &it->second.source;
}

size_t known_nodes::count_from(const node_id& source) const noexcept {
    auto it = m_per_source.find(source);
    return it == m_per_source.end() ? 0 : it->second;
}

void known_nodes::attribute(const node_id& source, int delta) {
    if (delta > 0) {
        ++m_per_source[source];
        return;
    }
    auto it = m_per_source.find(source);
    AINET_ASSERT(it != m_per_source.end() && it->second > 0);
    if (--it->second == 0)
        m_per_source.erase(it);
}

} // namespace ainet::discovery
