// Goal: the report's SVG plotting (tools/ainet-bench/svg_plot.hpp) always emits well-formed
// XML whose drawn coordinates stay inside the picture, escapes every text, maps values with
// correct linear and log scales, and survives degenerate input (no series, empty series, one
// point, all-equal values, NaN/inf, non-positive values on a log axis) without dividing by
// zero or printing "nan".
#include "svg_plot.hpp"

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace ainet::bench::plot;

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_value = std::numeric_limits<double>::infinity();

struct element {
    std::string name;
    std::map<std::string, std::string> attributes;
    std::string text; // character data directly inside (entities still encoded)
};

struct xml_result {
    bool ok = false;
    std::string error;
    std::vector<element> elements; // in document order
};

// A small, strict XML checker for what svg_plot writes: an optional declaration, one root,
// balanced tags, quoted unique attributes, only the five predefined entities, no markup
// characters in text or attribute values.
class xml_checker {
public:
    explicit xml_checker(std::string_view doc) : m_doc(doc) {}

    xml_result run() {
        xml_result r;
        if (m_doc.substr(0, 5) == "<?xml") {
            const size_t end = m_doc.find("?>");
            if (end == std::string_view::npos)
                return fail(r, "unterminated declaration");
            m_pos = end + 2;
        }
        std::vector<size_t> open; // indexes into r.elements
        size_t roots = 0;
        while (m_pos < m_doc.size()) {
            if (m_doc[m_pos] != '<') {
                const size_t end = m_doc.find('<', m_pos);
                const std::string_view body = m_doc.substr(m_pos, end - m_pos);
                if (!valid_text(body))
                    return fail(r, "bad character data: " + std::string(body.substr(0, 40)));
                if (open.empty() && body.find_first_not_of(" \t\r\n") != std::string_view::npos)
                    return fail(r, "text outside the root");
                if (!open.empty())
                    r.elements[open.back()].text += std::string(body);
                m_pos = end == std::string_view::npos ? m_doc.size() : end;
                continue;
            }
            if (m_doc.substr(m_pos, 2) == "</") {
                m_pos += 2;
                const std::string name = read_name();
                if (name.empty() || !expect('>'))
                    return fail(r, "bad closing tag");
                if (open.empty() || r.elements[open.back()].name != name)
                    return fail(r, "mismatched </" + name + ">");
                open.pop_back();
                continue;
            }
            ++m_pos;
            element e;
            e.name = read_name();
            if (e.name.empty())
                return fail(r, "bad element name");
            if (open.empty() && ++roots > 1)
                return fail(r, "more than one root");
            for (;;) {
                const size_t before = m_pos;
                skip_space();
                if (m_pos >= m_doc.size())
                    return fail(r, "unterminated tag <" + e.name);
                if (m_doc.substr(m_pos, 2) == "/>") {
                    m_pos += 2;
                    r.elements.push_back(std::move(e));
                    break;
                }
                if (m_doc[m_pos] == '>') {
                    ++m_pos;
                    open.push_back(r.elements.size());
                    r.elements.push_back(std::move(e));
                    break;
                }
                if (m_pos == before)
                    return fail(r, "no space before an attribute in <" + e.name);
                const std::string attribute = read_name();
                if (attribute.empty() || !expect('=') || !expect('"'))
                    return fail(r, "bad attribute in <" + e.name);
                const size_t end = m_doc.find('"', m_pos);
                if (end == std::string_view::npos)
                    return fail(r, "unterminated attribute value");
                const std::string_view value = m_doc.substr(m_pos, end - m_pos);
                if (!valid_text(value) || value.find('<') != std::string_view::npos)
                    return fail(r, "bad attribute value " + std::string(value));
                if (!e.attributes.emplace(attribute, std::string(value)).second)
                    return fail(r, "duplicate attribute " + attribute);
                m_pos = end + 1;
            }
        }
        if (!open.empty())
            return fail(r, "unclosed <" + r.elements[open.back()].name + ">");
        if (roots != 1)
            return fail(r, "no root");
        r.ok = true;
        return r;
    }

private:
    static xml_result fail(xml_result& r, std::string why) {
        r.ok = false;
        r.error = std::move(why);
        return r;
    }

    static bool valid_text(std::string_view body) {
        for (size_t i = 0; i < body.size(); ++i) {
            const auto c = static_cast<unsigned char>(body[i]);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            if (c == '<')
                return false;
            if (c == '&') {
                bool known = false;
                for (std::string_view entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                    known = known || body.substr(i, entity.size()) == entity;
                if (!known)
                    return false;
            }
        }
        return true;
    }

    std::string read_name() {
        const size_t start = m_pos;
        while (m_pos < m_doc.size() &&
               (std::isalnum(static_cast<unsigned char>(m_doc[m_pos])) || m_doc[m_pos] == '-' ||
                m_doc[m_pos] == ':' || m_doc[m_pos] == '_'))
            ++m_pos;
        return std::string(m_doc.substr(start, m_pos - start));
    }

    void skip_space() {
        while (m_pos < m_doc.size() && std::isspace(static_cast<unsigned char>(m_doc[m_pos])))
            ++m_pos;
    }

    bool expect(char c) {
        if (m_pos < m_doc.size() && m_doc[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }

    std::string_view m_doc;
    size_t m_pos = 0;
};

// Well-formed, an <svg> root, no NaN/inf printed anywhere, and every drawn coordinate inside
// the picture (small slack for text hanging off the plot area).
xml_result check_svg(const std::string& svg) {
    xml_result r = xml_checker(svg).run();
    INFO(r.error);
    REQUIRE(r.ok);
    REQUIRE(!r.elements.empty());
    CHECK(r.elements.front().name == "svg");
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);
    for (const auto& e : r.elements) {
        for (const char* key : {"x", "x1", "x2", "cx"}) {
            if (auto it = e.attributes.find(key); it != e.attributes.end()) {
                const double v = std::stod(it->second);
                CHECK(v >= -1);
                CHECK(v <= chart_width + 1);
            }
        }
        for (const char* key : {"y", "y1", "y2", "cy", "height"}) {
            if (auto it = e.attributes.find(key); it != e.attributes.end()) {
                const double v = std::stod(it->second);
                CHECK(v >= -1);
                CHECK(v <= chart_height + 1);
            }
        }
        if (auto it = e.attributes.find("points"); it != e.attributes.end()) {
            std::string p = it->second;
            for (auto& c : p)
                if (c == ',')
                    c = ' ';
            std::istringstream in(p);
            double x = 0, y = 0;
            while (in >> x >> y) {
                CHECK(x >= 0);
                CHECK(x <= chart_width);
                CHECK(y >= 0);
                CHECK(y <= chart_height);
            }
        }
    }
    return r;
}

size_t count(const xml_result& r, const std::string& name) {
    size_t n = 0;
    for (const auto& e : r.elements)
        n += e.name == name ? 1 : 0;
    return n;
}

line_chart two_series_chart() {
    line_chart c;
    c.title = "throughput";
    c.x_label = "bytes";
    c.y_label = "per second";
    c.log_x = true;
    c.lines = {{"ainet", {64, 512, 1200}, {1e6, 8e5, 5e5}},
               {"baseline", {64, 512, 1200}, {9e5, 7e5, 6e5}}};
    return c;
}

} // namespace

TEST_CASE("svg_plot: xml_escape replaces markup characters and drops control characters") {
    CHECK(xml_escape("a<b>&\"'c") == "a&lt;b&gt;&amp;&quot;&apos;c");
    CHECK(xml_escape("plain text 123") == "plain text 123");
    CHECK(xml_escape(std::string("x\x01y\x1fz", 5)) == "xyz");
    CHECK(xml_escape("tab\tnew\nline") == "tab\tnew\nline");
    CHECK(xml_escape("") == "");
    CHECK(xml_escape("&amp;") == "&amp;amp;"); // escaping is not idempotent by design
}

TEST_CASE("svg_plot: titles, labels, legend and category names are escaped in the SVG") {
    line_chart c = two_series_chart();
    c.title = "a <b> & \"c\"";
    c.x_label = "x < 1";
    c.y_label = "y & z";
    c.lines[0].name = "<script>alert('x')</script>";
    const std::string svg = render(c);
    const xml_result r = check_svg(svg);
    CHECK(svg.find("<script>") == std::string::npos);
    CHECK(svg.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;") != std::string::npos);
    CHECK(svg.find("a &lt;b&gt; &amp; &quot;c&quot;") != std::string::npos);

    bar_chart b;
    b.title = "ratio & more";
    b.categories = {"relay <64 B>", "reliable \"32\""};
    b.bars = {{"a&b", {1.5, 0.5}}};
    const std::string bar_svg = render(b);
    check_svg(bar_svg);
    CHECK(bar_svg.find("relay &lt;64 B&gt;") != std::string::npos);
    CHECK(bar_svg.find("reliable &quot;32&quot;") != std::string::npos);
}

TEST_CASE("svg_plot: a line chart has one polyline and one marker per point, and a legend") {
    const xml_result r = check_svg(render(two_series_chart()));
    CHECK(count(r, "polyline") == 2);
    CHECK(count(r, "circle") == 6);
    size_t legend_texts = 0;
    for (const auto& e : r.elements)
        if (e.name == "text" && (e.text == "ainet" || e.text == "baseline"))
            ++legend_texts;
    CHECK(legend_texts == 2);
    // Few distinct x values are labelled exactly, so a reader sees the measured sizes.
    bool labelled_1200 = false;
    for (const auto& e : r.elements)
        labelled_1200 = labelled_1200 || (e.name == "text" && e.text == "1200");
    CHECK(labelled_1200);
}

TEST_CASE("svg_plot: rendering is deterministic") {
    CHECK(render(two_series_chart()) == render(two_series_chart()));
}

TEST_CASE("svg_plot: degenerate line charts render without dividing by zero") {
    SECTION("no series at all") {
        line_chart c;
        const xml_result r = check_svg(render(c));
        CHECK(count(r, "polyline") == 0);
    }
    SECTION("an empty series") {
        line_chart c;
        c.lines = {{"empty", {}, {}}};
        check_svg(render(c));
    }
    SECTION("one point, linear and log") {
        for (bool log : {false, true}) {
            line_chart c;
            c.log_x = log;
            c.log_y = log;
            c.lines = {{"one", {5}, {7}}};
            const xml_result r = check_svg(render(c));
            CHECK(count(r, "circle") == 1);
            CHECK(count(r, "polyline") == 0);
        }
    }
    SECTION("all values equal") {
        line_chart c;
        c.y_from_zero = false;
        c.lines = {{"flat", {1, 2, 3}, {4, 4, 4}}};
        check_svg(render(c));
    }
    SECTION("all zero on linear axes") {
        line_chart c;
        c.lines = {{"zero", {0, 0}, {0, 0}}};
        check_svg(render(c));
    }
    SECTION("NaN and inf points are skipped") {
        line_chart c;
        c.lines = {{"holes", {1, 2, nan_value, 4, 5}, {1, inf_value, 3, -inf_value, 5}}};
        const xml_result r = check_svg(render(c));
        CHECK(count(r, "circle") == 2);
    }
    SECTION("zero and negative values on log axes are skipped") {
        line_chart c;
        c.log_x = true;
        c.log_y = true;
        c.lines = {{"mixed", {0, -1, 10, 100}, {5, 5, 0, 50}}};
        const xml_result r = check_svg(render(c));
        CHECK(count(r, "circle") == 1);
    }
    SECTION("x and y of different lengths: the extra values are ignored") {
        line_chart c;
        c.lines = {{"ragged", {1, 2, 3, 4}, {1, 2}}};
        const xml_result r = check_svg(render(c));
        CHECK(count(r, "circle") == 2);
    }
    SECTION("a reference line alone") {
        line_chart c;
        c.reference = reference_line{1, "baseline"};
        check_svg(render(c));
    }
}

TEST_CASE("svg_plot: bar charts: grouped bars, NaN gaps, negative values, no categories") {
    SECTION("grouped, with a gap") {
        bar_chart b;
        b.categories = {"a", "b", "c"};
        b.bars = {{"one", {1, 2, 3}}, {"two", {0.5, nan_value, 4}}};
        b.reference = reference_line{1, "= 1"};
        const xml_result r = check_svg(render(b));
        size_t bars = 0;
        for (const auto& e : r.elements)
            bars += e.name == "rect" && e.attributes.count("width") &&
                            e.attributes.at("width") != "14" &&
                            e.attributes.at("width") != std::to_string(int(chart_width))
                        ? 1
                        : 0;
        CHECK(bars == 5); // 6 values, one NaN
    }
    SECTION("negative values grow down from zero") {
        bar_chart b;
        b.categories = {"up", "down"};
        b.bars = {{"v", {2, -3}}};
        check_svg(render(b));
    }
    SECTION("no categories and no series") {
        bar_chart b;
        check_svg(render(b));
    }
    SECTION("more values than categories, more categories than values") {
        bar_chart b;
        b.categories = {"a"};
        b.bars = {{"long", {1, 2, 3}}, {"short", {}}};
        check_svg(render(b));
    }
    SECTION("many categories get rotated labels") {
        bar_chart b;
        for (int i = 0; i < 12; ++i) {
            b.categories.push_back("category " + std::to_string(i));
        }
        b.bars = {{"v", std::vector<double>(12, 1.0)}};
        const std::string svg = render(b);
        check_svg(svg);
        CHECK(svg.find("rotate(-20") != std::string::npos);
    }
}

TEST_CASE("svg_plot: more series than colours, capped at max_series") {
    line_chart c;
    for (size_t s = 0; s < max_series + 4; ++s)
        c.lines.push_back({"s" + std::to_string(s), {1, 2}, {double(s), double(s + 1)}});
    const xml_result r = check_svg(render(c));
    CHECK(count(r, "polyline") == max_series);
}

TEST_CASE("svg_plot: random charts are always well-formed and inside the picture") {
    auto rng = ainet::test::seeded_rng(0x5e6);
    INFO("seed " << Catch::rngSeed());
    std::uniform_real_distribution<double> value(-1e6, 1e6);
    for (int round = 0; round < 50; ++round) {
        line_chart c;
        c.log_x = rng() % 2;
        c.log_y = rng() % 2;
        c.y_from_zero = rng() % 2;
        const size_t series_count = rng() % 5;
        for (size_t s = 0; s < series_count; ++s) {
            series l{"s", {}, {}};
            const size_t points = rng() % 8;
            for (size_t i = 0; i < points; ++i) {
                const auto pick = [&] {
                    switch (rng() % 8) {
                    case 0:
                        return nan_value;
                    case 1:
                        return 0.0;
                    case 2:
                        return 1e-9 * double(rng() % 100);
                    default:
                        return value(rng);
                    }
                };
                l.x.push_back(pick());
                l.y.push_back(pick());
            }
            c.lines.push_back(l);
        }
        if (rng() % 2)
            c.reference = reference_line{value(rng), "r"};
        check_svg(render(c));

        bar_chart b;
        const size_t categories = rng() % 6;
        for (size_t i = 0; i < categories; ++i)
            b.categories.push_back("c" + std::to_string(i));
        b.bars = {{"a", {}}, {"b", {}}};
        for (auto& s : b.bars)
            for (size_t i = 0; i < categories; ++i)
                s.values.push_back(rng() % 5 == 0 ? nan_value : value(rng));
        check_svg(render(b));
    }
}

TEST_CASE("svg_plot: scales map linearly and in log10, and degenerate domains to the middle") {
    const scale linear{0, 10, 100, 200, false};
    CHECK(linear(0) == Approx(100));
    CHECK(linear(5) == Approx(150));
    CHECK(linear(10) == Approx(200));
    const scale flipped{0, 10, 300, 100, false}; // y axes grow upward
    CHECK(flipped(10) == Approx(100));
    const scale log{1, 1000, 0, 300, true};
    CHECK(log(1) == Approx(0));
    CHECK(log(10) == Approx(100));
    CHECK(log(100) == Approx(200));
    CHECK(log(1000) == Approx(300));
    CHECK(log(0) == Approx(150));
    CHECK(log(-5) == Approx(150));
    const scale zero_width{5, 5, 0, 100, false};
    CHECK(zero_width(5) == Approx(50));
    CHECK(linear(nan_value) == Approx(150));
    const scale bad_log{0, 10, 0, 100, true};
    CHECK(bad_log(5) == Approx(50));
}

TEST_CASE("svg_plot: linear ticks are nice, evenly spaced and cover the range") {
    const auto t = linear_ticks(0, 10);
    REQUIRE(t.size() >= 2);
    CHECK(t.front() <= 0);
    CHECK(t.back() >= 10);
    for (size_t i = 2; i < t.size(); ++i)
        CHECK(t[i] - t[i - 1] == Approx(t[1] - t[0]));
    CHECK(linear_ticks(0, 1e6).back() >= 1e6);
    const auto odd = linear_ticks(0.013, 0.087);
    CHECK(odd.front() <= 0.013);
    CHECK(odd.back() >= 0.087);
    CHECK(linear_ticks(10, 0).front() <= 0); // swapped
    CHECK(linear_ticks(5, 5).size() >= 2);   // zero width
    CHECK(linear_ticks(0, 0).size() >= 2);
    CHECK(linear_ticks(nan_value, 1) == std::vector<double>{0, 1});
    CHECK(linear_ticks(-3, 7).front() <= -3);
    const auto with_zero = linear_ticks(-1, 1);
    CHECK(std::find(with_zero.begin(), with_zero.end(), 0.0) != with_zero.end());
    CHECK(linear_ticks(0, 1e300).size() <= 64);
}

TEST_CASE("svg_plot: log ticks are powers of ten, with 2 and 5 over short spans") {
    CHECK(log_ticks(1, 1000) == std::vector<double>{1, 10, 100, 1000});
    const auto short_span = log_ticks(64, 1200);
    CHECK(std::find(short_span.begin(), short_span.end(), 100.0) != short_span.end());
    CHECK(std::find(short_span.begin(), short_span.end(), 500.0) != short_span.end());
    CHECK(short_span.front() <= 64);
    CHECK(short_span.back() >= 1200);
    CHECK(log_ticks(0, 10) == std::vector<double>{1, 10});
    CHECK(log_ticks(-1, 10) == std::vector<double>{1, 10});
    CHECK(log_ticks(10, 10).size() >= 2);
    CHECK(log_ticks(1000, 1).front() == 1);
}

TEST_CASE("svg_plot: format_number is short and never scientific for axis-sized values") {
    CHECK(format_number(0) == "0");
    CHECK(format_number(12) == "12");
    CHECK(format_number(1200) == "1200");
    CHECK(format_number(-1200) == "-1200");
    CHECK(format_number(12345) == "12.3k");
    CHECK(format_number(250000) == "250k");
    CHECK(format_number(999999) == "1M");
    CHECK(format_number(1.5e6) == "1.5M");
    CHECK(format_number(2e9) == "2G");
    CHECK(format_number(0.5) == "0.5");
    CHECK(format_number(0.0025) == "0.0025");
    CHECK(format_number(2.345) == "2.35");
    CHECK(format_number(nan_value) == "n/a");
    CHECK(format_number(inf_value) == "inf");
}

TEST_CASE("svg_plot: log bar charts skip non-positive values and grow from the axis bottom") {
    bar_chart b;
    b.log_y = true;
    b.categories = {"p50", "p90", "p99"};
    b.bars = {{"fast", {25, 27, 98}}, {"slow", {7900, 0, -1}}};
    b.reference = reference_line{1, "= 1"};
    const xml_result r = check_svg(render(b));
    size_t titled = 0;
    for (size_t i = 0; i + 1 < r.elements.size(); ++i)
        if (r.elements[i].name == "rect" && r.elements[i + 1].name == "title")
            ++titled;
    CHECK(titled == 4); // 6 values, a zero and a negative skipped
}
