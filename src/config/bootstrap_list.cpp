#include <ainet/config/bootstrap_list.hpp>
#include <ainet/config/file.hpp>
#include <ainet/core/encoding.hpp>

#include "json_reader.hpp"

#include <unordered_map>

namespace ainet::config {

using detail::json;

namespace {

result<endpoint> read_endpoint(const json& value, const std::string& pointer,
                               const detail::source& src) {
    auto text = detail::read_string(value, pointer, src);
    if (!text)
        return text.error();
    auto parsed = parse_endpoint(*text);
    if (!parsed)
        return src.error(errc::bad_endpoint, pointer,
                         std::string(to_string(errc::bad_endpoint)));
    return *parsed;
}

result<bootstrap_node> read_node(const json& value, const std::string& pointer,
                                 const detail::source& src) {
    if (auto e = detail::check_object(value, pointer, {"public_key", "udp", "http"}, src))
        return *e;
    for (const char* name : {"public_key", "udp", "http"})
        if (!value.contains(name))
            return src.error(errc::missing_field, detail::pointer_append(pointer, name),
                             "missing field");

    bootstrap_node node;
    const std::string key_pointer = detail::pointer_append(pointer, "public_key");
    auto key_text = detail::read_string(value.at("public_key"), key_pointer, src);
    if (!key_text)
        return key_text.error();
    if (key_text->size() != 2 * node_id_size || !from_hex_into(*key_text, node.public_key.bytes))
        return src.error(errc::bad_public_key, key_pointer,
                         std::string(to_string(errc::bad_public_key)) + ", got " +
                             std::to_string(key_text->size()) + " characters");

    auto udp = read_endpoint(value.at("udp"), detail::pointer_append(pointer, "udp"), src);
    if (!udp)
        return udp.error();
    node.udp = *udp;
    auto http = read_endpoint(value.at("http"), detail::pointer_append(pointer, "http"), src);
    if (!http)
        return http.error();
    node.http = *http;
    return node;
}

} // namespace

result<bootstrap_list> parse_bootstrap_list(std::string_view text, std::string_view source_name) {
    const detail::source src{source_name};
    auto parsed = detail::parse_strict(text, src);
    if (!parsed)
        return parsed.error();
    const json& doc = *parsed;
    if (auto e = detail::check_object(doc, "", {"version", "nodes"}, src))
        return *e;

    if (!doc.contains("version"))
        return src.error(errc::missing_field, "/version", "missing field");
    auto version = detail::read_integer(doc.at("version"), "/version", src);
    if (!version)
        return version.error();
    if (*version != bootstrap_file_version)
        return src.error(errc::bad_value, "/version",
                         "unsupported version " + std::to_string(*version) + " (want " +
                             std::to_string(bootstrap_file_version) + ")");

    if (!doc.contains("nodes"))
        return src.error(errc::missing_field, "/nodes", "missing field");
    const json& nodes = doc.at("nodes");
    if (!nodes.is_array())
        return src.error(errc::wrong_type, "/nodes",
                         "want an array, got " + std::string(detail::type_name(nodes)));
    if (nodes.size() > bootstrap_node_count_max)
        return src.error(errc::too_many, "/nodes",
                         std::to_string(nodes.size()) + " nodes, more than the " +
                             std::to_string(bootstrap_node_count_max) + " allowed");

    bootstrap_list list;
    list.nodes.reserve(nodes.size());
    // Where each key and udp endpoint was first seen, to name both places of a duplicate.
    std::unordered_map<node_id, size_t> key_index;
    std::unordered_map<endpoint, size_t> udp_index;
    for (size_t i = 0; i < nodes.size(); ++i) {
        const std::string pointer = detail::pointer_append("/nodes", i);
        auto node = read_node(nodes[i], pointer, src);
        if (!node)
            return node.error();
        if (auto [it, fresh] = key_index.emplace(node->public_key, i); !fresh)
            return src.error(errc::duplicate, detail::pointer_append(pointer, "public_key"),
                             "duplicate public key (also at /nodes/" + std::to_string(it->second) +
                                 ")");
        if (auto [it, fresh] = udp_index.emplace(node->udp, i); !fresh)
            return src.error(errc::duplicate, detail::pointer_append(pointer, "udp"),
                             "duplicate udp endpoint " + to_string(node->udp) +
                                 " (also at /nodes/" + std::to_string(it->second) + ")");
        list.nodes.push_back(*node);
    }
    AINET_ASSERT(list.nodes.size() <= bootstrap_node_count_max);
    return list;
}

result<bootstrap_list> load_bootstrap_list(const std::filesystem::path& path) {
    auto text = read_config_file(path);
    if (!text)
        return text.error();
    return parse_bootstrap_list(*text, path.string());
}

} // namespace ainet::config
