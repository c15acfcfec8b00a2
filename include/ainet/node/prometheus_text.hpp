#pragma once
// A parser for the Prometheus text format (0.0.4) as the node's /metrics writes it, for the
// readers inside the project: GET /status digests the node's own metrics, `ainetctl metrics`
// prints them as a table or JSON, and tests read them as a scraper would.
//
// Accepted: `# HELP name text`, `# TYPE name type`, other comments, and samples
// `name{label="value",...} number` (no timestamps). A sample belongs to the family declared last
// when its name is that family's or extends it with "_" (histogram _bucket/_sum/_count); else it
// opens an untyped family of its own. Bounded: lines_max lines, line_size_max bytes a line; a
// malformed line fails the parse with its line number (the text is the node's own, so an
// error means the reader talks to something else).
//
// Threads: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ainet::node {

struct metric_sample {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

struct metric_family {
    std::string name;
    std::string type = "untyped";
    std::string help;
    std::vector<metric_sample> samples;
};

inline constexpr size_t prometheus_lines_max = 1u << 20;
inline constexpr size_t prometheus_line_size_max = 64 * 1024;

// nullopt and error ("line N: reason") on malformed input.
[[nodiscard]] std::optional<std::vector<metric_family>> parse_prometheus_text(std::string_view text,
                                                                             std::string& error);

// The family named name, or null.
[[nodiscard]] const metric_family* find_family(const std::vector<metric_family>& families,
                                               std::string_view name) noexcept;
// The sum of a family's samples over all labels (shard="0" + shard="1" ...); nullopt when the
// family is absent (its service is not running).
[[nodiscard]] std::optional<double> sum_family(const std::vector<metric_family>& families,
                                               std::string_view name) noexcept;

} // namespace ainet::node
