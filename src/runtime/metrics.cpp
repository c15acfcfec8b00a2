#include <ainet/runtime/metrics.hpp>

namespace ainet::runtime {

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

} // namespace

void render_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, uint64_t value) {
    header(out, name, type, help);
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

void render_prometheus(const shard_group& group, std::string& out) {
    render_metric(out, "ainet_shards", "gauge", "shards running", group.shard_count());
    header(out, "ainet_io_backend_info", "gauge", "the io backend the shards run (1 = in use)");
    out.append("ainet_io_backend_info{backend=\"").append(to_string(group.backend())).append("\"} 1\n");
#define AINET_RENDER_COUNTER(name, help)                                                           \
    header(out, "ainet_shard_" #name "_total", "counter", help);                                   \
    for (uint16_t i = 0; i < group.shard_count(); ++i)                                             \
        out.append("ainet_shard_" #name "_total{shard=\"")                                         \
            .append(std::to_string(i))                                                             \
            .append("\"} ")                                                                        \
            .append(std::to_string(group.counters(shard_id{i}).name.load(std::memory_order_relaxed))) \
            .append("\n");
    AINET_SHARD_COUNTERS(AINET_RENDER_COUNTER)
#undef AINET_RENDER_COUNTER
    // faults
#define AINET_RENDER_FAULT(name, help)                                                             \
    header(out, "ainet_fault_" #name "_total", "counter", help);                                   \
    for (uint16_t i = 0; i < group.shard_count(); ++i)                                             \
        out.append("ainet_fault_" #name "_total{shard=\"")                                         \
            .append(std::to_string(i))                                                             \
            .append("\"} ")                                                                        \
            .append(std::to_string(                                                                \
                group.fault_counters_of(shard_id{i}).name.load(std::memory_order_relaxed)))        \
            .append("\n");
    AINET_FAULT_COUNTERS(AINET_RENDER_FAULT)
#undef AINET_RENDER_FAULT
    header(out, "ainet_fault_active", "gauge", "1 while fault injection settings are active");
    for (uint16_t i = 0; i < group.shard_count(); ++i)
        out.append("ainet_fault_active{shard=\"").append(std::to_string(i)).append("\"} ")
            .append(std::to_string(group.fault_counters_of(shard_id{i}).active.load(std::memory_order_relaxed)))
            .append("\n");
    header(out, "ainet_fault_held", "gauge", "datagrams held by the fault injector now");
    for (uint16_t i = 0; i < group.shard_count(); ++i)
        out.append("ainet_fault_held{shard=\"").append(std::to_string(i)).append("\"} ")
            .append(std::to_string(group.fault_counters_of(shard_id{i}).held_now.load(std::memory_order_relaxed)))
            .append("\n");
    // end faults
}

} // namespace ainet::runtime
