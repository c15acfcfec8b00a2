#pragma once
// Output helpers shared by every ainetctl command that talks to a node (status, peers,
// registry, send, recv, metrics): one text table printer, one HTTP client factory and one
// "GET and parse JSON" step, so the commands print and fail the same way.
//
// Tables: `aligned` prints the header and pads the columns (numeric columns right-aligned);
// otherwise each row is printed with single spaces and no header, the stable form scripts
// read with `read`/`awk`. Views (status, peers, metrics) always print aligned; record lists
// (registry list, recv) print aligned only on a terminal, so pipes keep their old line format.
// `--json` is the form meant for scripts everywhere.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ainet::ctl {

class table {
public:
    explicit table(std::vector<std::string> header = {});
    void row(std::vector<std::string> cells);
    [[nodiscard]] size_t row_count() const noexcept { return m_rows.size(); }
    void print(std::ostream& out, bool aligned) const;

private:
    std::vector<std::string> m_header;
    std::vector<std::vector<std::string>> m_rows;
};

[[nodiscard]] bool stdout_is_terminal() noexcept;

// A client for the node's HTTP control address "IP:PORT" (IPv6 as "[::1]:PORT"); nullptr after
// printing why when the address does not parse. read_timeout_s bounds each answer.
[[nodiscard]] std::unique_ptr<httplib::Client> node_client(const std::string& command,
                                                           const std::string& address,
                                                           time_t read_timeout_s = 10);

// GET path and parse the JSON answer; nullopt after printing "ainetctl COMMAND: ..." to stderr
// when the request fails, the status is not 200 or the body is not JSON. raw gets the body.
[[nodiscard]] std::optional<nlohmann::json> get_json(httplib::Client& client,
                                                     const std::string& command,
                                                     const std::string& path,
                                                     std::string* raw = nullptr);

// Why a request to a node failed, in words an operator can act on.
[[nodiscard]] std::string describe(httplib::Error error);

// "3d04h05m06s" style for seconds.
[[nodiscard]] std::string human_duration(uint64_t seconds);

} // namespace ainet::ctl
