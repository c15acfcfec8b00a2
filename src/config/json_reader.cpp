#include "json_reader.hpp"

#include <ainet/config/file.hpp>

#include <algorithm>
#include <set>
#include <vector>

namespace ainet::config::detail {

namespace {

// Thrown from the parser callback to abort parsing; never leaves parse_strict.
struct reject_parse {
    std::string field;
    std::string reason;
};

// Bytes outside printable ASCII become \xNN, and long text is cut, so that untrusted text in
// a message can neither garble a terminal nor flood a log.
std::string printable(std::string_view text, size_t size_max = 64) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : text) {
        if (out.size() >= size_max) {
            out += "...";
            break;
        }
        const auto byte = static_cast<uint8_t>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out.push_back(c);
        } else {
            out += "\\x";
            out.push_back(digits[byte >> 4]);
            out.push_back(digits[byte & 0x0f]);
        }
    }
    return out;
}

// Tracks where the parser is, to reject duplicate keys by their JSON pointer. nlohmann keeps
// the last of two equal keys silently; a config file with two "udp_listen" fields is a
// mistake we want to report, not resolve.
class duplicate_key_checker {
public:
    bool on_event(int depth, json::parse_event_t event, const json& parsed) {
        if (depth > nesting_depth_max)
            throw reject_parse{position(), "nested deeper than " +
                                               std::to_string(nesting_depth_max) + " levels"};
        switch (event) {
        case json::parse_event_t::object_start: m_frames.push_back(frame{false}); break;
        case json::parse_event_t::array_start: m_frames.push_back(frame{true}); break;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!m_frames.empty())
                m_frames.pop_back();
            element_done();
            break;
        case json::parse_event_t::key: {
            AINET_ASSERT(!m_frames.empty() && !m_frames.back().is_array);
            auto& top = m_frames.back();
            const auto& key = parsed.get_ref<const std::string&>();
            top.key = key;
            if (!top.keys.insert(key).second)
                throw reject_parse{position(), "duplicate key"};
            break;
        }
        case json::parse_event_t::value: element_done(); break;
        }
        return true;
    }

private:
    struct frame {
        bool is_array = false;
        size_t index = 0;
        std::string key;
        std::set<std::string> keys;
    };

    void element_done() {
        if (!m_frames.empty() && m_frames.back().is_array)
            ++m_frames.back().index;
    }

    std::string position() const {
        std::string pointer;
        for (const auto& f : m_frames)
            pointer =
                f.is_array ? pointer_append(pointer, f.index) : pointer_append(pointer, f.key);
        return pointer;
    }

    std::vector<frame> m_frames;
};

// nlohmann's what() starts with "[json.exception.parse_error.101] "; operators need the rest.
std::string parse_error_reason(const json::exception& e) {
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos)
        what.remove_prefix(close + 2);
    return "not valid JSON: " + printable(what, 200);
}

} // namespace

error_info source::error(errc code, std::string field, std::string reason) const {
    return error_info{code, std::string(name), std::move(field), std::move(reason)};
}

std::string pointer_append(std::string_view pointer, std::string_view token) {
    std::string out(pointer);
    out.push_back('/');
    std::string escaped;
    for (char c : token) {
        if (c == '~')
            escaped += "~0";
        else if (c == '/')
            escaped += "~1";
        else
            escaped.push_back(c);
    }
    out += printable(escaped);
    return out;
}

std::string pointer_append(std::string_view pointer, size_t index) {
    std::string out(pointer);
    out.push_back('/');
    out += std::to_string(index);
    return out;
}

std::string pointer_or_root(std::string_view pointer) {
    return pointer.empty() ? std::string("/") : std::string(pointer);
}

result<json> parse_strict(std::string_view text, const source& src) {
    if (text.size() > config_file_size_max)
        return src.error(errc::file_too_large, "",
                         "file is " + std::to_string(text.size()) + " bytes, more than the " +
                             std::to_string(config_file_size_max) + " allowed");
    duplicate_key_checker checker;
    try {
        json parsed = json::parse(
            text.begin(), text.end(),
            [&checker](int depth, json::parse_event_t event, json& value) {
                return checker.on_event(depth, event, value);
            },
            /*allow_exceptions=*/true, /*ignore_comments=*/false);
        return parsed;
    } catch (const reject_parse& r) {
        return src.error(errc::syntax, r.field, r.reason);
    } catch (const json::exception& e) {
        return src.error(errc::syntax, "", parse_error_reason(e));
    }
}

std::optional<error_info> check_object(const json& value, std::string_view pointer,
                                       std::initializer_list<std::string_view> known,
                                       const source& src) {
    if (!value.is_object())
        return src.error(errc::wrong_type, pointer_or_root(pointer),
                         "want an object, got " + std::string(type_name(value)));
    for (const auto& [key, item] : value.items()) {
        (void)item;
        if (std::find(known.begin(), known.end(), key) == known.end())
            return src.error(errc::unknown_field, pointer_append(pointer, key), "unknown field");
    }
    return std::nullopt;
}

result<std::string> read_string(const json& value, std::string_view pointer, const source& src) {
    if (!value.is_string())
        return src.error(errc::wrong_type, std::string(pointer),
                         "want a string, got " + std::string(type_name(value)));
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > string_size_max)
        return src.error(errc::bad_value, std::string(pointer),
                         "longer than " + std::to_string(string_size_max) + " bytes");
    if (text.find('\0') != std::string::npos)
        return src.error(errc::bad_value, std::string(pointer), "contains a NUL character");
    return text;
}

result<int64_t> read_integer(const json& value, std::string_view pointer, const source& src) {
    if (value.is_number_unsigned()) {
        const auto v = value.get<uint64_t>();
        if (v > static_cast<uint64_t>(INT64_MAX))
            return src.error(errc::bad_value, std::string(pointer), "integer too large");
        return static_cast<int64_t>(v);
    }
    if (value.is_number_integer())
        return value.get<int64_t>();
    return src.error(errc::wrong_type, std::string(pointer),
                     "want an integer, got " + std::string(type_name(value)));
}

result<uint32_t> read_u32(const json& value, std::string_view pointer, const source& src) {
    auto v = read_integer(value, pointer, src);
    if (!v)
        return v.error();
    if (*v < 0 || *v > static_cast<int64_t>(UINT32_MAX))
        return src.error(errc::bad_value, std::string(pointer),
                         "must be between 0 and 4294967295, got " + std::to_string(*v));
    return static_cast<uint32_t>(*v);
}

std::string_view type_name(const json& value) noexcept {
    switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a fractional number";
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "nothing";
    }
    return "an unknown type";
}

} // namespace ainet::config::detail
