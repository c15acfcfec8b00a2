#pragma once
// result<T, E>: a value or an error code, the way every operating error travels in ainet.
//
// C++20 has no std::expected, so this is a small own type with the parts we use. E is a
// module's `enum class errc`; each module defines `template <class T> using result =
// ainet::result<T, errc>;` and a `to_string(errc)`. Accessing the wrong alternative is a bug
// and trips AINET_ASSERT. Never throws, never allocates beyond what T itself does; usable
// from any thread.
//
//     result<int, errc> parse(...) { if (bad) return fail(errc::truncated); return 42; }
//     AINET_TRY(value, parse(...));   // early-returns the error converted to the caller's type

#include <ainet/core/assert.hpp>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace ainet {

// The error alternative, spelled `fail(e)` at return sites so that a result<E, E> stays usable.
template <class E>
struct failure {
    E error;
};

template <class E>
[[nodiscard]] constexpr failure<E> fail(E error) noexcept {
    return failure<E>{error};
}

template <class T, class E>
class [[nodiscard]] result {
    static_assert(std::is_enum_v<E>, "errors are enum classes");

public:
    using value_type = T;
    using error_type = E;

    template <class U = T>
        requires std::is_constructible_v<T, U&&>
    constexpr result(U&& value) : m_state(std::in_place_index<0>, std::forward<U>(value)) {}
    constexpr result(failure<E> f) noexcept : m_state(std::in_place_index<1>, f.error) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return m_state.index() == 0; }
    constexpr explicit operator bool() const noexcept { return has_value(); }

    [[nodiscard]] constexpr T& value() & {
        AINET_ASSERT(has_value());
        return *std::get_if<0>(&m_state);
    }
    [[nodiscard]] constexpr const T& value() const& {
        AINET_ASSERT(has_value());
        return *std::get_if<0>(&m_state);
    }
    [[nodiscard]] constexpr T&& value() && {
        AINET_ASSERT(has_value());
        return std::move(*std::get_if<0>(&m_state));
    }
    [[nodiscard]] constexpr E error() const noexcept {
        AINET_ASSERT(!has_value());
        return *std::get_if<1>(&m_state);
    }

    constexpr T& operator*() & { return value(); }
    constexpr const T& operator*() const& { return value(); }
    constexpr T&& operator*() && { return std::move(*this).value(); }
    constexpr T* operator->() { return &value(); }
    constexpr const T* operator->() const { return &value(); }

    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, E> m_state;
};

template <class E>
class [[nodiscard]] result<void, E> {
    static_assert(std::is_enum_v<E>, "errors are enum classes");

public:
    using value_type = void;
    using error_type = E;

    constexpr result() noexcept = default;
    constexpr result(failure<E> f) noexcept : m_error(f.error) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return !m_error.has_value(); }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    constexpr void value() const { AINET_ASSERT(has_value()); }
    [[nodiscard]] constexpr E error() const noexcept {
        AINET_ASSERT(!has_value());
        return *m_error;
    }

private:
    std::optional<E> m_error;
};

} // namespace ainet

#define AINET_CONCAT_IMPL(a, b) a##b
#define AINET_CONCAT(a, b) AINET_CONCAT_IMPL(a, b)

// AINET_TRY(name, expr): declares `name` holding the value of a successful result, or returns
// the error from the enclosing function (which must return a result with the same errc, or a
// type constructible from failure<errc>).
#define AINET_TRY(name, expr)                                                                      \
    auto AINET_CONCAT(ainet_try_, __LINE__) = (expr);                                              \
    if (!AINET_CONCAT(ainet_try_, __LINE__))                                                       \
        return ::ainet::fail(AINET_CONCAT(ainet_try_, __LINE__).error());                          \
    auto name = std::move(AINET_CONCAT(ainet_try_, __LINE__)).value()

// AINET_TRY_VOID(expr): returns the error of a failed result<void, E>.
#define AINET_TRY_VOID(expr)                                                                       \
    do {                                                                                           \
        auto ainet_try_void = (expr);                                                              \
        if (!ainet_try_void)                                                                       \
            return ::ainet::fail(ainet_try_void.error());                                          \
    } while (false)
