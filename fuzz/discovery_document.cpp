// Fuzzes bootstrap node list verification (GET /bootstrap/nodes): no input may crash it; each
// input bumps exactly one document counter; an accepted list has one verdict per record, the
// batch verdicts agree with single verification, and its values re-serialize to exactly the
// JCS form of the input (every accepted value has one text).
#include <ainet/discovery/bootstrap_document.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace ainet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool initialised = crypto::init().has_value();
    if (!initialised)
        std::abort();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // Inside the test vector's window, so its seed verifies with both records accepted.
    const unix_ms now{1700000100000};
    const discovery::document_limits limits;
    discovery::discovery_counters counters;
    auto verified = discovery::parse_and_verify_document(text, std::nullopt, now, limits, counters);

    uint64_t counted = counters.documents_accepted.load();
    for (const auto& c : counters.documents_rejected)
        counted += c.load();
    if (counted != 1)
        std::abort();
    if (!verified)
        return 0;

    const auto& doc = *verified;
    if (doc.verdicts.size() != doc.records.size() || doc.records.size() > limits.records_max)
        std::abort();
    size_t accepted = 0;
    for (size_t i = 0; i < doc.records.size(); ++i) {
        const bool signature_ok = discovery::verify_record(doc.records[i]);
        if (signature_ok != (doc.verdicts[i] != discovery::record_verdict::bad_signature))
            std::abort();
        accepted += doc.verdicts[i] == discovery::record_verdict::accepted ? 1 : 0;
    }
    if (accepted != doc.accepted_count || doc.accepted().size() != accepted)
        std::abort();
    auto canonical = discovery::canonicalize(text, limits.document_size_max);
    if (!canonical || discovery::to_text(doc) != *canonical)
        std::abort();
    return 0;
}
