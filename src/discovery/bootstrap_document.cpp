#include <ainet/core/assert.hpp>
#include <ainet/core/counter.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/discovery/bootstrap_document.hpp>

#include <initializer_list>
#include <memory>
#include <unordered_set>
#include <utility>

namespace ainet::discovery {

namespace {

constexpr std::string_view field_version = "version";
constexpr std::string_view field_signer = "signer";
constexpr std::string_view field_issued_at = "issued_at";
constexpr std::string_view field_nodes = "nodes";
constexpr std::string_view field_signature = "signature";
constexpr std::string_view field_public_key = "public_key";
constexpr std::string_view field_udp = "udp";
constexpr std::string_view field_http = "http";
constexpr std::string_view field_expires_at = "expires_at";

bytes_view as_bytes(std::string_view text) noexcept {
    return bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

int64_t ms(unix_ms t) noexcept { return static_cast<int64_t>(t); }

// value must be an object holding exactly the named fields.
result<void> check_fields(const json_value& value, std::initializer_list<std::string_view> fields) {
    if (value.type != json_value::kind::object)
        return fail(errc::wrong_type);
    for (const auto& m : value.object) {
        bool known = false;
        for (auto f : fields)
            known = known || m.key == f;
        if (!known)
            return fail(errc::unknown_field);
    }
    // Keys are unique and all known, so fewer members than fields means one is missing.
    if (value.object.size() != fields.size())
        return fail(errc::missing_field);
    return {};
}

// Exactly out.size() bytes as lowercase hex: one text per value, so the document re-serializes
// to the bytes that were signed.
result<void> read_hex(const json_value& value, mutable_bytes out) {
    if (value.type != json_value::kind::string)
        return fail(errc::wrong_type);
    const std::string& text = value.string;
    if (text.size() != 2 * out.size())
        return fail(errc::bad_value);
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return fail(errc::bad_value);
    if (!from_hex_into(text, out))
        return fail(errc::bad_value);
    return {};
}

// An endpoint in exactly the text form to_string(endpoint) gives.
result<endpoint> read_endpoint(const json_value& value) {
    if (value.type != json_value::kind::string)
        return fail(errc::wrong_type);
    auto parsed = parse_endpoint(value.string);
    if (!parsed || to_string(*parsed) != value.string)
        return fail(errc::bad_value);
    return *parsed;
}

// A time in ms since the Unix epoch: an integer in 0..2^53-1.
result<unix_ms> read_time(const json_value& value) {
    if (value.type != json_value::kind::integer)
        return fail(errc::wrong_type);
    if (value.integer < 0)
        return fail(errc::bad_value);
    return unix_ms{value.integer};
}

result<node_record> read_record(const json_value& value) {
    AINET_TRY_VOID(check_fields(value, {field_public_key, field_udp, field_http, field_issued_at,
                                        field_expires_at, field_signature}));
    node_record record;
    AINET_TRY_VOID(read_hex(*value.find(field_public_key), record.id.bytes));
    AINET_TRY(udp, read_endpoint(*value.find(field_udp)));
    AINET_TRY(http, read_endpoint(*value.find(field_http)));
    AINET_TRY(issued_at, read_time(*value.find(field_issued_at)));
    AINET_TRY(expires_at, read_time(*value.find(field_expires_at)));
    AINET_TRY_VOID(read_hex(*value.find(field_signature), record.sig));
    record.udp = udp;
    record.http = http;
    record.issued_at = issued_at;
    record.expires_at = expires_at;
    return record;
}

json_value hex_value(bytes_view data) { return json_value::make_string(to_hex(data)); }

json_value document_json(const node_id& signer, unix_ms issued_at,
                         std::span<const node_record> records) {
    std::vector<json_value> nodes;
    nodes.reserve(records.size());
    for (const auto& r : records)
        nodes.push_back(to_json(r));
    json_value doc = json_value::make_object();
    doc.add(std::string(field_version), json_value::make_integer(bootstrap_document_version));
    doc.add(std::string(field_signer), hex_value(signer.bytes));
    doc.add(std::string(field_issued_at), json_value::make_integer(ms(issued_at)));
    doc.add(std::string(field_nodes), json_value::make_array(std::move(nodes)));
    return doc;
}

record_verdict judge(const node_record& r, bool signature_ok, bool duplicate, unix_ms now,
                     const document_limits& limits) noexcept {
    if (!signature_ok)
        return record_verdict::bad_signature;
    if (duplicate)
        return record_verdict::duplicate;
    // Times are at most 2^53 - 1 and limits far below 2^62, so none of these can overflow.
    if (ms(r.expires_at) <= ms(r.issued_at) ||
        ms(r.expires_at) - ms(r.issued_at) > limits.record_lifetime_ms_max)
        return record_verdict::bad_lifetime;
    if (ms(r.issued_at) > ms(now) + limits.clock_skew_ms_max)
        return record_verdict::not_yet_valid;
    if (ms(r.expires_at) <= ms(now))
        return record_verdict::expired;
    return record_verdict::accepted;
}

result<verified_document> verify_document(std::string_view text,
                                          const std::optional<node_id>& expected_signer,
                                          unix_ms now, const document_limits& limits,
                                          const verified_records* already) {
    // Steps 1-2: size, then the JSON subset (jcs.hpp).
    if (text.size() > limits.document_size_max)
        return fail(errc::too_large);
    AINET_TRY(doc, parse_json(text, limits.document_size_max));

    // Step 3: the document's fields and their values.
    AINET_TRY_VOID(check_fields(doc, {field_version, field_signer, field_issued_at, field_nodes,
                                      field_signature}));
    const json_value& version = *doc.find(field_version);
    if (version.type != json_value::kind::integer)
        return fail(errc::wrong_type);
    if (version.integer != bootstrap_document_version)
        return fail(errc::bad_value);
    verified_document out;
    AINET_TRY_VOID(read_hex(*doc.find(field_signer), out.signer.bytes));
    AINET_TRY(issued_at, read_time(*doc.find(field_issued_at)));
    out.issued_at = issued_at;
    AINET_TRY_VOID(read_hex(*doc.find(field_signature), out.sig));
    const json_value& nodes = *doc.find(field_nodes);
    if (nodes.type != json_value::kind::array)
        return fail(errc::wrong_type);
    if (nodes.array.size() > limits.records_max)
        return fail(errc::too_many_records);
    out.records.reserve(nodes.array.size());
    for (const auto& item : nodes.array) {
        AINET_TRY(record, read_record(item));
        out.records.push_back(record);
    }

    // Step 4: who signed, and when.
    if (expected_signer && *expected_signer != out.signer)
        return fail(errc::wrong_signer);
    if (ms(out.issued_at) > ms(now) + limits.clock_skew_ms_max)
        return fail(errc::not_yet_valid);

    // Step 5: the list signature over JCS(document without "signature").
    const std::string signed_text = canonicalize_without(doc, field_signature);
    if (!crypto::verify(out.signer.bytes, crypto::sig_domain::bootstrap_list, as_bytes(signed_text),
                        out.sig))
        return fail(errc::bad_signature);

    // Step 6: every record's own signature, in one batch, over JCS(record without "signature").
    const size_t count = out.records.size();
    std::vector<std::vector<uint8_t>> messages;
    std::vector<crypto::verify_request> requests;
    std::vector<size_t> checked; // requests[j] checks record checked[j]
    messages.reserve(count);
    requests.reserve(count);
    checked.reserve(count);
    const auto signature_ok = std::make_unique<bool[]>(count == 0 ? 1 : count);
    for (size_t i = 0; i < count; ++i) {
        if (already != nullptr && already->contains(out.records[i])) {
            signature_ok[i] = true;
            continue;
        }
        checked.push_back(i);
        const std::string payload = canonicalize_without(nodes.array[i], field_signature);
        messages.push_back(crypto::signed_message(crypto::sig_domain::node_record,
                                                  as_bytes(payload)));
        requests.push_back(crypto::verify_request{out.records[i].id.bytes, messages.back(),
                                                  out.records[i].sig});
    }
    const auto batch_ok = std::make_unique<bool[]>(requests.empty() ? 1 : requests.size());
    crypto::verify_batch(requests, std::span<bool>(batch_ok.get(), requests.size()));
    for (size_t j = 0; j < checked.size(); ++j)
        signature_ok[checked[j]] = batch_ok[j];

    // Step 7: each record's verdict.
    std::unordered_set<node_id> seen;
    out.verdicts.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        const bool duplicate = !seen.insert(out.records[i].id).second;
        const auto verdict = judge(out.records[i], signature_ok[i], duplicate, now, limits);
        out.verdicts.push_back(verdict);
        out.accepted_count += verdict == record_verdict::accepted ? 1 : 0;
    }
    AINET_ASSERT(out.verdicts.size() == out.records.size());
    return out;
}

} // namespace

result<node_record> parse_record(std::string_view text) {
    AINET_TRY(value, parse_json(text, record_text_size_max));
    return read_record(value);
}

record_verdict judge_record(const node_record& record, bool signature_ok, unix_ms now,
                            const document_limits& limits) noexcept {
    return judge(record, signature_ok, false, now, limits);
}

std::vector<node_record> verified_document::accepted() const {
    AINET_ASSERT(verdicts.size() == records.size());
    std::vector<node_record> out;
    out.reserve(accepted_count);
    for (size_t i = 0; i < records.size(); ++i)
        if (verdicts[i] == record_verdict::accepted)
            out.push_back(records[i]);
    AINET_ASSERT(out.size() == accepted_count);
    return out;
}

json_value to_json(const node_record& record, bool with_signature) {
    json_value v = json_value::make_object();
    v.add(std::string(field_public_key), hex_value(record.id.bytes));
    v.add(std::string(field_udp), json_value::make_string(to_string(record.udp)));
    v.add(std::string(field_http), json_value::make_string(to_string(record.http)));
    v.add(std::string(field_issued_at), json_value::make_integer(ms(record.issued_at)));
    v.add(std::string(field_expires_at), json_value::make_integer(ms(record.expires_at)));
    if (with_signature)
        v.add(std::string(field_signature), hex_value(record.sig));
    return v;
}

std::string record_signed_text(const node_record& record) {
    return canonicalize(to_json(record, /*with_signature=*/false));
}

bool verify_record(const node_record& record) {
    return crypto::verify(record.id.bytes, crypto::sig_domain::node_record,
                          as_bytes(record_signed_text(record)), record.sig);
}

node_record make_node_record(const crypto::key_pair& keys, const endpoint& udp,
                             const endpoint& http, unix_ms issued_at, unix_ms expires_at) {
    AINET_ASSERT(ms(issued_at) >= 0 && ms(issued_at) < ms(expires_at));
    AINET_ASSERT(ms(expires_at) <= json_integer_max);
    AINET_ASSERT(udp.port != 0 && http.port != 0);
    node_record record;
    record.id = keys.id();
    record.udp = udp;
    record.http = http;
    record.issued_at = issued_at;
    record.expires_at = expires_at;
    record.sig = keys.sign(crypto::sig_domain::node_record, as_bytes(record_signed_text(record)));
    AINET_ASSERT(verify_record(record));
    return record;
}

std::string make_document(const crypto::key_pair& keys, std::span<const node_record> records,
                          unix_ms issued_at) {
    AINET_ASSERT(ms(issued_at) >= 0 && ms(issued_at) <= json_integer_max);
    json_value doc = document_json(keys.id(), issued_at, records);
    const std::string signed_text = canonicalize(doc);
    const auto sig = keys.sign(crypto::sig_domain::bootstrap_list, as_bytes(signed_text));
    doc.add(std::string(field_signature), hex_value(sig));
    return canonicalize(doc);
}

std::string to_text(const verified_document& document) {
    json_value doc = document_json(document.signer, document.issued_at, document.records);
    doc.add(std::string(field_signature), hex_value(document.sig));
    return canonicalize(doc);
}

result<verified_document> parse_and_verify_document(std::string_view text,
                                                    const std::optional<node_id>& expected_signer,
                                                    unix_ms now, const document_limits& limits,
                                                    discovery_counters& counters) {
    return parse_and_verify_document(text, expected_signer, now, limits, counters, nullptr);
}

result<verified_document> parse_and_verify_document(std::string_view text,
                                                    const std::optional<node_id>& expected_signer,
                                                    unix_ms now, const document_limits& limits,
                                                    discovery_counters& counters,
                                                    const verified_records* already) {
    auto verified = verify_document(text, expected_signer, now, limits, already);
    if (!verified) {
        bump(counters.documents_rejected[static_cast<size_t>(verified.error())]);
        return verified;
    }
    bump(counters.documents_accepted);
    for (auto v : verified->verdicts)
        bump(counters.records_by_verdict[static_cast<size_t>(v)]);
    return verified;
}

std::string_view to_string(record_verdict v) noexcept {
    switch (v) {
    case record_verdict::accepted: return "accepted";
    case record_verdict::bad_signature: return "record signature does not verify";
    case record_verdict::duplicate: return "duplicate public key in the list";
    case record_verdict::bad_lifetime: return "expires_at not after issued_at, or lifetime too long";
    case record_verdict::not_yet_valid: return "record issued in the future";
    case record_verdict::expired: return "record expired";
    }
    return "unknown record verdict";
}

} // namespace ainet::discovery
