// Fuzzes the Prometheus text parser (node/prometheus_text.hpp) that `ainetctl metrics` runs on
// whatever a node (or something posing as one) answers: it must never crash, every sample it
// accepts belongs to a family, and re-rendering what it accepted parses to the same families.
#include <ainet/node/prometheus_text.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

std::string render(const std::vector<ainet::node::metric_family>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (const auto& s : f.samples) {
            out += s.name;
            if (!s.labels.empty()) {
                out += "{";
                for (size_t i = 0; i < s.labels.size(); ++i) {
                    out += (i == 0 ? "" : ",") + s.labels[i].first + "=\"";
                    for (char c : s.labels[i].second) {
                        if (c == '\n')
                            out += "\\n";
                        else if (c == '"' || c == '\\')
                            out += std::string("\\") + c;
                        else
                            out += c;
                    }
                    out += "\"";
                }
                out += "}";
            }
            char value[64];
            std::snprintf(value, sizeof value, " %.17g\n", s.value);
            out += value;
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto families = ainet::node::parse_prometheus_text(text, error);
    if (!families) {
        if (error.empty())
            std::abort();
        return 0;
    }
    size_t samples = 0;
    for (const auto& f : *families) {
        if (f.name.empty())
            std::abort();
        samples += f.samples.size();
    }
    auto again = ainet::node::parse_prometheus_text(render(*families), error);
    if (!again)
        std::abort();
    size_t samples_again = 0;
    for (const auto& f : *again)
        samples_again += f.samples.size();
    if (samples_again != samples)
        std::abort();
    return 0;
}
