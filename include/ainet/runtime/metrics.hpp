#pragma once
// Prometheus text exposition (format 0.0.4) of a shard group's counters, for GET /metrics.
// Called on the control thread; reads each shard's single-writer counters with relaxed loads,
// so a scrape costs the shards nothing. Allocates the returned string.

#include <ainet/runtime/shard.hpp>

#include <string>

namespace ainet::runtime {

// Appends every shard counter as ainet_shard_<name>_total{shard="i"}, with HELP and TYPE
// lines, plus ainet_shards and ainet_io_backend_info{backend="..."}.
void render_prometheus(const shard_group& group, std::string& out);

// Appends one metric family (HELP, TYPE, and one unlabeled sample).
void render_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, uint64_t value);

} // namespace ainet::runtime
