#include "verify_stream.hpp"

#include <ainet/core/encoding.hpp>

#include <array>
#include <istream>
#include <memory>
#include <ostream>
#include <string>

namespace ainet::ctl {

namespace {

constexpr bool is_separator(char c) noexcept { return c == ' ' || c == '\t'; }

enum class read_status { line, too_long, end };

// Reads one line into `line` (newline dropped). A line over size_max is consumed to its end and
// reported as too_long, so one bad line never splits into several outputs. `end` means no
// more input (a final line without a newline is still returned as a line first).
read_status read_bounded_line(std::streambuf& in, std::string& line, size_t size_max) {
    line.clear();
    bool too_long = false;
    bool any = false;
    for (;;) {
        const auto c = in.sbumpc();
        if (c == std::char_traits<char>::eof())
            return !any ? read_status::end : too_long ? read_status::too_long : read_status::line;
        any = true;
        if (c == '\n')
            return too_long ? read_status::too_long : read_status::line;
        if (too_long)
            continue;
        if (line.size() >= size_max) {
            too_long = true;
            line.clear();
            continue;
        }
        line.push_back(std::char_traits<char>::to_char_type(c));
    }
}

template <size_t Size>
result<std::array<uint8_t, Size>> decode_fixed(std::string_view text, errc bad_hex,
                                               errc bad_size) {
    std::array<uint8_t, Size> out{};
    if (text.size() != 2 * Size)
        // Odd-length or non-hex text of the wrong length is still reported as bad hex first.
        return fail(from_hex(text) ? bad_size : bad_hex);
    if (!from_hex_into(text, out))
        return fail(bad_hex);
    return out;
}

struct pending {
    std::optional<verify_line> line; // nullopt: malformed, answered "bad"
};

void report(std::ostream& err, uint64_t line_number, errc e) {
    err << "line " << line_number << ": " << to_string(e) << '\n';
}

} // namespace

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::empty_line: return "empty line";
    case errc::field_count: return "want 3 fields: PK_HEX MSG_HEX SIG_HEX";
    case errc::bad_public_key_hex: return "public key is not hex";
    case errc::public_key_size: return "public key is not 32 bytes";
    case errc::bad_message_hex: return "message is neither '-' nor hex";
    case errc::message_too_long: return "message is longer than 65536 bytes";
    case errc::bad_signature_hex: return "signature is not hex";
    case errc::signature_size: return "signature is not 64 bytes";
    case errc::line_too_long: return "line too long";
    }
    return "unknown verify-stream error";
}

result<verify_line> parse_verify_line(std::string_view line) {
    if (line.size() > verify_line_size_max)
        return fail(errc::line_too_long);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);

    std::array<std::string_view, 3> fields;
    size_t field_count = 0;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_separator(line[i]))
            ++i;
        if (i == line.size())
            break;
        const size_t start = i;
        while (i < line.size() && !is_separator(line[i]))
            ++i;
        if (field_count == fields.size())
            return fail(errc::field_count);
        fields[field_count++] = line.substr(start, i - start);
    }
    if (field_count == 0)
        return fail(errc::empty_line);
    if (field_count != fields.size())
        return fail(errc::field_count);

    verify_line out;
    auto key = decode_fixed<crypto::public_key_size>(fields[0], errc::bad_public_key_hex,
                                                     errc::public_key_size);
    if (!key)
        return fail(key.error());
    out.key = *key;

    if (fields[1] != "-") {
        if (fields[1].size() > 2 * verify_message_size_max)
            return fail(errc::message_too_long);
        auto message = from_hex(fields[1]);
        if (!message)
            return fail(errc::bad_message_hex);
        out.message = std::move(*message);
    }

    auto sig = decode_fixed<crypto::signature_size>(fields[2], errc::bad_signature_hex,
                                                    errc::signature_size);
    if (!sig)
        return fail(sig.error());
    out.sig = *sig;
    return out;
}

verify_stream_counts run_verify_stream(std::istream& in, std::ostream& out, std::ostream& err,
                                       const verify_stream_options& options) {
    AINET_ASSERT(options.batch_size <= verify_batch_size_max);
    verify_stream_counts counts;
    std::streambuf* buffer = in.rdbuf();
    AINET_ASSERT(buffer != nullptr);

    auto answer = [&](bool ok) {
        out << (ok ? "ok\n" : "bad\n");
        ++(ok ? counts.ok_count : counts.bad_count);
    };

    std::vector<pending> group;
    std::vector<crypto::verify_request> requests;
    std::vector<size_t> request_owner;
    auto flush_group = [&] {
        requests.clear();
        request_owner.clear();
        for (size_t i = 0; i < group.size(); ++i) {
            if (!group[i].line)
                continue;
            auto& l = *group[i].line;
            requests.push_back(crypto::verify_request{l.key, l.message, l.sig});
            request_owner.push_back(i);
        }
        // std::vector<bool> has no contiguous storage; verify_batch wants a span<bool>.
        auto verdicts = std::make_unique<bool[]>(requests.size() + 1);
        if (!requests.empty())
            crypto::verify_batch(requests, std::span<bool>(verdicts.get(), requests.size()));
        size_t next = 0;
        for (size_t i = 0; i < group.size(); ++i) {
            if (group[i].line) {
                AINET_ASSERT(request_owner[next] == i);
                answer(verdicts[next++]);
            } else {
                answer(false);
            }
        }
        AINET_ASSERT(next == requests.size());
        group.clear();
        out.flush();
    };

    std::string text;
    for (;;) {
        const read_status status = read_bounded_line(*buffer, text, verify_line_size_max);
        if (status == read_status::end)
            break;
        const uint64_t line_number = ++counts.line_count;
        auto parsed = status == read_status::too_long
                          ? result<verify_line>(fail(errc::line_too_long))
                          : parse_verify_line(text);
        if (!parsed) {
            ++counts.malformed_count;
            report(err, line_number, parsed.error());
        }

        if (options.batch_size == 0) {
            bool ok = false;
            if (parsed) {
                const auto& l = *parsed;
                ok = options.domain ? crypto::verify(l.key, *options.domain, l.message, l.sig)
                                    : crypto::verify_raw(l.key, l.message, l.sig);
            }
            answer(ok);
            out.flush();
            continue;
        }

        pending p;
        if (parsed) {
            p.line = std::move(parsed).value();
            if (options.domain)
                p.line->message = crypto::signed_message(*options.domain, p.line->message);
        }
        group.push_back(std::move(p));
        if (group.size() == options.batch_size)
            flush_group();
    }
    if (!group.empty())
        flush_group();
    out.flush();
    return counts;
}

} // namespace ainet::ctl
