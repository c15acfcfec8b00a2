#include <ainet/config/fault_config.hpp>

#include "fault_config_json.hpp"

#include <cstdio>

namespace ainet::config {

namespace detail {

namespace {

result<double> read_probability(const json& value, const std::string& pointer, const source& src) {
    if (!value.is_number())
        return src.error(errc::wrong_type, pointer,
                         "must be a number in [0, 1], got " + std::string(type_name(value)));
    const double p = value.get<double>();
    if (!(p >= 0.0 && p <= 1.0))
        return src.error(errc::bad_value, pointer, "must be in [0, 1]");
    return p;
}

result<uint32_t> read_ms(const json& value, const std::string& pointer, const source& src) {
    auto v = read_u32(value, pointer, src);
    if (!v)
        return v.error();
    if (*v > fault_delay_ms_max)
        return src.error(errc::bad_value, pointer,
                         "must be at most " + std::to_string(fault_delay_ms_max) + " (ms)");
    return *v;
}

result<fault_block> read_block(const json& value, const std::string& pointer, const source& src) {
    auto text = read_string(value, pointer, src);
    if (!text)
        return text.error();
    fault_block b;
    if (auto e = parse_endpoint(*text)) {
        b.address = *e;
        return b;
    }
    // No port: "1.2.3.4" or "[::1]" / "::1" blocks every port of that address.
    std::string with_port = *text;
    if (!with_port.empty() && with_port.front() != '[' && with_port.find(':') != std::string::npos)
        with_port = "[" + with_port + "]";
    if (auto e = parse_endpoint(with_port + ":1")) {
        b.address = *e;
        b.address.port = 0;
        b.any_port = true;
        return b;
    }
    return src.error(errc::bad_endpoint, pointer, "want ip, ip:port or [ipv6]:port");
}

} // namespace

result<fault_config> read_fault_config(const json& value, std::string_view pointer,
                                       const source& src) {
    if (auto e = check_object(value, pointer,
                              {"drop_probability", "duplicate_probability", "delay_ms", "jitter_ms",
                               "reorder_probability", "reorder_window_ms", "block", "seed"},
                              src))
        return *e;
    fault_config c;
    const auto field = [&](std::string_view name) { return pointer_append(pointer, name); };
    for (auto [name, target] : {std::pair{"drop_probability", &c.drop_probability},
                                std::pair{"duplicate_probability", &c.duplicate_probability},
                                std::pair{"reorder_probability", &c.reorder_probability}}) {
        if (!value.contains(name))
            continue;
        auto p = read_probability(value.at(name), field(name), src);
        if (!p)
            return p.error();
        *target = *p;
    }
    for (auto [name, target] : {std::pair{"delay_ms", &c.delay_ms},
                                std::pair{"jitter_ms", &c.jitter_ms},
                                std::pair{"reorder_window_ms", &c.reorder_window_ms}}) {
        if (!value.contains(name))
            continue;
        auto ms = read_ms(value.at(name), field(name), src);
        if (!ms)
            return ms.error();
        *target = *ms;
    }
    if (c.reorder_probability > 0 && c.reorder_window_ms == 0)
        return src.error(errc::bad_value, field("reorder_window_ms"),
                         "must be at least 1 when reorder_probability is set");
    if (value.contains("seed")) {
        auto seed = read_integer(value.at("seed"), field("seed"), src);
        if (!seed)
            return seed.error();
        if (*seed < 0)
            return src.error(errc::bad_value, field("seed"), "must not be negative");
        c.seed = static_cast<uint64_t>(*seed);
    }
    if (value.contains("block")) {
        const json& list = value.at("block");
        const std::string list_pointer = field("block");
        if (!list.is_array())
            return src.error(errc::wrong_type, list_pointer,
                             "must be an array of addresses, got " + std::string(type_name(list)));
        if (list.size() > fault_block_count_max)
            return src.error(errc::too_many, list_pointer,
                             "at most " + std::to_string(fault_block_count_max) + " addresses");
        for (size_t i = 0; i < list.size(); ++i) {
            auto b = read_block(list.at(i), pointer_append(list_pointer, i), src);
            if (!b)
                return b.error();
            for (const fault_block& seen : c.block)
                if (seen == *b)
                    return src.error(errc::duplicate, pointer_append(list_pointer, i),
                                     "address listed twice");
            c.block.push_back(*b);
        }
    }
    return c;
}

} // namespace detail

result<fault_config> parse_fault_config(std::string_view text, std::string_view source_name) {
    const detail::source src{source_name};
    auto parsed = detail::parse_strict(text, src);
    if (!parsed)
        return parsed.error();
    return detail::read_fault_config(*parsed, "", src);
}

std::string to_json(const fault_config& c) {
    nlohmann::json out;
    out["drop_probability"] = c.drop_probability;
    out["duplicate_probability"] = c.duplicate_probability;
    out["delay_ms"] = c.delay_ms;
    out["jitter_ms"] = c.jitter_ms;
    out["reorder_probability"] = c.reorder_probability;
    out["reorder_window_ms"] = c.reorder_window_ms;
    out["seed"] = c.seed;
    auto& block = out["block"] = nlohmann::json::array();
    for (const fault_block& b : c.block) {
        if (!b.any_port) {
            block.push_back(to_string(b.address));
            continue;
        }
        endpoint e = b.address;
        e.port = 1;
        std::string text = to_string(e);
        text.resize(text.size() - 2); // drop ":1"
        if (text.front() == '[')
            text = text.substr(1, text.size() - 2);
        block.push_back(text);
    }
    return out.dump();
}

} // namespace ainet::config
