#pragma once
// svg_plot: the few chart kinds `ainet-bench report` draws, written as standalone SVG 1.1 text
// so the report needs no plotting dependency (no gnuplot, no matplotlib).
//
//   line_chart  several (x, y) series, optional log10 x and y axes, markers at every point,
//               an optional horizontal reference line (e.g. "baseline = 1").
//   bar_chart   grouped bars: one group per category, one bar per series in each group;
//               linear (from zero) or log10 y axis.
//
// Robustness: points with a non-finite coordinate (and, on a log axis, a non-positive one) are
// skipped; empty charts, empty series, one-point series and all-equal values render with a
// padded domain, never divide by zero. Every text (titles, labels, legend, category names)
// is XML-escaped. Output is deterministic for the same input (numbers printed with fixed
// precision), so reports diff cleanly.
//
// Pure functions, no global state; any thread. Limits: at most max_series series and
// max_points points per series are drawn (the rest are ignored), so a bad caller cannot
// produce an unbounded file.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::bench::plot {

inline constexpr size_t max_series = 16;
inline constexpr size_t max_points = 4096;
inline constexpr size_t max_categories = 256;
inline constexpr double chart_width = 760;
inline constexpr double chart_height = 440;

struct series {
    std::string name;
    std::vector<double> x;
    std::vector<double> y; // y[i] pairs with x[i]; extra values on either side are ignored
};

struct reference_line {
    double y = 1;
    std::string label; // shown in the legend beside a dashed sample
};

struct line_chart {
    std::string title;
    std::string x_label;
    std::string y_label;
    bool log_x = false;
    bool log_y = false;
    bool y_from_zero = true; // linear y axis starts at 0 when all values are positive
    std::vector<series> lines;
    std::optional<reference_line> reference;
};

struct bar_series {
    std::string name;
    std::vector<double> values; // one per category; NaN: no bar in that group
};

struct bar_chart {
    std::string title;
    std::string y_label;
    std::vector<std::string> categories;
    std::vector<bar_series> bars;
    bool log_y = false; // bars grow from the bottom of a log10 axis; values <= 0 are skipped
    std::optional<reference_line> reference;
};

[[nodiscard]] std::string render(const line_chart& chart);
[[nodiscard]] std::string render(const bar_chart& chart);

// Exposed for tests and for the report's own text.

// &, <, >, " and ' as entities; control characters other than tab/newline dropped (not
// allowed in XML 1.0).
[[nodiscard]] std::string xml_escape(std::string_view text);

// A short human form: 1234567 -> "1.23M", 0.0025 -> "0.0025", 12 -> "12".
[[nodiscard]] std::string format_number(double value);

// "Nice" tick positions (1, 2, 2.5, 5 x 10^k steps) covering [lo, hi], about `target` of them.
// lo > hi is swapped; lo == hi or non-finite bounds give a small default set.
[[nodiscard]] std::vector<double> linear_ticks(double lo, double hi, size_t target = 6);

// Powers of ten covering [lo, hi] (lo, hi > 0), plus 2 and 5 multiples when the span is under
// two decades; non-positive or non-finite bounds give {1, 10}.
[[nodiscard]] std::vector<double> log_ticks(double lo, double hi);

// Maps [domain_lo, domain_hi] to [range_lo, range_hi], linearly or in log10; a zero-width
// domain maps everything to the middle of the range.
struct scale {
    double domain_lo = 0;
    double domain_hi = 1;
    double range_lo = 0;
    double range_hi = 1;
    bool log = false;
    [[nodiscard]] double operator()(double value) const;
};

} // namespace ainet::bench::plot
