#include <ainet/node/prometheus_text.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ainet::node {

namespace {

bool name_char(char c, bool first) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalpha(u) || c == '_' || c == ':' || (!first && std::isdigit(u));
}

// Reads a metric or label name at s[pos]; empty when there is none.
std::string_view read_name(std::string_view s, size_t& pos) {
    const size_t start = pos;
    while (pos < s.size() && name_char(s[pos], pos == start))
        ++pos;
    return s.substr(start, pos - start);
}

std::optional<double> parse_number(std::string_view s) {
    if (s == "+Inf" || s == "Inf")
        return HUGE_VAL;
    if (s == "-Inf")
        return -HUGE_VAL;
    if (s == "NaN")
        return NAN;
    // strtod wants a terminated string; values are short.
    if (s.empty() || s.size() > 64)
        return std::nullopt;
    const std::string copy(s);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size())
        return std::nullopt;
    return v;
}

// `name{a="x",b="y"} value`; reason on failure.
std::optional<metric_sample> parse_sample(std::string_view line, std::string& reason) {
    metric_sample sample;
    size_t pos = 0;
    sample.name = std::string(read_name(line, pos));
    if (sample.name.empty()) {
        reason = "expected a metric name";
        return std::nullopt;
    }
    if (pos < line.size() && line[pos] == '{') {
        ++pos;
        for (;;) {
            if (pos < line.size() && line[pos] == '}') {
                ++pos;
                break;
            }
            const std::string label(read_name(line, pos));
            if (label.empty() || pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
                reason = "expected label=\"value\"";
                return std::nullopt;
            }
            pos += 2;
            std::string value;
            while (pos < line.size() && line[pos] != '"') {
                if (line[pos] == '\\' && pos + 1 < line.size()) {
                    ++pos;
                    value.push_back(line[pos] == 'n' ? '\n' : line[pos]);
                } else {
                    value.push_back(line[pos]);
                }
                ++pos;
            }
            if (pos >= line.size()) {
                reason = "unterminated label value";
                return std::nullopt;
            }
            ++pos; // closing quote
            sample.labels.emplace_back(label, std::move(value));
            if (pos < line.size() && line[pos] == ',')
                ++pos;
        }
    }
    if (pos >= line.size() || line[pos] != ' ') {
        reason = "expected a space before the value";
        return std::nullopt;
    }
    std::string_view rest = line.substr(pos + 1);
    if (const size_t space = rest.find(' '); space != std::string_view::npos)
        rest = rest.substr(0, space); // a timestamp follows: ignored
    auto value = parse_number(rest);
    if (!value) {
        reason = "bad value";
        return std::nullopt;
    }
    sample.value = *value;
    return sample;
}

bool belongs(const std::string& sample, const std::string& family) {
    return sample == family ||
           (sample.size() > family.size() && sample.compare(0, family.size(), family) == 0 &&
            sample[family.size()] == '_');
}

} // namespace

std::optional<std::vector<metric_family>> parse_prometheus_text(std::string_view text,
                                                                std::string& error) {
    std::vector<metric_family> families;
    size_t line_number = 0;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        ++line_number;
        if (line_number > prometheus_lines_max) {
            error = "more than " + std::to_string(prometheus_lines_max) + " lines";
            return std::nullopt;
        }
        if (line.size() > prometheus_line_size_max) {
            error = "line " + std::to_string(line_number) + ": too long";
            return std::nullopt;
        }
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        if (line[0] == '#') {
            const bool help = line.rfind("# HELP ", 0) == 0;
            const bool type = line.rfind("# TYPE ", 0) == 0;
            if (!help && !type)
                continue;
            const std::string_view rest = line.substr(7);
            size_t end = 0;
            const std::string name(read_name(rest, end));
            if (name.empty() || (end < rest.size() && rest[end] != ' ')) {
                error = "line " + std::to_string(line_number) + ": expected a metric name";
                return std::nullopt;
            }
            const std::string_view value = end < rest.size() ? rest.substr(end + 1) : std::string_view{};
            if (families.empty() || families.back().name != name) {
                families.emplace_back();
                families.back().name = name;
            }
            (help ? families.back().help : families.back().type) = std::string(value);
            continue;
        }
        std::string reason;
        auto sample = parse_sample(line, reason);
        if (!sample) {
            error = "line " + std::to_string(line_number) + ": " + reason;
            return std::nullopt;
        }
        if (families.empty() || !belongs(sample->name, families.back().name)) {
            families.emplace_back();
            families.back().name = sample->name;
        }
        families.back().samples.push_back(std::move(*sample));
    }
    return families;
}

const metric_family* find_family(const std::vector<metric_family>& families,
                                 std::string_view name) noexcept {
    for (const auto& f : families)
        if (f.name == name)
            return &f;
    return nullptr;
}

std::optional<double> sum_family(const std::vector<metric_family>& families,
                                 std::string_view name) noexcept {
    const metric_family* f = find_family(families, name);
    if (f == nullptr)
        return std::nullopt;
    double sum = 0;
    for (const auto& s : f->samples)
        sum += s.value;
    return sum;
}

} // namespace ainet::node
