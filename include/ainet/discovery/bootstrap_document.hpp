#pragma once
// Signed bootstrap node lists: the JSON document a node serves at GET /bootstrap/nodes on its
// HTTP control address, how it is made, and how a client verifies it.
//
//     {"issued_at":1700000000000,
//      "nodes":[{"expires_at":1700086400000,"http":"192.0.2.1:8001","issued_at":1700000000000,
//                "public_key":"<64 hex>","signature":"<128 hex>","udp":"192.0.2.1:7001"}],
//      "signature":"<128 hex>","signer":"<64 hex>","version":1}
//
// Each record is self-signed by the node it describes (sig_domain::node_record), and the whole
// list by the serving node (sig_domain::bootstrap_list). Both signatures cover the RFC 8785
// canonical form (jcs.hpp) of the object without its "signature" member, so they verify
// whatever the key order, spacing or escaping of the text on the wire. The normative format,
// the verification steps in order and a test vector are in docs/PROTOCOL.md, "Bootstrap node
// lists (HTTP)".
//
// Parsing is strict: exact fields and JSON types; hex in lowercase and endpoints in the text
// form to_string(endpoint) gives, so every accepted document re-serializes to its own JCS form.
// A document with any structural fault, a failing list signature, a signer other than the one
// asked, or an issued_at in the future is rejected whole (errc) and nothing of it may be
// merged. Inside an accepted document each record gets its own record_verdict; only accepted
// records reach known_nodes (known_nodes.hpp).
//
// Protocol logic: pure functions of (text, now, limits); no clock, socket or randomness read.
// Not for the data path: allocates. Counters are single-writer (the thread that owns the
// discovery state) and read by /metrics.

#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/discovery/errc.hpp>
#include <ainet/discovery/jcs.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::discovery {

inline constexpr int64_t bootstrap_document_version = 1;

// One node's self-signed claim of where it listens, valid in [issued_at, expires_at).
struct node_record {
    node_id id;          // JSON "public_key": the node's Ed25519 public key
    endpoint udp;        // its UDP protocol address
    endpoint http;       // its HTTP control address (GET /bootstrap/nodes)
    unix_ms issued_at{}; // ms since the Unix epoch, 0..2^53-1
    unix_ms expires_at{};
    crypto::signature sig{}; // by id, sig_domain::node_record, over record_signed_text()

    friend bool operator==(const node_record&, const node_record&) = default;
};

// A record's verdict inside a list whose own signature verified. Checked in this order; the
// first that applies is the verdict.
enum class record_verdict : uint8_t {
    accepted = 0,
    bad_signature, // the record's own signature does not verify (forged or damaged)
    duplicate,     // an earlier record of this list has the same public key
    bad_lifetime,  // expires_at <= issued_at, or a lifetime above record_lifetime_ms_max
    not_yet_valid, // issued_at beyond now + clock_skew_ms_max
    expired,       // expires_at <= now
};
inline constexpr size_t record_verdict_count = static_cast<size_t>(record_verdict::expired) + 1;
[[nodiscard]] std::string_view to_string(record_verdict v) noexcept;

struct document_limits {
    // Bytes of document text; 256 records take about 100 KiB.
    size_t document_size_max = 256 * 1024;
    // Records one list may hold; a larger list is rejected whole (too_many_records).
    size_t records_max = 256;
    // How far in the future an issued_at may lie, for clocks that disagree.
    int64_t clock_skew_ms_max = 5 * 60 * 1000;
    // Longest record lifetime accepted, so a leaked record cannot be replayed for years.
    int64_t record_lifetime_ms_max = 7 * 24 * 60 * 60 * 1000LL;
};

// A list that passed every document-level check.
struct verified_document {
    node_id signer;
    unix_ms issued_at{};
    crypto::signature sig{};               // the list signature (verified)
    std::vector<node_record> records;      // every record, in document order
    std::vector<record_verdict> verdicts;  // verdicts[i] is the verdict on records[i]
    size_t accepted_count = 0;             // verdicts equal to accepted

    // The accepted records, in document order.
    [[nodiscard]] std::vector<node_record> accepted() const;
};

// Counted by whoever owns the discovery state; one bump per document and per record seen.
struct discovery_counters {
    std::atomic<uint64_t> documents_accepted{0};
    std::array<std::atomic<uint64_t>, errc_count> documents_rejected{};        // by errc
    std::array<std::atomic<uint64_t>, record_verdict_count> records_by_verdict{}; // incl. accepted

    [[nodiscard]] uint64_t rejected(errc e) const noexcept {
        return documents_rejected[static_cast<size_t>(e)].load(std::memory_order_relaxed);
    }
    [[nodiscard]] uint64_t records(record_verdict v) const noexcept {
        return records_by_verdict[static_cast<size_t>(v)].load(std::memory_order_relaxed);
    }
};

// Makes and signs keys' own record. Preconditions: 0 <= issued_at < expires_at <=
// json_integer_max; endpoints have non-zero ports.
[[nodiscard]] node_record make_node_record(const crypto::key_pair& keys, const endpoint& udp,
                                           const endpoint& http, unix_ms issued_at,
                                           unix_ms expires_at);

// The record as a JSON object, with or without its "signature" member.
[[nodiscard]] json_value to_json(const node_record& record, bool with_signature = true);
// JCS(record without "signature"): the payload its signature covers (before the domain prefix).
[[nodiscard]] std::string record_signed_text(const node_record& record);
// true if record.sig is id's signature over record_signed_text(record).
[[nodiscard]] bool verify_record(const node_record& record);
// A single record as JSON text (the same strict rules as inside a list; the signature is not
// checked here): the announcement a requester sends with GET /bootstrap/nodes.
inline constexpr size_t record_text_size_max = 1024;
[[nodiscard]] result<node_record> parse_record(std::string_view text);
// The verdict on a record whose signature check gave signature_ok (duplicates: never).
[[nodiscard]] record_verdict judge_record(const node_record& record, bool signature_ok,
                                          unix_ms now, const document_limits& limits) noexcept;

// The document keys serves: its JCS text, signed under sig_domain::bootstrap_list. Records are
// copied as given (their own signatures are not re-checked here). Preconditions: 0 <=
// issued_at <= json_integer_max.
[[nodiscard]] std::string make_document(const crypto::key_pair& keys,
                                        std::span<const node_record> records, unix_ms issued_at);

// The JCS text of a verified document, signature included: what make_document would have
// served. Equal to canonicalize(text) for the text it was verified from (values have one text).
[[nodiscard]] std::string to_text(const verified_document& document);

// Parses and verifies a document fetched from a node (docs/PROTOCOL.md lists the steps in
// order). expected_signer, when given, is the node that was asked: a list signed by any other
// key is wrong_signer. Bumps counters: one documents_rejected[reason] or documents_accepted,
// and for an accepted document one records_by_verdict[v] per record. Never throws on input.
[[nodiscard]] result<verified_document>
parse_and_verify_document(std::string_view text, const std::optional<node_id>& expected_signer,
                          unix_ms now, const document_limits& limits,
                          discovery_counters& counters);

// Records the caller already holds verified: a record equal in every field (signature
// included) to one of them has the same signed text and signature, so checking it again
// proves nothing new. The bootstrap manager passes its table here, since most records it
// fetches are ones it already has; the verdict is the same as with a fresh check.
class verified_records {
public:
    // true if this exact record (all fields, signature included) was verified before.
    [[nodiscard]] virtual bool contains(const node_record& record) const noexcept = 0;

protected:
    ~verified_records() = default;
};

// As above; records `already` contains skip their signature check (nullptr: check all).
[[nodiscard]] result<verified_document>
parse_and_verify_document(std::string_view text, const std::optional<node_id>& expected_signer,
                          unix_ms now, const document_limits& limits,
                          discovery_counters& counters, const verified_records* already);

} // namespace ainet::discovery
