#include "table.hpp"

#include <ainet/core/endpoint.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>

namespace ainet::ctl {

namespace {

bool numeric(const std::string& s) {
    if (s.empty() || s == "-")
        return s == "-";
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size())
        return false;
    for (; i < s.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.')
            return false;
    return true;
}

} // namespace

table::table(std::vector<std::string> header) : m_header(std::move(header)) {}

void table::row(std::vector<std::string> cells) { m_rows.push_back(std::move(cells)); }

void table::print(std::ostream& out, bool aligned) const {
    if (!aligned) {
        for (const auto& r : m_rows) {
            for (size_t i = 0; i < r.size(); ++i)
                out << (i == 0 ? "" : " ") << r[i];
            out << '\n';
        }
        return;
    }
    size_t columns = m_header.size();
    for (const auto& r : m_rows)
        columns = std::max(columns, r.size());
    std::vector<size_t> width(columns, 0);
    std::vector<bool> right(columns, true);
    auto measure = [&](const std::vector<std::string>& r, bool header) {
        for (size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
            if (!header && !numeric(r[i]))
                right[i] = false;
        }
    };
    if (!m_header.empty())
        measure(m_header, true);
    for (const auto& r : m_rows)
        measure(r, false);
    auto emit = [&](const std::vector<std::string>& r) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            const bool last = i + 1 == r.size();
            const size_t pad = width[i] - r[i].size();
            if (i != 0)
                line += "  ";
            if (right[i])
                line.append(pad, ' ');
            line += r[i];
            if (!right[i] && !last)
                line.append(pad, ' ');
        }
        out << line << '\n';
    };
    if (!m_header.empty())
        emit(m_header);
    for (const auto& r : m_rows)
        emit(r);
}

bool stdout_is_terminal() noexcept { return ::isatty(STDOUT_FILENO) == 1; }

std::unique_ptr<httplib::Client> node_client(const std::string& command,
                                             const std::string& address, time_t read_timeout_s) {
    auto at = parse_endpoint(address);
    if (!at) {
        std::cerr << "ainetctl " << command << ": " << address
                  << ": not a node address (IP:PORT)\n";
        return nullptr;
    }
    std::string host = to_string(*at);
    host = host.substr(0, host.rfind(':'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    auto client = std::make_unique<httplib::Client>(host, at->port);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(read_timeout_s, 0);
    return client;
}

std::optional<nlohmann::json> get_json(httplib::Client& client, const std::string& command,
                                       const std::string& path, std::string* raw) {
    auto response = client.Get(path);
    if (!response) {
        std::cerr << "ainetctl " << command << ": GET " << path << ": "
                  << describe(response.error()) << '\n';
        return std::nullopt;
    }
    auto j = nlohmann::json::parse(response->body, nullptr, false);
    if (response->status != 200) {
        std::cerr << "ainetctl " << command << ": GET " << path << ": HTTP " << response->status
                  << ": "
                  << (j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : response->body)
                  << '\n';
        return std::nullopt;
    }
    if (j.is_discarded()) {
        std::cerr << "ainetctl " << command << ": GET " << path << ": the answer is not JSON\n";
        return std::nullopt;
    }
    if (raw != nullptr)
        *raw = std::move(response->body);
    return j;
}

std::string describe(httplib::Error error) {
    switch (error) {
    case httplib::Error::Connection:
        return "cannot connect (is the node running, and is this its http_listen address?)";
    case httplib::Error::ConnectionTimeout:
        return "connect timed out";
    case httplib::Error::Read:
        return "no answer in time (or the node closed the connection)";
    default:
        return httplib::to_string(error);
    }
}

std::string human_duration(uint64_t seconds) {
    const uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
                   s = seconds % 60;
    std::string out;
    char part[32];
    if (d != 0) {
        std::snprintf(part, sizeof part, "%llud", static_cast<unsigned long long>(d));
        out += part;
    }
    if (d != 0 || h != 0) {
        std::snprintf(part, sizeof part, d != 0 ? "%02lluh" : "%lluh", static_cast<unsigned long long>(h));
        out += part;
    }
    if (d != 0 || h != 0 || m != 0) {
        std::snprintf(part, sizeof part, out.empty() ? "%llum" : "%02llum", static_cast<unsigned long long>(m));
        out += part;
    }
    std::snprintf(part, sizeof part, out.empty() ? "%llus" : "%02llus", static_cast<unsigned long long>(s));
    return out + part;
}

} // namespace ainet::ctl
