#include <ainet/core/bytes.hpp>

namespace ainet {

result<uint64_t, errc> byte_reader::varint() noexcept {
    uint64_t value = 0;
    for (size_t i = 0; i < varint_size_max; ++i) {
        if (at_end())
            return fail(errc::truncated);
        const uint8_t byte = m_input[m_position++];
        const uint64_t group = byte & 0x7fu;
        // The tenth byte may carry only the top bit of a 64-bit value.
        if (i == varint_size_max - 1 && group > 1)
            return fail(errc::varint_overlong);
        value |= group << (7 * i);
        if ((byte & 0x80u) == 0) {
            // A zero final group after the first byte means a shorter encoding existed.
            if (i > 0 && group == 0)
                return fail(errc::varint_noncanonical);
            return value;
        }
    }
    return fail(errc::varint_overlong);
}

result<bytes_view, errc> byte_reader::length_prefixed(size_t size_max) noexcept {
    AINET_TRY(size, varint());
    if (size > size_max)
        return fail(errc::length_exceeds_limit);
    return bytes(static_cast<size_t>(size));
}

bytes_view byte_reader::rest() noexcept {
    bytes_view out = m_input.subspan(m_position);
    m_position = m_input.size();
    return out;
}

result<void, errc> byte_reader::expect_end() const noexcept {
    if (!at_end())
        return fail(errc::trailing_bytes);
    return {};
}

void byte_writer::varint(uint64_t value) noexcept {
    uint8_t* p = claim(varint_size(value));
    if (!p)
        return;
    while (value >= 0x80) {
        *p++ = static_cast<uint8_t>(value | 0x80u);
        value >>= 7;
    }
    *p = static_cast<uint8_t>(value);
}

void byte_writer::bytes(bytes_view data) noexcept {
    if (uint8_t* p = claim(data.size()); p && !data.empty())
        std::memcpy(p, data.data(), data.size());
}

void byte_writer::bytes(std::string_view text) noexcept {
    bytes(bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void byte_writer::length_prefixed(bytes_view data) noexcept {
    varint(data.size());
    bytes(data);
}

void byte_writer::length_prefixed(std::string_view text) noexcept {
    varint(text.size());
    bytes(text);
}

mutable_bytes byte_writer::reserve(size_t size) noexcept {
    uint8_t* p = claim(size);
    return p ? mutable_bytes(p, size) : mutable_bytes();
}

result<size_t, errc> byte_writer::finish() const noexcept {
    if (m_overflow)
        return fail(errc::buffer_full);
    return m_position;
}

} // namespace ainet
