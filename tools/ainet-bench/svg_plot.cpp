// svg_plot: see svg_plot.hpp. Layout: a title line, the plot area on the left, the legend in a
// column on the right, tick labels and axis titles around the plot area.
#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

namespace ainet::bench::plot {

namespace {

constexpr double margin_left = 78;
constexpr double margin_top = 48;
constexpr double margin_bottom = 64;
constexpr double legend_width = 190;
constexpr double plot_left = margin_left;
constexpr double plot_right = chart_width - legend_width - 16;
constexpr double plot_top = margin_top;
constexpr double plot_bottom = chart_height - margin_bottom;
constexpr size_t max_ticks = 64;

// Distinguishable on white and in grey print (Okabe-Ito, then a few more).
constexpr const char* palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#000000", "#999933"};
constexpr size_t palette_size = sizeof(palette) / sizeof(palette[0]);

const char* color_of(size_t index) {
    return palette[index % palette_size];
}

// Series beyond the palette repeat a colour with a dash pattern so they stay distinguishable.
const char* dash_of(size_t index) {
    static constexpr const char* dashes[] = {"", "6,3", "2,3", "8,3,2,3"};
    return dashes[(index / palette_size) % 4];
}

std::string num(double v) {
    if (!std::isfinite(v))
        v = 0;
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.2f", v);
    std::string s = buffer;
    // Trim "12.50" -> "12.5", "12.00" -> "12": smaller files, same picture.
    while (!s.empty() && s.back() == '0')
        s.pop_back();
    if (!s.empty() && s.back() == '.')
        s.pop_back();
    if (s == "-0")
        s = "0";
    return s;
}

void open_svg(std::string& out, const std::string& title) {
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(chart_width) +
           "\" height=\"" + num(chart_height) + "\" viewBox=\"0 0 " + num(chart_width) + " " +
           num(chart_height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    out += "<title>" + xml_escape(title) + "</title>\n";
    out += "<rect x=\"0\" y=\"0\" width=\"" + num(chart_width) + "\" height=\"" +
           num(chart_height) + "\" fill=\"white\"/>\n";
    out += "<text x=\"" + num(chart_width / 2) +
           "\" y=\"26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
           xml_escape(title) + "</text>\n";
}

void text(std::string& out, double x, double y, std::string_view anchor, std::string_view body,
          std::string_view extra = {}) {
    out += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + std::string(anchor) +
           "\"";
    if (!extra.empty())
        out += " " + std::string(extra);
    out += ">" + xml_escape(body) + "</text>\n";
}

void line(std::string& out, double x1, double y1, double x2, double y2, std::string_view style) {
    out += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" +
           num(y2) + "\" " + std::string(style) + "/>\n";
}

void y_axis(std::string& out, const scale& y, const std::vector<double>& ticks,
            const std::string& label) {
    out += "<g class=\"y-axis\">\n";
    for (double t : ticks) {
        const double py = y(t);
        line(out, plot_left, py, plot_right, py, "stroke=\"#dddddd\" stroke-width=\"1\"");
        text(out, plot_left - 6, py + 4, "end", format_number(t));
    }
    line(out, plot_left, plot_top, plot_left, plot_bottom, "stroke=\"black\" stroke-width=\"1\"");
    const double cy = (plot_top + plot_bottom) / 2;
    text(out, 18, cy, "middle", label, "transform=\"rotate(-90 18 " + num(cy) + ")\"");
    out += "</g>\n";
}

void legend(std::string& out, const std::vector<std::string>& names, bool bars,
            const std::optional<reference_line>& reference_entry) {
    out += "<g class=\"legend\">\n";
    const double x = plot_right + 16;
    double y = plot_top + 8;
    if (reference_entry && !reference_entry->label.empty()) {
        line(out, x, y - 4, x + 18, y - 4,
             "stroke=\"#444444\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
        text(out, x + 24, y, "start", reference_entry->label);
        y += 20;
    }
    for (size_t i = 0; i < names.size(); ++i, y += 20) {
        if (bars) {
            out += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 9) +
                   "\" width=\"14\" height=\"10\" fill=\"" + color_of(i) + "\"/>\n";
        } else {
            std::string style = std::string("stroke=\"") + color_of(i) + "\" stroke-width=\"2\"";
            if (*dash_of(i) != '\0')
                style += std::string(" stroke-dasharray=\"") + dash_of(i) + "\"";
            line(out, x, y - 4, x + 18, y - 4, style);
        }
        text(out, x + 24, y, "start", names[i]);
    }
    out += "</g>\n";
}

void reference(std::string& out, const scale& y, const reference_line& r) {
    const double py = y(r.y);
    out += "<g class=\"reference\">\n";
    // Its label is in the legend: drawn here it would collide with bars and markers.
    line(out, plot_left, py, plot_right, py,
         "stroke=\"#444444\" stroke-width=\"1.5\" stroke-dasharray=\"5,4\"");
    out += "</g>\n";
}

bool usable(double v, bool log) {
    return std::isfinite(v) && (!log || v > 0);
}

// The domain of values on one axis, padded so single values and flat series still get room.
struct domain {
    double lo = 0;
    double hi = 1;
};

domain value_domain(const std::vector<double>& values, bool log, bool from_zero) {
    if (values.empty())
        return log ? domain{1, 10} : domain{0, 1};
    const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
    double lo = *lo_it, hi = *hi_it;
    if (log) {
        if (hi / lo < 1.0001) {
            lo /= 2;
            hi *= 2;
        }
        return {lo, hi};
    }
    if (from_zero && lo >= 0)
        lo = 0;
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
        const double pad = std::max(std::fabs(hi) * 0.1, 1.0);
        lo = from_zero && lo >= 0 ? 0 : lo - pad;
        hi += pad;
    }
    return {lo, hi};
}

// Ticks and the domain stretched to cover them (linear: to the outer nice ticks; log: to the
// outer powers of ten only when the data spans less, else the data with a little margin).
std::vector<double> axis_ticks(domain& d, bool log, const std::vector<double>& exact) {
    if (!exact.empty() && exact.size() <= 10) {
        // Few distinct values (payload sizes, node counts): label exactly those.
        if (log) {
            const double pad = std::pow(d.hi / d.lo, 0.06);
            d.lo /= pad;
            d.hi *= pad;
        } else {
            const double pad = (d.hi - d.lo) * 0.05;
            d.lo -= pad;
            d.hi += pad;
        }
        return exact;
    }
    if (log) {
        // Keep the data's own span (a decade of padding would waste the plot) when at least
        // two ticks fall inside it; otherwise stretch to the outer ticks.
        std::vector<double> ticks = log_ticks(d.lo, d.hi);
        const double pad = std::pow(d.hi / d.lo, 0.04);
        const domain padded{d.lo / pad, d.hi * pad};
        std::vector<double> inside;
        for (double t : ticks)
            if (t >= padded.lo * (1 - 1e-9) && t <= padded.hi * (1 + 1e-9))
                inside.push_back(t);
        if (inside.size() >= 2) {
            d = padded;
            return inside;
        }
        d.lo = std::min(d.lo, ticks.front());
        d.hi = std::max(d.hi, ticks.back());
        return ticks;
    }
    std::vector<double> ticks = linear_ticks(d.lo, d.hi);
    d.lo = std::min(d.lo, ticks.front());
    d.hi = std::max(d.hi, ticks.back());
    return ticks;
}

} // namespace

std::string xml_escape(std::string_view body) {
    std::string out;
    out.reserve(body.size());
    for (const char c : body) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')
                break; // not representable in XML 1.0
            out += c;
        }
    }
    return out;
}

std::string format_number(double value) {
    if (!std::isfinite(value))
        return std::isnan(value) ? "n/a" : (value > 0 ? "inf" : "-inf");
    if (value == 0)
        return "0";
    const double magnitude = std::fabs(value);
    char buffer[48];
    if (magnitude >= 1e4) {
        // k from 10,000 up (1,200 reads better than 1.2k on a payload axis), then M, G, T;
        // a value that would print as 1000 of a unit moves to the next one.
        static constexpr double factors[] = {1e3, 1e6, 1e9, 1e12};
        static constexpr const char* suffixes[] = {"k", "M", "G", "T"};
        size_t u = 0;
        while (u + 1 < 4 && magnitude / factors[u] >= 999.5)
            ++u;
        std::snprintf(buffer, sizeof(buffer), "%.3g%s", value / factors[u], suffixes[u]);
        return buffer;
    }
    if (magnitude >= 1000 || magnitude == std::round(magnitude)) {
        std::snprintf(buffer, sizeof(buffer), "%.0f", value);
        return buffer;
    }
    std::snprintf(buffer, sizeof(buffer), magnitude >= 1e-3 ? "%.3g" : "%.2e", value);
    return buffer;
}

std::vector<double> linear_ticks(double lo, double hi, size_t target) {
    if (!std::isfinite(lo) || !std::isfinite(hi))
        return {0, 1};
    if (lo > hi)
        std::swap(lo, hi);
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
        const double pad = std::max(std::fabs(hi) * 0.1, 1.0);
        lo -= pad;
        hi += pad;
    }
    target = std::clamp<size_t>(target, 2, 20);
    const double raw = (hi - lo) / static_cast<double>(target);
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    double step = power * 10;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (raw <= m * power * 1.0000001) {
            step = m * power;
            break;
        }
    }
    const double first = std::floor(lo / step + 1e-9);
    const double last = std::ceil(hi / step - 1e-9);
    std::vector<double> ticks;
    for (double k = first; k <= last && ticks.size() < max_ticks; k += 1) {
        double t = k * step;
        if (std::fabs(t) < step * 1e-9)
            t = 0;
        ticks.push_back(t);
    }
    return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo <= 0 || hi <= 0)
        return {1, 10};
    if (lo > hi)
        std::swap(lo, hi);
    const double first = std::floor(std::log10(lo) + 1e-9);
    const double last = std::ceil(std::log10(hi) - 1e-9);
    const bool fine = std::log10(hi / lo) < 2;
    std::vector<double> ticks;
    for (double e = first; e <= last && ticks.size() < max_ticks; e += 1) {
        const double p = std::pow(10.0, e);
        ticks.push_back(p);
        if (fine && e < last) {
            ticks.push_back(2 * p);
            ticks.push_back(5 * p);
        }
    }
    if (ticks.size() < 2)
        ticks.push_back(ticks.back() * 10);
    return ticks;
}

double scale::operator()(double value) const {
    const double mid = (range_lo + range_hi) / 2;
    if (!std::isfinite(value))
        return mid;
    double lo = domain_lo, hi = domain_hi, v = value;
    if (log) {
        if (lo <= 0 || hi <= 0 || v <= 0)
            return mid;
        lo = std::log10(lo);
        hi = std::log10(hi);
        v = std::log10(v);
    }
    if (!std::isfinite(lo) || !std::isfinite(hi) || std::fabs(hi - lo) < 1e-300)
        return mid;
    return range_lo + (v - lo) / (hi - lo) * (range_hi - range_lo);
}

std::string render(const line_chart& chart) {
    const size_t series_count = std::min(chart.lines.size(), max_series);
    std::vector<double> xs, ys;
    std::set<double> distinct_x;
    for (size_t s = 0; s < series_count; ++s) {
        const auto& l = chart.lines[s];
        const size_t n = std::min({l.x.size(), l.y.size(), max_points});
        for (size_t i = 0; i < n; ++i) {
            if (!usable(l.x[i], chart.log_x) || !usable(l.y[i], chart.log_y))
                continue;
            xs.push_back(l.x[i]);
            ys.push_back(l.y[i]);
            distinct_x.insert(l.x[i]);
        }
    }
    if (chart.reference && usable(chart.reference->y, chart.log_y))
        ys.push_back(chart.reference->y);
    domain dx = value_domain(xs, chart.log_x, false);
    domain dy = value_domain(ys, chart.log_y, chart.y_from_zero);
    const std::vector<double> exact_x(distinct_x.begin(), distinct_x.end());
    const std::vector<double> x_ticks = axis_ticks(dx, chart.log_x, exact_x);
    const std::vector<double> y_ticks = axis_ticks(dy, chart.log_y, {});
    const scale sx{dx.lo, dx.hi, plot_left, plot_right, chart.log_x};
    const scale sy{dy.lo, dy.hi, plot_bottom, plot_top, chart.log_y};

    std::string out;
    open_svg(out, chart.title);
    y_axis(out, sy, y_ticks, chart.y_label);
    out += "<g class=\"x-axis\">\n";
    for (double t : x_ticks) {
        const double px = sx(t);
        line(out, px, plot_top, px, plot_bottom, "stroke=\"#eeeeee\" stroke-width=\"1\"");
        line(out, px, plot_bottom, px, plot_bottom + 5, "stroke=\"black\" stroke-width=\"1\"");
        text(out, px, plot_bottom + 18, "middle", format_number(t));
    }
    line(out, plot_left, plot_bottom, plot_right, plot_bottom,
         "stroke=\"black\" stroke-width=\"1\"");
    text(out, (plot_left + plot_right) / 2, chart_height - 18, "middle",
         chart.x_label + (chart.log_x ? " (log scale)" : ""));
    out += "</g>\n";
    if (chart.reference && usable(chart.reference->y, chart.log_y))
        reference(out, sy, *chart.reference);

    std::vector<std::string> names;
    for (size_t s = 0; s < series_count; ++s) {
        const auto& l = chart.lines[s];
        names.push_back(l.name);
        std::vector<std::pair<double, double>> points;
        const size_t n = std::min({l.x.size(), l.y.size(), max_points});
        for (size_t i = 0; i < n; ++i)
            if (usable(l.x[i], chart.log_x) && usable(l.y[i], chart.log_y))
                points.emplace_back(sx(l.x[i]), sy(l.y[i]));
        out += "<g class=\"series\" fill=\"" + std::string(color_of(s)) + "\" stroke=\"" +
               color_of(s) + "\">\n";
        out += "<title>" + xml_escape(l.name) + "</title>\n";
        if (points.size() >= 2) {
            out += "<polyline fill=\"none\" stroke-width=\"2\"";
            if (*dash_of(s) != '\0')
                out += std::string(" stroke-dasharray=\"") + dash_of(s) + "\"";
            out += " points=\"";
            for (size_t i = 0; i < points.size(); ++i)
                out += (i ? " " : "") + num(points[i].first) + "," + num(points[i].second);
            out += "\"/>\n";
        }
        for (const auto& [px, py] : points)
            out += "<circle cx=\"" + num(px) + "\" cy=\"" + num(py) + "\" r=\"3.5\"/>\n";
        out += "</g>\n";
    }
    std::optional<reference_line> shown;
    if (chart.reference && usable(chart.reference->y, chart.log_y))
        shown = chart.reference;
    legend(out, names, false, shown);
    out += "</svg>\n";
    return out;
}

std::string render(const bar_chart& chart) {
    const size_t series_count = std::min(chart.bars.size(), max_series);
    const size_t category_count = std::min(chart.categories.size(), max_categories);
    const bool log = chart.log_y;
    std::vector<double> ys;
    for (size_t s = 0; s < series_count; ++s)
        for (size_t c = 0; c < std::min(category_count, chart.bars[s].values.size()); ++c)
            if (usable(chart.bars[s].values[c], log))
                ys.push_back(chart.bars[s].values[c]);
    if (chart.reference && usable(chart.reference->y, log))
        ys.push_back(chart.reference->y);
    if (!log)
        ys.push_back(0); // bars grow from zero
    domain dy = value_domain(ys, log, true);
    const std::vector<double> y_ticks = axis_ticks(dy, log, {});
    const scale sy{dy.lo, dy.hi, plot_bottom, plot_top, log};
    // Linear bars grow from zero; log bars from the bottom of the axis.
    const double base = log ? plot_bottom : sy(0);

    std::string out;
    open_svg(out, chart.title);
    y_axis(out, sy, y_ticks, chart.y_label);
    const double group_width =
        (plot_right - plot_left) / static_cast<double>(std::max<size_t>(category_count, 1));
    const double bar_width =
        group_width * 0.8 / static_cast<double>(std::max<size_t>(series_count, 1));
    // Rotate the category names when the longest would not fit its group (about 6.5 px per
    // character at font-size 12).
    size_t longest = 0;
    for (size_t c = 0; c < category_count; ++c)
        longest = std::max(longest, chart.categories[c].size());
    const bool rotate = static_cast<double>(longest) * 6.5 > group_width * 0.95;
    out += "<g class=\"x-axis\">\n";
    line(out, plot_left, base, plot_right, base, "stroke=\"black\" stroke-width=\"1\"");
    for (size_t c = 0; c < category_count; ++c) {
        const double cx = plot_left + group_width * (static_cast<double>(c) + 0.5);
        const double ty = plot_bottom + 16;
        if (rotate)
            text(out, cx, ty, "end", chart.categories[c],
                 "font-size=\"10\" transform=\"rotate(-20 " + num(cx) + " " + num(ty) + ")\"");
        else
            text(out, cx, ty, "middle", chart.categories[c]);
    }
    out += "</g>\n";
    std::vector<std::string> names;
    for (size_t s = 0; s < series_count; ++s) {
        const auto& b = chart.bars[s];
        names.push_back(b.name);
        out += "<g class=\"series\" fill=\"" + std::string(color_of(s)) + "\">\n";
        out += "<title>" + xml_escape(b.name) + "</title>\n";
        for (size_t c = 0; c < std::min(category_count, b.values.size()); ++c) {
            const double v = b.values[c];
            if (!usable(v, log))
                continue;
            const double x = plot_left + group_width * static_cast<double>(c) + group_width * 0.1 +
                             bar_width * static_cast<double>(s);
            const double top = std::min(sy(v), base);
            const double height = std::fabs(sy(v) - base);
            out += "<rect x=\"" + num(x) + "\" y=\"" + num(top) + "\" width=\"" +
                   num(bar_width * 0.92) + "\" height=\"" + num(height) + "\"><title>" +
                   xml_escape(b.name + " " + chart.categories[c] + ": " + format_number(v)) +
                   "</title></rect>\n";
            if (bar_width >= 18)
                text(out, x + bar_width * 0.46, top - 3, "middle", format_number(v),
                     "font-size=\"9\" fill=\"#333333\"");
        }
        out += "</g>\n";
    }
    if (chart.reference && std::isfinite(chart.reference->y))
        reference(out, sy, *chart.reference);
    std::optional<reference_line> shown;
    if (chart.reference && usable(chart.reference->y, chart.log_y))
        shown = chart.reference;
    legend(out, names, true, shown);
    out += "</svg>\n";
    return out;
}

} // namespace ainet::bench::plot
