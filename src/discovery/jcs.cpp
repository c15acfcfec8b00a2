#include <ainet/core/assert.hpp>
#include <ainet/discovery/jcs.hpp>

#include <algorithm>
#include <utility>

namespace ainet::discovery {

namespace {

// Length of the UTF-8 sequence starting at text[pos] and its code point, or 0 if the bytes
// there are not a well-formed sequence (RFC 3629 table 3: no overlongs, no surrogates,
// nothing above U+10FFFF).
size_t decode_utf8(std::string_view text, size_t pos, uint32_t& code_point) noexcept {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[pos + i]); };
    const size_t left = text.size() - pos;
    const uint8_t b0 = byte(0);
    if (b0 < 0x80) {
        code_point = b0;
        return 1;
    }
    size_t size = 0;
    uint32_t cp = 0;
    uint8_t low = 0x80; // allowed range of the second byte
    uint8_t high = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        size = 2;
        cp = b0 & 0x1fu;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        size = 3;
        cp = b0 & 0x0fu;
        if (b0 == 0xe0)
            low = 0xa0; // overlong below U+0800
        if (b0 == 0xed)
            high = 0x9f; // surrogates U+D800..U+DFFF
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        size = 4;
        cp = b0 & 0x07u;
        if (b0 == 0xf0)
            low = 0x90; // overlong below U+10000
        if (b0 == 0xf4)
            high = 0x8f; // above U+10FFFF
    } else {
        return 0;
    }
    if (left < size)
        return 0;
    for (size_t i = 1; i < size; ++i) {
        const uint8_t b = byte(i);
        if (i == 1 ? (b < low || b > high) : (b < 0x80 || b > 0xbf))
            return 0;
        cp = (cp << 6) | (b & 0x3fu);
    }
    code_point = cp;
    return size;
}

void append_utf8(std::string& out, uint32_t cp) {
    AINET_ASSERT(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

// Walks valid UTF-8 as UTF-16 code units, without allocating.
class utf16_cursor {
public:
    explicit utf16_cursor(std::string_view text) noexcept : m_text(text) {}

    bool next(uint16_t& unit) noexcept {
        if (m_pending != 0) {
            unit = m_pending;
            m_pending = 0;
            return true;
        }
        if (m_pos >= m_text.size())
            return false;
        uint32_t cp = 0;
        const size_t size = decode_utf8(m_text, m_pos, cp);
        AINET_ASSERT(size != 0); // precondition: valid UTF-8
        m_pos += size;
        if (cp < 0x10000) {
            unit = static_cast<uint16_t>(cp);
        } else {
            cp -= 0x10000;
            unit = static_cast<uint16_t>(0xd800 + (cp >> 10));
            m_pending = static_cast<uint16_t>(0xdc00 + (cp & 0x3ff));
        }
        return true;
    }

private:
    std::string_view m_text;
    size_t m_pos = 0;
    uint16_t m_pending = 0; // a low surrogate still to deliver (never 0 when pending)
};

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Recursive descent over the subset; recursion depth is bounded by json_depth_max.
class parser {
public:
    explicit parser(std::string_view text) noexcept : m_text(text) {}

    result<json_value> document() {
        skip_whitespace();
        AINET_TRY(value, parse_value(0));
        skip_whitespace();
        if (m_pos != m_text.size())
            return fail(errc::syntax);
        return value;
    }

private:
    bool at_end() const noexcept { return m_pos >= m_text.size(); }
    char peek() const noexcept { return m_text[m_pos]; }

    void skip_whitespace() noexcept {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++m_pos;
    }

    bool consume_literal(std::string_view literal) noexcept {
        if (m_text.substr(m_pos, literal.size()) != literal)
            return false;
        m_pos += literal.size();
        return true;
    }

    result<json_value> parse_value(size_t depth) {
        if (at_end())
            return fail(errc::syntax);
        switch (peek()) {
        case '{': return parse_object(depth + 1);
        case '[': return parse_array(depth + 1);
        case '"': {
            json_value v;
            v.type = json_value::kind::string;
            AINET_TRY_VOID(parse_string(v.string));
            return v;
        }
        case 't':
            if (consume_literal("true"))
                return json_value::make_bool(true);
            return fail(errc::syntax);
        case 'f':
            if (consume_literal("false"))
                return json_value::make_bool(false);
            return fail(errc::syntax);
        case 'n':
            if (consume_literal("null"))
                return json_value{};
            return fail(errc::syntax);
        default: return parse_number();
        }
    }

    result<json_value> parse_number() {
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++m_pos;
        }
        if (at_end() || !is_digit(peek()))
            return fail(errc::syntax);
        int64_t magnitude = 0;
        bool too_big = false;
        if (peek() == '0') {
            ++m_pos;
        } else {
            while (!at_end() && is_digit(peek())) {
                const int64_t digit = peek() - '0';
                if (magnitude > (json_integer_max - digit) / 10)
                    too_big = true;
                else
                    magnitude = magnitude * 10 + digit;
                ++m_pos;
            }
        }
        // Fractions and exponents are checked for syntax first, so that "1." is a syntax
        // error and "1.5" a number this subset does not sign.
        bool fractional = false;
        if (!at_end() && peek() == '.') {
            ++m_pos;
            if (at_end() || !is_digit(peek()))
                return fail(errc::syntax);
            while (!at_end() && is_digit(peek()))
                ++m_pos;
            fractional = true;
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            ++m_pos;
            if (!at_end() && (peek() == '+' || peek() == '-'))
                ++m_pos;
            if (at_end() || !is_digit(peek()))
                return fail(errc::syntax);
            while (!at_end() && is_digit(peek()))
                ++m_pos;
            fractional = true;
        }
        if (fractional)
            return fail(errc::not_integer);
        if (too_big)
            return fail(errc::integer_out_of_range);
        return json_value::make_integer(negative ? -magnitude : magnitude);
    }

    result<uint16_t> parse_hex4() noexcept {
        if (m_text.size() - m_pos < 4)
            return fail(errc::syntax);
        uint16_t unit = 0;
        for (size_t i = 0; i < 4; ++i) {
            const int d = hex_digit(m_text[m_pos + i]);
            if (d < 0)
                return fail(errc::syntax);
            unit = static_cast<uint16_t>((unit << 4) | d);
        }
        m_pos += 4;
        return unit;
    }

    // At a '\\'; appends the escaped character's UTF-8.
    result<void> parse_escape(std::string& out) {
        ++m_pos;
        if (at_end())
            return fail(errc::syntax);
        const char c = peek();
        ++m_pos;
        switch (c) {
        case '"': out.push_back('"'); return {};
        case '\\': out.push_back('\\'); return {};
        case '/': out.push_back('/'); return {};
        case 'b': out.push_back('\b'); return {};
        case 'f': out.push_back('\f'); return {};
        case 'n': out.push_back('\n'); return {};
        case 'r': out.push_back('\r'); return {};
        case 't': out.push_back('\t'); return {};
        case 'u': break;
        default: return fail(errc::syntax);
        }
        AINET_TRY(unit, parse_hex4());
        uint32_t cp = unit;
        if (unit >= 0xdc00 && unit <= 0xdfff)
            return fail(errc::bad_utf8); // a low surrogate with no high one before it
        if (unit >= 0xd800 && unit <= 0xdbff) {
            if (!consume_literal("\\u"))
                return fail(errc::bad_utf8);
            AINET_TRY(low, parse_hex4());
            if (low < 0xdc00 || low > 0xdfff)
                return fail(errc::bad_utf8);
            cp = 0x10000 + ((uint32_t{unit} - 0xd800) << 10) + (uint32_t{low} - 0xdc00);
        }
        append_utf8(out, cp);
        return {};
    }

    result<void> parse_string(std::string& out) {
        AINET_ASSERT(peek() == '"');
        ++m_pos;
        while (!at_end()) {
            const auto c = static_cast<uint8_t>(peek());
            if (c == '"') {
                ++m_pos;
                return {};
            }
            if (c < 0x20)
                return fail(errc::syntax); // control characters must be escaped
            if (c == '\\') {
                AINET_TRY_VOID(parse_escape(out));
                continue;
            }
            uint32_t cp = 0;
            const size_t size = decode_utf8(m_text, m_pos, cp);
            if (size == 0)
                return fail(errc::bad_utf8);
            out.append(m_text.substr(m_pos, size));
            m_pos += size;
        }
        return fail(errc::syntax); // unterminated
    }

    result<json_value> parse_array(size_t depth) {
        if (depth > json_depth_max)
            return fail(errc::too_deep);
        ++m_pos; // '['
        json_value v = json_value::make_array();
        skip_whitespace();
        if (!at_end() && peek() == ']') {
            ++m_pos;
            return v;
        }
        while (true) { // each turn consumes input, so this ends with the text
            skip_whitespace();
            AINET_TRY(item, parse_value(depth));
            v.array.push_back(std::move(item));
            skip_whitespace();
            if (at_end())
                return fail(errc::syntax);
            if (peek() == ']') {
                ++m_pos;
                return v;
            }
            if (peek() != ',')
                return fail(errc::syntax);
            ++m_pos;
        }
    }

    result<json_value> parse_object(size_t depth) {
        if (depth > json_depth_max)
            return fail(errc::too_deep);
        ++m_pos; // '{'
        json_value v = json_value::make_object();
        skip_whitespace();
        if (!at_end() && peek() == '}') {
            ++m_pos;
            return v;
        }
        while (true) { // each turn consumes input, so this ends with the text
            skip_whitespace();
            if (at_end() || peek() != '"')
                return fail(errc::syntax);
            std::string key;
            AINET_TRY_VOID(parse_string(key));
            skip_whitespace();
            if (at_end() || peek() != ':')
                return fail(errc::syntax);
            ++m_pos;
            skip_whitespace();
            AINET_TRY(item, parse_value(depth));
            v.object.push_back(json_member{std::move(key), std::move(item)});
            skip_whitespace();
            if (at_end())
                return fail(errc::syntax);
            if (peek() == '}') {
                ++m_pos;
                break;
            }
            if (peek() != ',')
                return fail(errc::syntax);
            ++m_pos;
        }
        // Duplicates in O(n log n), so a hostile object with many keys stays cheap.
        std::vector<const std::string*> keys;
        keys.reserve(v.object.size());
        for (const auto& m : v.object)
            keys.push_back(&m.key);
        std::sort(keys.begin(), keys.end(),
                  [](const std::string* a, const std::string* b) { return *a < *b; });
        for (size_t i = 1; i < keys.size(); ++i)
            if (*keys[i - 1] == *keys[i])
                return fail(errc::duplicate_key);
        return v;
    }

    std::string_view m_text;
    size_t m_pos = 0;
};

void write_string(std::string& out, std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : text) {
        const auto byte = static_cast<uint8_t>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (byte < 0x20) {
                out += "\\u00";
                out.push_back(digits[byte >> 4]);
                out.push_back(digits[byte & 0x0f]);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

void write_value(std::string& out, const json_value& v, size_t depth);

// Members sorted by UTF-16 code units, skipping excluded (nullptr: none).
void write_object(std::string& out, const json_value& v, size_t depth,
                  const std::string_view* excluded) {
    std::vector<const json_member*> members;
    members.reserve(v.object.size());
    for (const auto& m : v.object)
        if (excluded == nullptr || m.key != *excluded)
            members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const json_member* a, const json_member* b) {
        return utf16_less(a->key, b->key);
    });
    out.push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
        if (i != 0) {
            AINET_ASSERT(members[i - 1]->key != members[i]->key);
            out.push_back(',');
        }
        write_string(out, members[i]->key);
        out.push_back(':');
        write_value(out, members[i]->value, depth + 1);
    }
    out.push_back('}');
}

void write_value(std::string& out, const json_value& v, size_t depth) {
    AINET_ASSERT(depth <= json_depth_max + 1);
    switch (v.type) {
    case json_value::kind::null: out += "null"; return;
    case json_value::kind::boolean: out += v.boolean ? "true" : "false"; return;
    case json_value::kind::integer:
        AINET_ASSERT(v.integer >= -json_integer_max && v.integer <= json_integer_max);
        out += std::to_string(v.integer);
        return;
    case json_value::kind::string: write_string(out, v.string); return;
    case json_value::kind::array:
        out.push_back('[');
        for (size_t i = 0; i < v.array.size(); ++i) {
            if (i != 0)
                out.push_back(',');
            write_value(out, v.array[i], depth + 1);
        }
        out.push_back(']');
        return;
    case json_value::kind::object: write_object(out, v, depth, nullptr); return;
    }
    AINET_UNREACHABLE();
}

} // namespace

json_value json_value::make_bool(bool value) {
    json_value v;
    v.type = kind::boolean;
    v.boolean = value;
    return v;
}

json_value json_value::make_integer(int64_t value) {
    AINET_ASSERT(value >= -json_integer_max && value <= json_integer_max);
    json_value v;
    v.type = kind::integer;
    v.integer = value;
    return v;
}

json_value json_value::make_string(std::string text) {
    AINET_ASSERT(is_valid_utf8(text));
    json_value v;
    v.type = kind::string;
    v.string = std::move(text);
    return v;
}

json_value json_value::make_array(std::vector<json_value> items) {
    json_value v;
    v.type = kind::array;
    v.array = std::move(items);
    return v;
}

json_value json_value::make_object() {
    json_value v;
    v.type = kind::object;
    return v;
}

json_value& json_value::add(std::string key, json_value value) {
    AINET_ASSERT(type == kind::object);
    AINET_ASSERT(is_valid_utf8(key));
    AINET_ASSERT(find(key) == nullptr);
    object.push_back(json_member{std::move(key), std::move(value)});
    return *this;
}

const json_value* json_value::find(std::string_view key) const noexcept {
    if (type != kind::object)
        return nullptr;
    for (const auto& m : object)
        if (m.key == key)
            return &m.value;
    return nullptr;
}

result<json_value> parse_json(std::string_view text, size_t text_size_max) {
    if (text.size() > text_size_max)
        return fail(errc::too_large);
    return parser(text).document();
}

std::string canonicalize(const json_value& value) {
    std::string out;
    write_value(out, value, 0);
    return out;
}

std::string canonicalize_without(const json_value& value, std::string_view excluded_key) {
    AINET_ASSERT(value.type == json_value::kind::object);
    std::string out;
    write_object(out, value, 0, &excluded_key);
    return out;
}

result<std::string> canonicalize(std::string_view text, size_t text_size_max) {
    AINET_TRY(value, parse_json(text, text_size_max));
    return canonicalize(value);
}

bool utf16_less(std::string_view a, std::string_view b) noexcept {
    utf16_cursor ca(a);
    utf16_cursor cb(b);
    // Each turn consumes a unit of both; ends with the shorter string.
    while (true) {
        uint16_t ua = 0;
        uint16_t ub = 0;
        const bool has_a = ca.next(ua);
        const bool has_b = cb.next(ub);
        if (!has_a || !has_b)
            return !has_a && has_b;
        if (ua != ub)
            return ua < ub;
    }
}

bool is_valid_utf8(std::string_view text) noexcept {
    size_t pos = 0;
    while (pos < text.size()) {
        uint32_t cp = 0;
        const size_t size = decode_utf8(text, pos, cp);
        if (size == 0)
            return false;
        pos += size;
    }
    return true;
}

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::too_large: return "too large";
    case errc::syntax: return "not valid JSON";
    case errc::too_deep: return "nested too deep";
    case errc::bad_utf8: return "invalid UTF-8 or lone surrogate";
    case errc::duplicate_key: return "duplicate object key";
    case errc::not_integer: return "number with a fraction or exponent";
    case errc::integer_out_of_range: return "integer outside +-(2^53-1)";
    case errc::wrong_type: return "field of the wrong JSON type";
    case errc::unknown_field: return "unknown field";
    case errc::missing_field: return "missing field";
    case errc::bad_value: return "bad field value";
    case errc::too_many_records: return "too many records";
    case errc::wrong_signer: return "signed by another node than expected";
    case errc::not_yet_valid: return "issued in the future";
    case errc::bad_signature: return "list signature does not verify";
    }
    return "unknown discovery error";
}

} // namespace ainet::discovery
