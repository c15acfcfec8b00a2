#include <ainet/core/encoding.hpp>

#include <array>

namespace ainet {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";
constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

constexpr std::array<int8_t, 256> make_base64_table() noexcept {
    std::array<int8_t, 256> table{};
    for (auto& v : table)
        v = -1;
    for (int i = 0; i < 64; ++i)
        table[static_cast<uint8_t>(base64_alphabet[i])] = static_cast<int8_t>(i);
    return table;
}

constexpr auto base64_table = make_base64_table();

} // namespace

std::string to_hex(bytes_view data) {
    std::string out;
    out.reserve(data.size() * 2);
    for (uint8_t byte : data) {
        out.push_back(hex_digits[byte >> 4]);
        out.push_back(hex_digits[byte & 0x0f]);
    }
    return out;
}

result<void, errc> from_hex_into(std::string_view text, mutable_bytes out) noexcept {
    if (text.size() % 2 != 0)
        return fail(errc::bad_hex);
    if (text.size() / 2 != out.size())
        return fail(errc::wrong_size);
    for (size_t i = 0; i < out.size(); ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return fail(errc::bad_hex);
        out[i] = static_cast<uint8_t>((high << 4) | low);
    }
    return {};
}

result<std::vector<uint8_t>, errc> from_hex(std::string_view text) {
    if (text.size() % 2 != 0)
        return fail(errc::bad_hex);
    std::vector<uint8_t> out(text.size() / 2);
    AINET_TRY_VOID(from_hex_into(text, out));
    return out;
}

std::string to_base64(bytes_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const uint32_t group = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
        out.push_back(base64_alphabet[(group >> 18) & 63]);
        out.push_back(base64_alphabet[(group >> 12) & 63]);
        out.push_back(base64_alphabet[(group >> 6) & 63]);
        out.push_back(base64_alphabet[group & 63]);
    }
    const size_t tail = data.size() - i;
    if (tail == 1) {
        const uint32_t group = uint32_t{data[i]} << 16;
        out.push_back(base64_alphabet[(group >> 18) & 63]);
        out.push_back(base64_alphabet[(group >> 12) & 63]);
        out.append("==");
    } else if (tail == 2) {
        const uint32_t group = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
        out.push_back(base64_alphabet[(group >> 18) & 63]);
        out.push_back(base64_alphabet[(group >> 12) & 63]);
        out.push_back(base64_alphabet[(group >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

result<std::vector<uint8_t>, errc> from_base64(std::string_view text) {
    if (text.size() % 4 != 0)
        return fail(errc::bad_base64);
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        size_t padding = 0;
        if (last) {
            padding = text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
        }
        uint32_t group = 0;
        for (size_t j = 0; j < 4; ++j) {
            group <<= 6;
            if (j >= 4 - padding)
                continue;
            const int8_t v = base64_table[static_cast<uint8_t>(text[i + j])];
            if (v < 0)
                return fail(errc::bad_base64);
            group |= static_cast<uint32_t>(v);
        }
        out.push_back(static_cast<uint8_t>(group >> 16));
        if (padding < 2)
            out.push_back(static_cast<uint8_t>(group >> 8));
        if (padding < 1)
            out.push_back(static_cast<uint8_t>(group));
        // Unused low bits of a padded group must be zero, or two texts would decode alike.
        if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0))
            return fail(errc::bad_base64);
    }
    return out;
}

} // namespace ainet
