#pragma once
// `ainetctl verify --stream`: verifies one signature per input line, for scripts, differential
// tests against other Ed25519 implementations, and batch-versus-single checks.
//
// Input lines are "PK_HEX MSG_HEX SIG_HEX" (fields separated by spaces or tabs; a trailing CR
// is ignored; an empty message is written "-"). For every input line exactly one output line
// is written, in order: "ok" if the signature verifies, "bad" otherwise, including for lines
// that do not parse (bad hex, wrong sizes, wrong field count, empty, longer than
// verify_line_size_max); those also get "line N: reason" on the error stream. Nothing in the
// input can crash the stream or desynchronise its output from its input.
//
// With batch_size > 0, lines are grouped batch_size at a time and checked with
// crypto::verify_batch; the output is identical to one-at-a-time mode (the batch predicate
// equals the single one), only flushed once per batch instead of once per line.
// Single-threaded; allocates per line (it is a tool, not the data path).

#include <ainet/core/result.hpp>
#include <ainet/crypto/ed25519.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <vector>

namespace ainet::ctl {

// Largest message a stream line may carry, in bytes.
inline constexpr size_t verify_message_size_max = 64 * 1024;
// Longest accepted input line in bytes (without its newline): the three fields at their
// largest plus generous room for separators.
inline constexpr size_t verify_line_size_max =
    2 * crypto::public_key_size + 2 * verify_message_size_max + 2 * crypto::signature_size + 64;
// Largest --batch value.
inline constexpr size_t verify_batch_size_max = 4096;

enum class errc : uint8_t {
    empty_line = 1,     // nothing but whitespace
    field_count,        // not exactly three fields
    bad_public_key_hex, // public key field is not hex
    public_key_size,    // public key is not 32 bytes
    bad_message_hex,    // message field is neither "-" nor hex
    message_too_long,   // message is over verify_message_size_max bytes
    bad_signature_hex,  // signature field is not hex
    signature_size,     // signature is not 64 bytes
    line_too_long,      // the line is over verify_line_size_max bytes
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

struct verify_line {
    crypto::public_key key{};
    std::vector<uint8_t> message;
    crypto::signature sig{};
};

// Parses one input line (without its newline). Never throws on any input except bad_alloc.
[[nodiscard]] result<verify_line> parse_verify_line(std::string_view line);

struct verify_stream_options {
    // The domain messages were signed in; nullopt: raw Ed25519 over exactly the message bytes.
    std::optional<crypto::sig_domain> domain;
    // 0: verify and answer line by line; 1..verify_batch_size_max: crypto::verify_batch groups.
    size_t batch_size = 0;
};

struct verify_stream_counts {
    uint64_t line_count = 0;
    uint64_t ok_count = 0;
    uint64_t bad_count = 0; // includes malformed lines
    uint64_t malformed_count = 0;
};

// Runs the stream until end of input. Precondition: crypto::init() succeeded and
// options.batch_size <= verify_batch_size_max.
verify_stream_counts run_verify_stream(std::istream& in, std::ostream& out, std::ostream& err,
                                       const verify_stream_options& options);

} // namespace ainet::ctl
