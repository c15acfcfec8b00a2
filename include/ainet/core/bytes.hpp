#pragma once
// Bounds-checked byte reader and writer: the only way ainet code turns bytes into numbers.
//
// byte_reader walks a borrowed span and returns result<T> for every field; it never reads past
// the end and never throws, so it is safe on untrusted input. Integers are little-endian;
// varints are unsigned LEB128 and must be minimally encoded, so every value has exactly one
// encoding (signed payloads depend on that). Length-prefixed fields are a varint length then
// the bytes, with a caller-given maximum checked before anything is taken.
//
// byte_writer fills a borrowed, fixed-size buffer and allocates nothing (data path safe). A
// write that does not fit sets a sticky error and leaves the rest untouched; check finish().
// Both are plain values, owned by one thread at a time.

#include <ainet/core/errc.hpp>
#include <ainet/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace ainet {

using bytes_view = std::span<const uint8_t>;
using mutable_bytes = std::span<uint8_t>;

inline constexpr size_t varint_size_max = 10;

// Bytes a minimal LEB128 encoding of value takes (1..10).
[[nodiscard]] constexpr size_t varint_size(uint64_t value) noexcept {
    size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++size;
    }
    return size;
}

namespace detail {

template <class T>
[[nodiscard]] inline T load_le(const uint8_t* p) noexcept {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        value = static_cast<T>(value | (static_cast<T>(p[i]) << (8 * i)));
    return value;
}

template <class T>
inline void store_le(uint8_t* p, T value) noexcept {
    for (size_t i = 0; i < sizeof(T); ++i)
        p[i] = static_cast<uint8_t>(value >> (8 * i));
}

} // namespace detail

// The fixed-width reads and writes are defined here, inline: every decoder on the data path
// (relay headers, reliability packets) is made of them, and a call per field cost the relay
// about 14% of its time when they lived in bytes.cpp.
class byte_reader {
public:
    constexpr explicit byte_reader(bytes_view input) noexcept : m_input(input) {}

    [[nodiscard]] result<uint8_t, errc> u8() noexcept {
        AINET_TRY(view, bytes(1));
        return view[0];
    }
    [[nodiscard]] result<uint16_t, errc> u16() noexcept {
        AINET_TRY(view, bytes(2));
        return detail::load_le<uint16_t>(view.data());
    }
    [[nodiscard]] result<uint32_t, errc> u32() noexcept {
        AINET_TRY(view, bytes(4));
        return detail::load_le<uint32_t>(view.data());
    }
    [[nodiscard]] result<uint64_t, errc> u64() noexcept {
        AINET_TRY(view, bytes(8));
        return detail::load_le<uint64_t>(view.data());
    }
    [[nodiscard]] result<uint64_t, errc> varint() noexcept;

    // The next size bytes, borrowed from the input.
    [[nodiscard]] result<bytes_view, errc> bytes(size_t size) noexcept {
        if (size > remaining())
            return fail(errc::truncated);
        bytes_view out = m_input.subspan(m_position, size);
        m_position += size;
        return out;
    }

    // A varint length (at most size_max) followed by that many bytes, borrowed.
    [[nodiscard]] result<bytes_view, errc> length_prefixed(size_t size_max) noexcept;

    template <size_t Size>
    [[nodiscard]] result<std::array<uint8_t, Size>, errc> fixed() noexcept {
        AINET_TRY(view, bytes(Size));
        std::array<uint8_t, Size> out{};
        std::memcpy(out.data(), view.data(), Size);
        return out;
    }

    // Everything left, borrowed; the reader is then at its end.
    [[nodiscard]] bytes_view rest() noexcept;

    // Fails with trailing_bytes unless every byte was consumed.
    [[nodiscard]] result<void, errc> expect_end() const noexcept;

    [[nodiscard]] size_t position() const noexcept { return m_position; }
    [[nodiscard]] size_t remaining() const noexcept { return m_input.size() - m_position; }
    [[nodiscard]] bool at_end() const noexcept { return m_position == m_input.size(); }

private:
    bytes_view m_input;
    size_t m_position = 0;
};

class byte_writer {
public:
    constexpr explicit byte_writer(mutable_bytes output) noexcept : m_output(output) {}

    void u8(uint8_t value) noexcept {
        if (uint8_t* p = claim(1))
            *p = value;
    }
    void u16(uint16_t value) noexcept {
        if (uint8_t* p = claim(2))
            detail::store_le(p, value);
    }
    void u32(uint32_t value) noexcept {
        if (uint8_t* p = claim(4))
            detail::store_le(p, value);
    }
    void u64(uint64_t value) noexcept {
        if (uint8_t* p = claim(8))
            detail::store_le(p, value);
    }
    void varint(uint64_t value) noexcept;
    void bytes(bytes_view data) noexcept;
    void bytes(std::string_view text) noexcept;
    // A minimal varint length, then the bytes.
    void length_prefixed(bytes_view data) noexcept;
    void length_prefixed(std::string_view text) noexcept;

    // Reserves size bytes now, to be filled later (e.g. a length known only at the end).
    [[nodiscard]] mutable_bytes reserve(size_t size) noexcept;

    [[nodiscard]] bool ok() const noexcept { return !m_overflow; }
    [[nodiscard]] size_t position() const noexcept { return m_position; }
    [[nodiscard]] size_t remaining() const noexcept { return m_output.size() - m_position; }
    [[nodiscard]] bytes_view written() const noexcept { return m_output.first(m_position); }

    // The number of bytes written, or buffer_full if any write did not fit.
    [[nodiscard]] result<size_t, errc> finish() const noexcept;

private:
    [[nodiscard]] uint8_t* claim(size_t size) noexcept {
        if (m_overflow || size > remaining()) {
            m_overflow = true;
            return nullptr;
        }
        uint8_t* p = m_output.data() + m_position;
        m_position += size;
        return p;
    }

    mutable_bytes m_output;
    size_t m_position = 0;
    bool m_overflow = false;
};

} // namespace ainet
